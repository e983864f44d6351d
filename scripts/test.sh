#!/usr/bin/env bash
# The CI test run (docs/testing.md); `.ci/run` runs exactly this.
#   bash scripts/test.sh
# Stages, each printing a header and its wall and CPU time:
#   asan-build  build/: failpoints, ASan+UBSan at -O1 -g1
#   asan-test   the suite on that build as root, but for the heavy crash
#               scenarios and the fsync- and single-flush-mode copies of the
#               crash tests (labels mode-fsync, mode-single-flush); any
#               sanitizer report (memory error,
#               leak, undefined behaviour) fails the test
#   user-test   the same on the same build as an ordinary user (txdir-ci,
#               created if missing), so that nothing passes only because
#               root skips permission checks, with the syncfs-mode copies
#               left out instead: each sync mode runs once, under one of
#               the two users; the fuzz runs (in-memory parsers, no files)
#               are not repeated
#   crash-build build-crash/: -O2 -g1 with failpoints, no sanitizer,
#               only what the heavy crash scenarios run
#   package     every public header compiled alone; `cmake --install` of
#               build-crash into a temporary prefix; a project outside
#               txdir (tests/package) built against it with find_package
#               and with pkg-config, and run
#   crash-test  the heavy crash scenarios (power-loss enumeration and strace
#               kills, labels heavy-<mode>): the syncfs and single-flush
#               modes as root, the fsync mode as txdir-ci; then PLAIN_TESTS
#   tsan-build  build-tsan/: TSan at -O1 -g1, only the targets of the threaded
#               tests
#   tsan-test   the tests whose processes run threads (TSAN_TESTS below)
#   lint        scripts/lint.sh: clang-tidy and cppcheck, zero findings
# Run as anyone but root, every part runs as that user.
# Every stage runs even when an earlier one failed, so one run reports
# everything; the script exits non-zero if any stage failed.
# STAGES="asan-build asan-test" runs a subset; JOBS sets the parallelism (2).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=${JOBS:-2}
stages=${STAGES:-asan-build asan-test user-test crash-build package crash-test tsan-build tsan-test lint}

bash scripts/deps.sh || exit 1

# A sanitizer report ends the process with exit code 86, which no txdir
# command uses (tools/txdir/cli.h), so a test that expects a failure cannot
# mistake one for it. Leak reports are on; lsan.supp lists the leaks outside
# our code that LeakSanitizer may report. handle_sigill: a failed UBSan check
# is a trap instruction (TXDIR_UBSAN_TRAP), which ASan then reports.
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=0:handle_sigill=1"
export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0:exitcode=86"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86"
export TSAN_OPTIONS="halt_on_error=1:exitcode=86:second_deadlock_stack=1:suppressions=$root/scripts/sanitizers/tsan.supp"

# The tests with more than one thread in a process, which is what TSan sees
# (processes it does not): wait (a publisher thread against a reader waiting
# on inotify or polling), store readers on threads of their own, the in-process HTTP server (httplib's worker
# threads reading the store, and against slow clients and a stop), the
# consistency test (a TSan-built `txdir serve` answering concurrent requests
# while a writer process publishes) and the stop test (a TSan-built `txdir
# serve` signalled with requests in flight).
# The other multi-process tests (lock, snapshot, multi-file readers,
# rewrite under readers, concurrent updates) run one thread per process: TSan would add nothing to what ASan already runs.
TSAN_TARGETS=(txdir_cli txdir_history_tests txdir_serve_tests txdir_serve_writer
  txdir_serve_consistency_test txdir_serve_stop_test)
TSAN_TESTS='^(history\.Modes/WaitTest\.|history\.StoreReaderTest\.ReadersOnTheirOwnThreadsAgree$|serve\.ServeHttpTest\.|serve\.ServeLimitsTest\.|serve\.ServeConsistencyTest\.|serve\.Signals/ServeStopTest\.)'

cmake_config() {  # BUILD_DIR SANITIZE [CMAKE_ARGS...]
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTXDIR_TESTING=ON \
    -DTXDIR_SANITIZE="$2" "${@:3}"
}

stage_asan_build() {
  cmake_config build address,undefined && cmake --build build -j "$jobs"
}
ctest_in() {  # BUILD_DIR CTEST_ARGS...
  local dir=$1
  shift
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 900 "$@"
}
stage_asan_test() {
  if [[ $(id -u) -ne 0 ]]; then
    ctest_in build -LE heavy  # no user-test follows: both modes run here
    return
  fi
  ctest_in build -LE 'heavy|mode-fsync|mode-single-flush'
}

# The unprivileged runs. The user owns the build folder (ctest and the fuzz
# targets write there) and a temporary folder of its own; the folders above
# the checkout get search permission (o+x) if they lack it, nothing more.
CI_USER=txdir-ci
as_ci_user() {  # BUILD_DIR CTEST_ARGS...
  local dir=$1
  shift
  if [[ $(id -u) -ne 0 ]]; then
    ctest_in "$dir" "$@"
    return
  fi
  id "$CI_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$CI_USER" || return 1
  local d=$root
  while [[ "$d" != / ]]; do
    if ! runuser -u "$CI_USER" -- test -x "$d"; then
      echo "giving $d search permission (o+x) so $CI_USER can reach the build"
      chmod o+x "$d" || return 1
    fi
    d=$(dirname "$d")
  done
  chown -R "$CI_USER:" "$dir" || return 1
  local tmp
  tmp=$(mktemp -d /tmp/txdir-user-test.XXXXXX) && chown "$CI_USER:" "$tmp" || return 1
  local home
  home=$(getent passwd "$CI_USER" | cut -d: -f6)
  runuser -u "$CI_USER" -- env HOME="$home" USER="$CI_USER" LOGNAME="$CI_USER" TMPDIR="$tmp" \
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 900 "$@"
  local rc=$?
  rm -rf "$tmp"
  chown -R "$(id -u):$(id -g)" "$dir"
  return $rc
}
stage_user_test() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "user-test: running as $(id -un), not root: asan-test was already unprivileged"
    return 0
  fi
  as_ci_user build -LE 'heavy|fuzz|mode-syncfs'
}
# Tests that measure what a sanitizer distorts, so they skip under ASan and
# run in build-crash: a clone's peak memory (ASan's allocator keeps what
# txdir frees).
PLAIN_TESTS='^replication\.HostileRemoteTest\.CloningALargeFileTakesBoundedMemory$'
stage_crash_build() {
  # Line tables only (-g1): a crash's stack still has file:line, and the
  # build takes a third less time than with full debug information.
  cmake_config build-crash "" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" &&
    cmake --build build-crash -j "$jobs" --target txdir_cli txdir_powerloss_test \
      txdir_strace_kill_test txdir_replication_tests
}
stage_package() {
  local prefix out pc_flags rc=0
  prefix=$(mktemp -d) && out=$(mktemp -d) || return 1
  {
    # The header check and every library the install exports (the crash
    # build builds only what its scenarios run).
    cmake --build build-crash -j "$jobs" --target txdir_header_check txdir_simple &&
      cmake --install build-crash --prefix "$prefix" >/dev/null &&
      cmake -S tests/package -B "$out/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
      cmake --build "$out/cmake" &&
      "$out/cmake/txdir_package_user" && "$out/cmake/txdir_package_sdn_user" &&
      "$out/cmake/txdir_package_simple_user" &&
      pc_flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs txdir) &&
      g++ -std=c++20 tests/package/main.cc -o "$out/pc_user" $pc_flags &&
      "$out/pc_user" &&
      "$prefix/bin/txdir" --version
  } || rc=1
  rm -rf "$prefix" "$out"
  return $rc
}
stage_crash_test() {
  local rc=0
  ctest_in build-crash -L 'heavy-syncfs|heavy-single-flush' || rc=1
  as_ci_user build-crash -L heavy-fsync || rc=1
  ctest_in build-crash -R "$PLAIN_TESTS" || rc=1
  return $rc
}
stage_tsan_build() {
  cmake_config build-tsan thread && cmake --build build-tsan -j "$jobs" --target "${TSAN_TARGETS[@]}"
}
stage_tsan_test() {
  ctest --test-dir build-tsan -j "$jobs" --output-on-failure --timeout 900 -R "$TSAN_TESTS"
}
stage_lint() {
  # Only the compilation database is needed: configure if the build did not.
  [[ -f build/compile_commands.json ]] || cmake_config build address,undefined
  bash scripts/lint.sh build
}

failed=()
summary=()
TIMEFORMAT='%0R %0U %0S'
exec 3>&1 4>&2
for stage in $stages; do
  fn="stage_${stage//-/_}"
  if ! declare -F "$fn" >/dev/null; then
    echo "test.sh: unknown stage '$stage'" >&2
    failed+=("$stage")
    continue
  fi
  echo
  echo "==================== stage $stage ===================="
  # The stage's output goes to ours (fds 3, 4); `time` reports into $timing.
  timing=$({ time "$fn" >&3 2>&4 3>&- 4>&-; echo "rc=$?" >&2; } 2>&1)
  rc=${timing##*rc=}
  read -r wall user sys <<<"${timing%%rc=*}"
  if [[ "$rc" != 0 ]]; then
    failed+=("$stage")
    result="FAILED (exit $rc)"
  else
    result="passed"
  fi
  line=$(printf '%-11s %-17s wall %5ss  CPU %5ss (user %ss + sys %ss)' \
    "$stage" "$result" "$wall" "$((user + sys))" "$user" "$sys")
  echo "==================== $line"
  summary+=("$line")
done

echo
echo "==================== summary (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
