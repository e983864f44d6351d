#!/bin/sh
# Builds the SDN parser fuzz target with clang (libFuzzer + ASan + UBSan) and
# runs it for a bounded time. Usage: run_fuzz.sh BUILD_DIR SECONDS
# The corpus starts from the real fixture files when ../shared is present;
# new inputs it finds are kept in BUILD_DIR/corpus. Exit status is libFuzzer's
# (non-zero on a crash or sanitizer report; the reproducer is in BUILD_DIR).
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CXX=${CXX:-clang++}

mkdir -p "$build_dir/obj" "$build_dir/corpus"
flags="-std=gnu++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined"
flags="$flags -fno-sanitize-recover=undefined -I$root/txn/include -I$root/txn/sdn"

# Only the codec: the fuzz target needs nothing else from the library.
objs=""
for src in sdn_scan sdn_parse sdn_write; do
  $CXX $flags -c "$root/txn/sdn/$src.cc" -o "$build_dir/obj/$src.o"
  objs="$objs $build_dir/obj/$src.o"
done
$CXX $flags "$here/sdn_parse_fuzz.cc" $objs -o "$build_dir/sdn_parse_fuzz"

# Inputs that once found a bug are always replayed first.
seeds="$here/fuzz_regressions"
if [ -d "$root/../shared/fixtures/simple-sdn" ]; then
  mkdir -p "$build_dir/seeds"
  find "$root/../shared/fixtures/simple-sdn" -name '*.sdn' -exec cp {} "$build_dir/seeds/" \;
  seeds="$seeds $build_dir/seeds"
fi

log="$build_dir/fuzz.log"
status=0
(cd "$build_dir" && ./sdn_parse_fuzz -max_total_time="$seconds" -max_len=4096 \
  -print_final_stats=1 corpus $seeds) >"$log" 2>&1 || status=$?
tail -n 20 "$log"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "executions: ${execs:-unknown} in ${seconds}s (log: $log)"
exit $status
