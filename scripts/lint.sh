#!/usr/bin/env bash
# Static analysis gate (docs/testing.md): clang-tidy with the checked-in
# .clang-tidy and cppcheck, over the project's own sources (store/, txn/,
# tools/), both at zero findings. Exits non-zero when either reports anything.
#   bash scripts/lint.sh [BUILD_DIR]
# BUILD_DIR (default build/) must be configured: its compile_commands.json
# gives each file's flags. Tests are not linted: they are ~40% of the
# translation units (each pulling in all of GoogleTest, the slowest to
# analyse), and they run under ASan+UBSan and TSan in every CI run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
jobs=${JOBS:-2}
db="$build/compile_commands.json"
[[ -f "$db" ]] || { echo "lint: $db missing: configure $build first" >&2; exit 2; }

# The project's own translation units, as the compilation database names them.
# CMake writes one `"file": "..."` line per entry.
mapfile -t files < <(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" |
  grep -E "^$PWD/(store|txn|tools)/" | sort -u)
echo "lint: ${#files[@]} translation units in store/ txn/ tools/"
status=0

out="$build/lint"
rm -rf "$out" && mkdir -p "$out"

# clang-tidy, one process per file, in parallel; findings are collected per
# file so parallel output does not interleave.
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -I{} sh -c 'clang-tidy --quiet -p "$1" "$2" > "$3/tidy.$(echo "$2" | tr / _).log" 2>&1 || true' \
    sh "$build" {} "$out"
tidy=$(cat "$out"/tidy.*.log | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | sort -u)
tidy_count=0
[[ -n "$tidy" ]] && tidy_count=$(wc -l <<<"$tidy")
if ((tidy_count > 0)); then
  cat "$out"/tidy.*.log | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$'
  status=1
fi
echo "lint: clang-tidy: $tidy_count finding(s)"

# cppcheck: warning, performance and portability checks. Every --suppress
# below says why.
cppcheck_args=(
  --project="$db"
  --file-filter='store/*' --file-filter='txn/*' --file-filter='tools/*'
  --enable=warning,performance,portability --std=c++20 --inline-suppr
  -j "$jobs" --quiet --error-exitcode=1
  --template='{file}:{line}: {severity}: {message} [{id}]'
)
cppcheck "${cppcheck_args[@]}" 2>"$out/cppcheck.log"
cpp_status=$?
cpp_count=$(grep -cE '^[^ ]+:[0-9]+: ' "$out/cppcheck.log")
cat "$out/cppcheck.log"
if ((cpp_status != 0 || cpp_count > 0)); then status=1; fi
echo "lint: cppcheck: $cpp_count finding(s)"
exit "$status"
