// A libgit2 object-database backend that writes loose objects through the
// Env, so object writes take part in fault injection and power-loss
// simulation like every other write, and so a generation's objects share one
// durability barrier instead of one directory fsync per object.
//
// Each object: deflate, write to objects/xx/tmp_obj_*, fsync, rename into
// place. The directory entries (new fan-out directories and renames) become
// durable at Sync(), which fsyncs each directory touched since the last
// Sync once. Reading is left to libgit2's own loose and pack backends.
#pragma once

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <set>
#include <string>

#include "store/git_store.h"
#include "txdir/env.h"

namespace txdir::store {

class OdbBackend {
 public:
  // Registers a new backend on `odb` with a priority above libgit2's own,
  // so writes come here. The odb owns the returned object.
  static Result<OdbBackend*> Attach(git_odb* odb, Env* env, const std::string& objects_dir,
                                    const StoreOptions& options);

  Status Sync();

  // Called from the C callback.
  int WriteObject(const git_oid* oid, const void* data, size_t len, git_object_t type);

 private:
  OdbBackend(Env* env, std::string objects_dir, StoreOptions options);
  Status DoWrite(const git_oid* oid, const void* data, size_t len, git_object_t type);

  Env* env_;
  std::string objects_dir_;
  StoreOptions options_;
  std::set<std::string> dirty_dirs_;  // relative to objects_dir_; "" is objects_dir_
};

}  // namespace txdir::store
