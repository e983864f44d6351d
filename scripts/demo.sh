#!/usr/bin/env bash
# The txdir demo: publishes the sample Simple dashboard (11 SDN tables) twice,
# shows the history and status, rolls back and shows the result.
#   bash scripts/demo.sh [BUILD_DIR]     (default build-release, else build)
# Runs in a fresh temporary directory, removed at the end (KEEP=1 keeps it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BUILD="${1:-}"
if [[ -z "$BUILD" ]]; then
  for b in build-release build; do
    [[ -x "$ROOT/$b/tools/txdir" ]] && { BUILD="$b"; break; }
  done
fi
[[ "$BUILD" == /* ]] || BUILD="$ROOT/${BUILD:-build-release}"
for bin in tools/txdir tools/sample_dashboard/txdir-sample-dashboard; do
  if [[ ! -x "$BUILD/$bin" ]]; then
    echo "demo: $BUILD/$bin not found; build first (bash scripts/quickstart.sh)" >&2
    exit 1
  fi
done
export PATH="$BUILD/tools:$BUILD/tools/sample_dashboard:$PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/txdir-demo.XXXXXX")"
cleanup() {
  if [[ -n "${KEEP:-}" ]]; then
    echo "(kept $WORK)"
  else
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
cd "$WORK"

section() { printf '\n========== %s ==========\n' "$*"; }
# Echo a command as a reader would type it (quoting arguments that need it), then run it.
show() {
  local out="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@+,-]+$ ]]; then out+="$a "; else out+="'$a' "; fi
  done
  printf '$ %s\n' "${out% }"
}
run() { show "$@"; "$@"; }

section "txdir demo in $WORK"
echo "dash/      the transactional directory (its live view is dash/current)"
echo "tables/    where the dashboard generator writes its 11 SDN tables"

section "1. Create the transactional directory"
run txdir init dash

section "2. Generate the dashboard (run 1) and publish it as generation 1"
run txdir-sample-dashboard tables --run 1
run txdir publish dash --from tables -m "dashboard run 1"
run ls -l dash/current/

section "3. The next dashboard run changes the tables; publish generation 2"
run txdir-sample-dashboard tables --run 2
run txdir publish dash --from tables -m "dashboard run 2: nightly refresh"

section "4. History and status"
run txdir log dash
run txdir status dash

section "5. What generation 2 holds"
run txdir show dash 2

section "6. A changed file: vcs_state.sdn in generation 2 (live) and in generation 1"
run txdir cat dash vcs_state.sdn
run txdir cat dash vcs_state.sdn --gen 1
echo "\$ diff <(txdir cat dash features.sdn --gen 1) <(txdir cat dash features.sdn) | head -6"
diff <(txdir cat dash features.sdn --gen 1) <(txdir cat dash features.sdn) | head -6 || true

section "7. A plain-file reader: resolve the live link once, then read relative to it"
echo "# cd -P resolves the link once: this shell stays in generation 2's directory"
echo "# even if generation 3 is published meanwhile, so every file it reads matches."
echo '$ (cd -P dash/current && pwd && head -3 test_status.sdn)'
(cd -P dash/current && pwd && head -3 test_status.sdn)

section "8. Roll back: generation 1's files become generation 3"
run txdir rollback dash
run txdir status dash
run txdir log dash -n 1
run txdir cat dash vcs_state.sdn
echo "\$ cmp <(txdir cat dash vcs_state.sdn) <(txdir show dash 1:vcs_state.sdn)"
if cmp <(txdir cat dash vcs_state.sdn) <(txdir show dash 1:vcs_state.sdn); then
  echo "identical: the live files are generation 1's again"
else
  echo "demo: rolled-back file differs from generation 1" >&2
  exit 1
fi

section "9. The directory layout"
run ls -l dash
show find dash -maxdepth 3 -not -path 'dash/.txdir/store.git/*' -not -name '*.sdn'
find dash -maxdepth 3 -not -path 'dash/.txdir/store.git/*' -not -name '*.sdn' | sort
echo "# generation 3 reuses generation 1's files by hard link (same inode, no copy):"
run ls -li dash/.txdir/gens/1/vcs_state.sdn dash/.txdir/gens/3/vcs_state.sdn
echo "# the store is a plain bare git repository, one commit per generation:"
run git --git-dir=dash/.txdir/store.git log --oneline

section "done"
echo "txdir published 2 generations and rolled back to generation 1 as generation 3."
