// Which repositories txdir trusts (docs/security.md): the shape of the
// metadata folder, which is never followed through a symbolic link, and
// whose repositories this process may write to or run hooks from.
#pragma once

#include <string>

#include "txdir/env.h"
#include "txn/src/layout.h"

namespace txdir::internal {

// Names repositories (colon-separated absolute paths, or `*` for all) that
// this process may write to although another user owns them.
inline constexpr const char* kSafeDirectoriesVar = "TXDIR_SAFE_DIRECTORIES";

// Every part of .txdir exists with its expected type: .txdir, store.git,
// gens and tmp directories, lock and config.json regular files, none of them
// a symbolic link. NotFound when there is no .txdir; Corruption naming the
// part otherwise. Run once when a repository is opened; the opens that act
// on these parts afterwards use OpenMetaDir or O_NOFOLLOW, so a link swapped
// in after the check fails them instead of redirecting them.
Status CheckMetaFolder(Env* env, const Layout& l);

// The NotFound error for a root without a .txdir folder, with a hint when
// the path is a repository's live link or a generation, or is inside its
// metadata folder: it names the repository's root to use instead.
Error NotARepository(Env* env, const Layout& l);

// Opens .txdir (part "") or the directory .txdir/<part> through the root's
// fd with O_NOFOLLOW|O_DIRECTORY at .txdir and at the part: what is removed
// through the fd is inside the repository. Corruption naming the part when
// either is a symbolic link.
Result<Fd> OpenMetaDir(Env* env, const Layout& l, const std::string& part);

// Opens the directory that holds the live link. When the live path is
// inside the root, every component below the root is opened with
// O_NOFOLLOW, so a symbolic link there cannot move the live link (and what
// it replaces) outside the repository.
Result<Fd> OpenLiveDir(Env* env, const Layout& l);

// A value for config.json's live_path (docs/security.md): a relative path
// of plain components (no `.`, `..` or empty ones) whose first component is
// not .txdir, or a normalized absolute path (written by `init --live` for a
// live link outside the root). InvalidArgument saying which rule failed.
Status CheckLivePathValue(const std::string& live_path);

// May this process change the repository, or run its hooks? Yes when the
// root and .txdir are owned by the effective user, or the root is named in
// TXDIR_SAFE_DIRECTORIES. InvalidArgument naming the owner and the opt-in
// otherwise; `what` says what was refused ("write to", "run the hook of").
Status CheckWriteTrust(Env* env, const Layout& l, const std::string& what);

}  // namespace txdir::internal
