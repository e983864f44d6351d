// txn/src/path_check: the one rule set for paths inside a generation.
#include "txn/src/path_check.h"

#include <gtest/gtest.h>

namespace txdir::internal {
namespace {

void ExpectRefused(const std::string& path, const std::string& why) {
  auto s = CheckRelativePath(path);
  ASSERT_FALSE(s) << "accepted: " << Printable(path);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  EXPECT_NE(s.error().message.find(why), std::string::npos)
      << "message '" << s.error().message << "' lacks '" << why << "'";
}

TEST(PathCheckTest, AcceptsOrdinaryRelativePaths) {
  for (const std::string p : {"a", "a.txt", "dir/sub/file.sdn", "with space", ".hidden", "...",
                              "a..b", "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80"}) {
    EXPECT_TRUE(CheckRelativePath(p)) << p;
  }
}

TEST(PathCheckTest, RefusesDotDotAndDot) {
  ExpectRefused("..", "'..' component");
  ExpectRefused("../etc/passwd", "'..' component");
  ExpectRefused("a/../../b", "'..' component");
  ExpectRefused("a/./b", "'.' component");
}

TEST(PathCheckTest, RefusesAbsoluteAndEmpty) {
  ExpectRefused("/etc/passwd", "absolute");
  ExpectRefused("", "empty");
  ExpectRefused("a//b", "empty component");
  ExpectRefused("a/", "empty component");
}

TEST(PathCheckTest, RefusesControlCharacters) {
  ExpectRefused(std::string("a\nb"), "control character");
  ExpectRefused(std::string("a\x01"), "control character");
  ExpectRefused(std::string("dir/\x7f"), "control character");
  ExpectRefused(std::string("a\0b", 3), "control character");
}

TEST(PathCheckTest, RefusesInvalidUtf8) {
  ExpectRefused("\xff", "UTF-8");
  ExpectRefused("a\xc3", "UTF-8");             // truncated sequence
  ExpectRefused("\xc0\xaf", "UTF-8");          // overlong '/'
  ExpectRefused("\xed\xa0\x80", "UTF-8");      // surrogate
  ExpectRefused("\xf4\x90\x80\x80", "UTF-8");  // beyond U+10FFFF
  ExpectRefused("ok/\x80start", "UTF-8");      // stray continuation byte
}

TEST(PathCheckTest, RefusesTooLongNamesAndPaths) {
  EXPECT_TRUE(CheckRelativePath(std::string(kMaxNameLength, 'n')));
  ExpectRefused(std::string(kMaxNameLength + 1, 'n'), "longer than 255");
  std::string long_path;
  while (long_path.size() <= kMaxPathLength) long_path += std::string(100, 'x') + "/";
  long_path += "f";
  ExpectRefused(long_path, "longer than 4096");
}

TEST(PathCheckTest, RefusesTooDeep) {
  std::string ok, deep;
  for (size_t i = 0; i < kMaxDepth; ++i) ok += (i ? "/" : "") + std::string("d");
  EXPECT_TRUE(CheckRelativePath(ok));
  deep = ok + "/d";
  ExpectRefused(deep, "deeper than 64");
}

TEST(PathCheckTest, MessageNamesThePathWithControlBytesEscaped) {
  auto s = CheckRelativePath("dir/bad\x01name");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().path, "dir/bad\\x01name");
  EXPECT_NE(s.error().ToString().find("dir/bad\\x01name"), std::string::npos);
}

TEST(PathCheckTest, CheckNameRefusesSlash) {
  auto s = CheckName("a/b", "a/b");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(CheckName("plain", "plain"));
}

TEST(PathCheckTest, PrintableEscapesControlBytesAndKeepsUtf8) {
  EXPECT_EQ(Printable("a\tb\x7f"), "a\\x09b\\x7f");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(PathCheckTest, PrintableEscapesBytesThatAreNotUtf8) {
  // A message quoting an untrusted name is always valid UTF-8.
  EXPECT_EQ(Printable("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(Printable("a\xc0\xaf"
                      "b"),
            "a\\xc0\\xafb");                                // overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(Printable("\xe6\x97"), "\\xe6\\x97");           // cut short
  EXPECT_EQ(Printable("\xe6\x97\xa5\xf0\x9f\x98\x80"), "\xe6\x97\xa5\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace txdir::internal
