// Verification of a materialized generation against the store: the check
// behind `txdir fsck` and the crash tests' invariants.
#include <fcntl.h>

#include <charconv>
#include <map>

#include "store/fs_util.h"
#include "txn/src/repo_impl.h"

namespace txdir {

namespace {

constexpr const char* kContentMismatch =
    "content does not match its recorded hash (edited in place or damaged)";

struct Walker {
  Env* env;
  std::map<std::string, store::TreeFile> expected;
  VerifyReport* report;

  Status Dir(int fd, const std::string& prefix) {
    for (const auto& e : TXDIR_TRY(env->ListDir(fd))) {
      const std::string path = prefix + e.name;
      auto st = TXDIR_TRY(env->StatAt(fd, e.name, false));
      if (S_ISDIR(st.st_mode)) {
        Fd sub = TXDIR_TRY(fs::OpenDir(env, fd, e.name));
        TXDIR_CHECK(Dir(sub.get(), path + "/"));
        continue;
      }
      auto it = expected.find(path);
      if (it == expected.end()) {
        report->issues.push_back({path, "not part of the generation"});
        continue;
      }
      store::TreeFile want = it->second;
      expected.erase(it);
      ++report->files_checked;
      std::string data;
      if (S_ISLNK(st.st_mode)) {
        if (want.mode != 0120000) {
          report->issues.push_back({path, "is a symlink, expected a file"});
          continue;
        }
        data = TXDIR_TRY(env->ReadlinkAt(fd, e.name));
      } else if (S_ISREG(st.st_mode)) {
        if (want.mode == 0120000) {
          report->issues.push_back({path, "is a file, expected a symlink"});
          continue;
        }
        mode_t perms = st.st_mode & 07777;
        mode_t expect = want.mode == 0100755 ? 0555 : 0444;
        // The umask may clear bits; any write bit means it was made writable.
        if ((perms & 0222) != 0 || ((perms & 0111) != 0) != (want.mode == 0100755) ||
            (perms & ~expect) != 0)
          report->issues.push_back({path, "mode changed (is " + ToOctal(perms) + ")"});
        Fd file = TXDIR_TRY(env->OpenAt(fd, e.name, O_RDONLY | O_NOFOLLOW));
        if (static_cast<uint64_t>(st.st_size) > store::kStreamPiece) {
          // Hashed in pieces: a file of any size costs one piece of memory.
          // A length other than the stat's is a changed file, as a mismatch.
          auto got = store::HashBlobStream(
              static_cast<uint64_t>(st.st_size),
              [&](char* buf, size_t n) { return env->Read(file.get(), buf, n); });
          if (!got && got.error().code != Code::kInvalidArgument)
            return tl::unexpected(got.error());
          if (!got || !store::OidEqual(*got, want.oid))
            report->issues.push_back({path, kContentMismatch});
          continue;
        }
        data = TXDIR_TRY(env->ReadAll(file.get()));
      } else {
        report->issues.push_back({path, "is not a regular file or symlink"});
        continue;
      }
      const git_oid got = TXDIR_TRY(store::HashBlob(data));
      if (!store::OidEqual(got, want.oid)) report->issues.push_back({path, kContentMismatch});
    }
    return Ok();
  }

  static std::string ToOctal(mode_t m) {
    char buf[16];  // holds any mode_t in octal
    auto end = std::to_chars(buf, buf + sizeof buf, static_cast<unsigned>(m), 8).ptr;
    std::string s(buf, end);
    return s.size() < 4 ? std::string(4 - s.size(), '0') + s : s;
  }
};

}  // namespace

Result<VerifyReport> Repository::VerifyGeneration(uint64_t number) {
  Impl& r = *impl_;
  git_oid commit = TXDIR_TRY(internal::FindGeneration(r, number));
  git_oid tree = TXDIR_TRY(r.store->CommitTree(commit));
  auto dir = fs::OpenDir(r.env, Env::kCwd, r.layout.GenDir(number));
  if (!dir) {
    if (dir.error().code == Code::kNotFound)
      return MakeError(Code::kNotFound,
                       "generation " + std::to_string(number) + " is not materialized",
                       r.layout.GenDir(number));
    return tl::unexpected(dir.error());
  }
  VerifyReport report;
  report.generation = number;
  Walker w{r.env, {}, &report};
  for (auto& f : TXDIR_TRY(r.store->ListTree(tree))) w.expected.emplace(f.path, f);
  TXDIR_CHECK(w.Dir(dir->get(), ""));
  for (const auto& [path, f] : w.expected) report.issues.push_back({path, "missing"});
  return report;
}

}  // namespace txdir
