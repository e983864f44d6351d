#!/bin/sh
# Builds one libFuzzer target with clang (libFuzzer + ASan + UBSan) and runs
# it for a bounded time.
#   run_fuzz.sh TARGET OUT_DIR SECONDS [BUILD_DIR]
# TARGET: sdn_parse | path_check | gen_meta | cli_args. cli_args also needs
# BUILD_DIR, the project's CMake build folder: the command-line parser is
# compiled here with instrumentation, the command tables and the libraries
# below them are linked from BUILD_DIR as built.
# Inputs that once found a bug (the target's regression folder) are always
# replayed first; new inputs found are kept in OUT_DIR/corpus. Exit status
# is libFuzzer's (non-zero on a crash or sanitizer report; the reproducer is
# left in OUT_DIR). The last line printed gives the executions.
set -eu

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 TARGET OUT_DIR SECONDS [BUILD_DIR]" >&2
  exit 2
fi
target=$1
mkdir -p "$2"
# Absolute: a harness may change its working directory (cli_args does).
out=$(cd "$2" && pwd)
seconds=$3
build=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CXX=${CXX:-clang++}
# The objects are the same from run to run: reuse them when ccache is here.
if command -v ccache >/dev/null 2>&1; then CXX="ccache $CXX"; fi

mkdir -p "$out/obj" "$out/corpus"
base="-std=gnu++20 -O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined"
base="$base -fno-sanitize-recover=undefined -I$root -I$root/include -I$root/txn/sdn"
extra_flags=""
link=""
seeds=""
regressions="$here/regressions/$target"
options="-max_len=4096"
case $target in
  sdn_parse)
    harness="$root/tests/sdn/sdn_parse_fuzz.cc"
    sources="txn/sdn/sdn_parse.cc txn/sdn/sdn_row.cc txn/sdn/sdn_edit.cc txn/sdn/sdn_write.cc
             txn/sdn/seal.cc"
    regressions="$root/tests/sdn/fuzz_regressions"
    if [ -d "$root/../shared/fixtures/simple-sdn" ]; then
      mkdir -p "$out/seeds"
      find "$root/../shared/fixtures/simple-sdn" -name '*.sdn' -exec cp {} "$out/seeds/" \;
      seeds="$out/seeds"
    fi
    ;;
  path_check)
    harness="$here/path_check_fuzz.cc"
    sources="txn/src/path_check.cc store/error.cc"
    # Longer than kMaxPathLength, so the bound itself is exercised.
    options="-max_len=4200 -dict=$here/path_check.dict"
    ;;
  gen_meta)
    harness="$here/gen_meta_fuzz.cc"
    sources="store/gen_meta.cc store/error.cc"
    options="-max_len=1024 -dict=$here/gen_meta.dict"
    ;;
  cli_args)
    harness="$here/cli_args_fuzz.cc"
    # The parser and the program's parse step are instrumented; the command
    # tables and everything below them are linked as built (a parse reads
    # the tables and never runs a command).
    sources="tools/cmdline/cmdline.cc tools/txdir/app.cc"
    if [ -z "$build" ] || [ ! -f "$build/tools/libtxdir_cli_app.a" ]; then
      echo "$0: cli_args needs BUILD_DIR with the libraries built (tools/libtxdir_cli_app.a)" >&2
      exit 2
    fi
    # The same definitions the CMake build compiles the CLI with.
    extra_flags="-DTXDIR_TESTING=1 -DCPPHTTPLIB_OPENSSL_SUPPORT"
    extra_flags="$extra_flags -DCPPHTTPLIB_ZLIB_SUPPORT -DCPPHTTPLIB_BROTLI_SUPPORT"
    link="-Wl,--start-group $build/tools/libtxdir_cli_app.a $build/txn/libtxdir.a"
    link="$link $build/store/libtxdir_store.a"
    link="$link $build/txn/sdn/libtxdir_sdn.a"
    [ -f "$build/tools/serve/libtxdir_serve.a" ] && link="$link $build/tools/serve/libtxdir_serve.a"
    if [ -f "$build/store/libtxdir_libgit2_static.a" ]; then
      # libgit2 linked statically, and spdlog and fmt compiled into
      # libtxdir_store.a (store/logging.cc), as CMake builds them
      # (TXDIR_STATIC_DEPS).
      log_libs=""
      git2="$(cat "$build/store/libgit2_wrap_flags.txt") -l:libgit2.a $build/store/libtxdir_libgit2_static.a -l:libmbedtls.a"
      git2="$git2 -l:libmbedx509.a -l:libmbedcrypto.a -l:libhttp_parser.a -l:libssh2.a"
      git2="$git2 -l:libpcre2-8.a -ldl -lrt"
    else
      git2=$(pkg-config --libs libgit2)
      log_libs="-lspdlog -lfmt"
    fi
    link="$link -Wl,--end-group $git2 $log_libs -lz -lcpp-httplib -lcrypto"
    link="$link -lpthread"
    seeds="$here/seeds/cli_args"
    options="-max_len=512 -dict=$here/cli_args.dict"
    ;;
  *)
    echo "$0: unknown target '$target' (sdn_parse, path_check, gen_meta, cli_args)" >&2
    exit 2
    ;;
esac

# The code under test is instrumented for coverage; the fuzzer's main is
# linked once, with the harness.
objs=""
for src in $sources; do
  obj="$out/obj/$(echo "$src" | tr / _).o"
  $CXX $base $extra_flags -fsanitize=fuzzer-no-link -c "$root/$src" -o "$obj"
  objs="$objs $obj"
done
$CXX $base $extra_flags -fsanitize=fuzzer "$harness" $objs $link -o "$out/${target}_fuzz"

dirs=""
[ -d "$regressions" ] && dirs="$regressions"
dirs="$dirs $seeds"
log="$out/fuzz.log"
status=0
(cd "$out" && "./${target}_fuzz" -max_total_time="$seconds" $options -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" $dirs) >"$log" 2>&1 || status=$?
tail -n 20 "$log"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "$target: executions: ${execs:-unknown} in ${seconds}s (log: $log)"
exit $status
