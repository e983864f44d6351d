// File-system helpers shared by the store and the publication layer. All
// calls go through the Env.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "txdir/env.h"

namespace txdir::fs {

Status FsyncDir(Env* env, int dir_fd);
Status FsyncPath(Env* env, const std::string& dir_path);

// Opens a directory (O_DIRECTORY|O_RDONLY).
Result<Fd> OpenDir(Env* env, int dir, const std::string& path);

// mkdir that treats an existing directory as success.
Status EnsureDir(Env* env, int dir, const std::string& name, mode_t mode = 0755);

// Removes `name` under `dir` recursively, making read-only directories
// writable first (published generations are read-only). Missing is Ok.
// Follows no symbolic link: a link is removed, never what it points at.
Status RemoveTree(Env* env, int dir, const std::string& name);

// Removes the directory `name` under `dir` like RemoveTree, unless a reader
// still pins it (holds flock LOCK_SH on it, as a Snapshot does): then it is
// left in place and the result is false. Used for gens/.trash-* directories,
// which a pinned reader may still be inside after a rename moved them out of
// a generation's name. Missing counts as removed (true).
Result<bool> RemoveTreeUnlessPinned(Env* env, int dir, const std::string& name);

// Writes the whole of `data` to a new file `name` (O_EXCL) with `mode`,
// optionally fsyncing it before close.
Status WriteNewFile(Env* env, int dir, const std::string& name, std::string_view data, mode_t mode,
                    bool sync);

// 64 bits from a per-thread generator seeded once from getrandom(2). Not
// for secrets. One seeding per thread: a system call per name would cost
// more than the name. A child made
// by fork() continues its parent's sequence: callers that need names unique
// across processes also use the pid (UniqueName does).
uint64_t RandomU64();

// A name unlikely to collide: "<prefix><pid>-<random hex>".
std::string UniqueName(const std::string& prefix);

std::string JoinPath(const std::string& a, const std::string& b);
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);
// Absolute, normalized (no symlink resolution); relative paths use the cwd.
std::string AbsolutePath(const std::string& path);

}  // namespace txdir::fs
