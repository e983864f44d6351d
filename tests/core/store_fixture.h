// A store of its own in a fresh temporary directory, for the tests of
// store/ (and of what sits on it) that need no repository around it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/git_store.h"
#include "test_util.h"

namespace txdir::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::GitStore::Init(Env::Default(), git_dir_);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }

  // Writes `content` as a blob; a test failure (and a zero id) if it cannot.
  git_oid Write(const std::string& content) {
    auto oid = store_->WriteBlob(content);
    EXPECT_TRUE(oid) << oid.error().ToString();
    return oid ? *oid : git_oid{};
  }

  // The file of the loose object `oid`.
  std::string LoosePath(const git_oid& oid) const {
    const std::string hex = store::OidHex(oid);
    return git_dir_ + "/objects/" + hex.substr(0, 2) + "/" + hex.substr(2);
  }

  TempDir tmp_;
  std::string git_dir_ = tmp_ / "store.git";
  std::unique_ptr<store::GitStore> store_;
};

}  // namespace txdir::testing
