// Validation of paths inside a generation. One rule set for every entry
// point (publish, cat, snapshot reads, transactions) so they agree.
#pragma once

#include <string>

#include "txdir/error.h"

namespace txdir::internal {

inline constexpr size_t kMaxPathLength = 4096;  // bytes, whole relative path
inline constexpr size_t kMaxDepth = 64;         // directory levels
inline constexpr size_t kMaxNameLength = 255;   // NAME_MAX

// A relative path: '/'-separated components, none empty, ".", or "..";
// not absolute; no control characters; valid UTF-8; within the bounds
// above; no component that is a spelling of ".git" (IsDotGit).
// InvalidArgument naming the path and the rule otherwise.
Status CheckRelativePath(const std::string& path);
// A single component under the same rules.
Status CheckName(const std::string& name, const std::string& for_path);

// True when `name` is, for git or for some file system a generation may be
// copied to, the name ".git": in any case, with trailing dots or spaces or
// an NTFS stream suffix (".git.", ".GIT ", ".git::$INDEX_ALLOCATION"), the
// NTFS short name "git~1", or with code points HFS+ ignores inside
// (".g\u200cit"). The checks of git's own fsck (is_hfs_dotgit,
// is_ntfs_dotgit). A ".git" folder in a generation would make `current/`
// (or a checkout) a git working tree whose config, hooks and fsmonitor
// the generation's author controls.
bool IsDotGit(const std::string& name);
// True when `name` is, in the same spellings, a file git reads from the
// working tree (.gitmodules, .gitattributes, .gitignore, .mailmap): git
// refuses such names as symlinks, since it would follow them outside.
bool IsGitControlFile(const std::string& name);

// A symlink of a generation at `path` (already checked) pointing at
// `target`: the target is not empty, has no NUL, is at most
// kMaxPathLength bytes, and is relative and stays inside the generation
// when joined to the link's folder ("a/l" -> "../b" is fine, "l" ->
// "../b" or "/etc" are not) unless `allow_outside` (publish
// --symlinks=keep); the link is not a git control file. InvalidArgument
// naming the link and the target otherwise.
Status CheckLinkTarget(const std::string& path, const std::string& target, bool allow_outside);
// The lexical part of the rule above: does `target`, followed from the
// folder of `path`, leave the root?
bool LinkEscapes(const std::string& path, const std::string& target);

// Printable form of an untrusted path for messages (control bytes escaped).
std::string Printable(const std::string& s);

}  // namespace txdir::internal
