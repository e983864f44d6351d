#!/usr/bin/env bash
# Kill-and-read torture run of the txdir CLI, scripted from outside the test
# suite (bash, coreutils, util-linux, git; see docs/durability.md,
# "Kill-and-read run").
#
#   bash scripts/killread.sh [--seconds S] [--txdir PATH] [--dir WORKDIR]
#
# Repository A: writers of every kind (publish, exec, db set, rollback,
# gc --keep 3, gc --keep 3 --prune-history) run in loops while a killer
# SIGKILLs the txdir processes at random moments, and readers of three kinds
# check every byte of every file of the generation they read.
# Repository B: only transactions (exec counter increments, db set of one
# record per worker), killed the same way; at the end no acknowledged update
# may be missing.
# Then recover, fsck, git fsck --strict and a count of leftover files, and one
# summary. Exit 0: every check held; 1: a torn or wrong read, a lost update,
# a leftover, a failed recover or fsck; 3: no invariant broken but an
# unexpected txdir error, a failed read or a hung process.
set -u
export LC_ALL=C

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SELF")/.." && pwd)"

# The generations of repository A: 11 files f01..f11, each "token T" and then
# a payload derived from T and the file name, sizes from 0 to 300000 bytes
# (several above 64 KiB), plus meta.sdn (one record: the same token and a
# counter n that `db set` changes).
NAMES=(f01 f02 f03 f04 f05 f06 f07 f08 f09 f10 f11)
SIZES=(0 100 4095 4096 4097 20000 65535 65536 65537 150000 300000)
EXPECTED_LIST="${NAMES[*]} meta.sdn"

write_gen() { # DIR TOKEN N: a complete generation of repository A in DIR
  # (pure bash; the readers derive the bytes independently, with yes | head)
  local d=$1 t=$2 n=$3 i s
  for i in "${!NAMES[@]}"; do
    s="$t ${NAMES[i]}"$'\n'
    while ((${#s} < SIZES[i])); do s+=$s; done
    printf 'token %s\n%s' "$t" "${s:0:SIZES[i]}" >"$d/${NAMES[i]}" || return 1
  done
  printf 'meta |id, token, n|\n    "1", %s, "%s"\n' "$t" "$n" >"$d/meta.sdn"
}

# --- internal entry points (run by txdir exec / txdir run / the readers) ---

if [[ "${1:-}" == --exec-body ]]; then # in repository A's exec stage; $2: a generation made beforehand
  n=$(sed -n '2s/^    "1", [^,]*, "\([0-9]*\)"$/\1/p' "$TXDIR_STAGE/meta.sdn")
  t=$(sed -n '2s/^    "1", \([^,]*\), .*/\1/p' "$2/meta.sdn")
  for f in "${NAMES[@]}"; do cp -f "$2/$f" "$TXDIR_STAGE/.$f.new" && mv -f "$TXDIR_STAGE/.$f.new" "$TXDIR_STAGE/$f" || exit 1; done
  printf 'meta |id, token, n|\n    "1", %s, "%s"\n' "$t" "${n:-0}" >"$TXDIR_STAGE/.meta.new" || exit 1
  exec mv -f "$TXDIR_STAGE/.meta.new" "$TXDIR_STAGE/meta.sdn"
fi
if [[ "${1:-}" == --incr-body ]]; then # in repository B's exec stage
  c=$(cat "$TXDIR_STAGE/counter") || exit 1
  printf '%d\n' $((c + 1)) >"$TXDIR_STAGE/.counter.new" || exit 1
  exec mv -f "$TXDIR_STAGE/.counter.new" "$TXDIR_STAGE/counter"
fi

# Checks the generation in the working directory; prints one line:
# ok | retired | torn ... | wrong BYTES ... | fail ...
check_generation() { # MODE CACHE_DIR
  local mode=$1 cache=$2 here t f i sz exp_t n line bad
  here=$(pwd -P 2>/dev/null)
  case "$here" in
    */.txdir/gens/[0-9]*) ;;
    *)
      # flock reader: gc renamed the directory before the pin (retry), as
      # docs/commit_protocol.md says; unpinned: gc removed it
      if [[ $mode == run ]]; then echo "fail run: cwd is not a generation: '$here'"; else echo retired; fi
      return
      ;;
  esac
  retired_now() { # only an unpinned reader may lose its directory
    [[ $mode == unpinned ]] || return 1
    case "$(pwd -P 2>/dev/null)" in */.txdir/gens/[0-9]*) return 1 ;; esac
    return 0
  }
  line=$(ls -A 2>/dev/null | tr '\n' ' ')
  line=${line% }
  if [[ "$line" != "$EXPECTED_LIST" ]]; then
    if retired_now; then echo retired; else echo "wrong 1 listing of $here: '$line'"; fi
    return
  fi
  if ! IFS= read -r line <f01 2>/dev/null; then
    if retired_now; then echo retired; else echo "fail cannot read $here/f01"; fi
    return
  fi
  t=${line#token }
  if [[ ! $t =~ ^[a-z0-9]+$ ]]; then echo "wrong 1 $here/f01: first line '${line:0:80}'"; return; fi
  # fast path: all files in one comparison with what T dictates (built once
  # per token into the reader's cache); per file only on a mismatch
  local exp="$cache/expected.$t"
  if [[ ! -f $exp ]]; then
    rm -f "$cache"/expected.*
    for i in "${!NAMES[@]}"; do printf 'token %s\n' "$t"; yes "$t ${NAMES[i]}" | head -c "${SIZES[i]}"; done >"$exp.tmp"
    mv -f "$exp.tmp" "$exp"
  fi
  if cat "${NAMES[@]}" 2>/dev/null | cmp -s "$exp" -; then
    n=$(sed -n '2s/^    "1", [^,]*, "\([0-9]*\)"$/\1/p' meta.sdn 2>/dev/null)
    if printf 'meta |id, token, n|\n    "1", %s, "%s"\n' "$t" "$n" | cmp -s - meta.sdn 2>/dev/null; then
      echo "ok $t"
      return
    fi
  fi
  bad=""
  for i in "${!NAMES[@]}"; do
    f=${NAMES[i]}
    sz=${SIZES[i]}
    { printf 'token %s\n' "$t"; yes "$t $f" | head -c "$sz"; } | cmp -s - "$f" 2>/dev/null && continue
    if [[ ! -e $f ]] && retired_now; then echo retired; return; fi
    if ! IFS= read -r line <"$f" 2>/dev/null; then
      if retired_now; then echo retired; else echo "fail cannot read $here/$f"; fi
      return
    fi
    exp_t=${line#token }
    if [[ "$line" != "token $t" ]]; then
      bad="torn $here: f01 has token $t, $f has '$line'"
      break
    fi
    n=$({ printf 'token %s\n' "$t"; yes "$t $f" | head -c "$sz"; } | cmp -l - "$f" 2>/dev/null | wc -l)
    exp_t=$(($(stat -c %s "$f" 2>/dev/null || echo 0) - ${#line} - 1 - sz)) # size difference
    bad="wrong $((n + ${exp_t#-})) $here/$f (token $t): $n bytes differ, size off by $exp_t"
    break
  done
  if [[ -z $bad ]]; then
    n=$(sed -n '2s/^    "1", [^,]*, "\([0-9]*\)"$/\1/p' meta.sdn 2>/dev/null)
    if ! printf 'meta |id, token, n|\n    "1", %s, "%s"\n' "$t" "$n" | cmp -s - meta.sdn 2>/dev/null; then
      if [[ ! -e meta.sdn ]] && retired_now; then echo retired; return; fi
      line=$(sed -n 2p meta.sdn 2>/dev/null)
      case "$line" in
        "    \"1\", $t, "*) bad="wrong 1 $here/meta.sdn: '$(head -c 200 meta.sdn | tr '\n' '|')'" ;;
        *) bad="torn $here: f01 has token $t, meta.sdn row is '$line'" ;;
      esac
    fi
  fi
  if [[ -n $bad ]]; then echo "$bad"; else echo "ok $t"; fi
}
if [[ "${1:-}" == --check ]]; then
  check_generation "$2" "$3"
  exit 0
fi

# --- options ---

SECONDS_RUN=60
TXDIR="$ROOT/build-release/tools/txdir"
WORK=""
while (($#)); do
  case "$1" in
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --txdir) TXDIR=$2; shift 2 ;;
    --dir) WORK=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "killread: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $SECONDS_RUN =~ ^[0-9]+$ && $SECONDS_RUN -gt 0 ]] || { echo "killread: --seconds must be a positive integer" >&2; exit 2; }
[[ "$TXDIR" == /* ]] || TXDIR="$PWD/$TXDIR"
[[ -x "$TXDIR" ]] || { echo "killread: no txdir binary at $TXDIR (build it, or pass --txdir)" >&2; exit 2; }
for tool in flock cmp yes git timeout; do
  command -v "$tool" >/dev/null || { echo "killread: $tool not found" >&2; exit 2; }
done
MADE_WORK=0
if [[ -z $WORK ]]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/killread.XXXXXX") || exit 2
  MADE_WORK=1
else
  if [[ -e $WORK && -n "$(ls -A "$WORK" 2>/dev/null)" ]]; then
    echo "killread: $WORK exists and is not empty" >&2
    exit 2
  fi
  mkdir -p "$WORK" || exit 2
fi
WORK=$(cd "$WORK" && pwd -P)
A="$WORK/a"   # every kind of writer, readers
B="$WORK/b"   # transactions only: lost updates
ST="$WORK/state"
mkdir -p "$ST/pids" "$ST/ev" "$ST/err" "$ST/src" || exit 2

RETRY_OPT=()
HAVE_RETRY=0
if "$TXDIR" exec --help 2>&1 | grep -q -- '--retry'; then HAVE_RETRY=1; fi

LOOPS=()
cleanup() {
  local p f
  for p in "${LOOPS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for f in "$ST"/pids/*; do
    [[ -f $f ]] || continue
    p=$(<"$f")
    [[ -n $p ]] && is_txdir "$p" && kill -KILL "$p" 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

is_txdir() { # PID: is it still one of our txdir processes?
  local arg0=""
  IFS= read -r -d '' arg0 <"/proc/$1/cmdline" 2>/dev/null
  [[ "$arg0" == "$TXDIR" ]]
}
ms_sleep() { local s; printf -v s "0.%03d" "$1"; sleep "$s"; }

# --- setup ---

setup_failed() { # WHAT: the run cannot start
  echo "killread summary"
  echo "  txdir:          $TXDIR ($("$TXDIR" --version 2>&1))"
  echo "  user:           $(id -un) (uid $(id -u)); work dir: $WORK"
  echo "  result:         SETUP FAILED: $1:"
  sed 's/^/    /' "$ST/setup.err"
  exit 2
}
"$TXDIR" -q init "$A" 2>"$ST/setup.err" || setup_failed "txdir init $A"
"$TXDIR" -q init "$B" 2>"$ST/setup.err" || setup_failed "txdir init $B"
mkdir -p "$ST/src/init-a" "$ST/src/init-b"
write_gen "$ST/src/init-a" init0 0
"$TXDIR" -q publish "$A" --from "$ST/src/init-a" -m "killread start" 2>"$ST/setup.err" ||
  setup_failed "txdir publish $A (the first generation)"
NB_EXEC=2
NB_DB=2
{
  echo 0 >"$ST/src/init-b/counter"
  printf 'counts |id, n|\n'
  for ((w = 1; w <= NB_DB; w++)); do printf '    "%d", "0"\n' "$w"; done
} >"$ST/src/init-b/tally.sdn"
"$TXDIR" -q publish "$B" --from "$ST/src/init-b" -m "killread start" 2>"$ST/setup.err" ||
  setup_failed "txdir publish $B (the first generation)"

START=$EPOCHSECONDS
END=$((START + SECONDS_RUN))

# One txdir command of writer KIND: started in the background so that the
# killer can find its pid, waited for; prints the exit status.
# Each command gets its own stderr file: a killed exec's program lives on and
# may still write to the one it inherited.
ERRF=""
run_txdir() { # KIND ARGS...
  local kind=$1 pid rc
  shift
  INV=$((${INV:-0} + 1))
  [[ -n $ERRF ]] && rm -f "$ERRF"
  ERRF="$ST/err/$kind.$INV"
  "$TXDIR" "$@" >/dev/null 2>"$ERRF" &
  pid=$!
  echo "$pid" >"$ST/pids/$kind"
  wait "$pid"
  rc=$?
  : >"$ST/pids/$kind"
  return $rc
}
record() { # KIND RC: classify one exit of the command run_txdir ran last
  local kind=$1 rc=$2
  # rollback when the generation one step back is not in the history (the
  # first generation, or pruned by gc --prune-history): exit 3, expected
  if [[ $kind == rollback && $rc == 3 ]] && grep -qE 'no generation (before generation )?[0-9]+ .*\(not found\)' "$ERRF"; then
    echo "3" >>"$ST/ev/w-$kind"
    return
  fi
  echo "$rc" >>"$ST/ev/w-$kind"
  case "$rc" in
    0 | 4 | 5 | 137) ;;
    *)
      { echo "== writer $kind exit $rc at +$((EPOCHSECONDS - START))s"
        cat "$ERRF"; } >>"$ST/fail-$kind"
      ;;
  esac
  if [[ $rc == 0 ]] && grep -qv "again (retry [0-9]* of [0-9]*)" "$ERRF"; then
    { echo "== writer $kind exit 0 with stderr at +$((EPOCHSECONDS - START))s"
      cat "$ERRF"; } >>"$ST/warn-$kind"
  fi
}

writer_a() { # KIND
  local kind=$1 seq=0 rc t src="$ST/src/$1"
  RANDOM=$BASHPID
  mkdir -p "$src"
  while ((EPOCHSECONDS < END)); do
    seq=$((seq + 1))
    t="${kind:0:1}${seq}x$RANDOM"
    case "$kind" in
      publish)
        write_gen "$src" "$t" 0
        run_txdir "$kind" --timeout 5 -q publish "$A" --from "$src" -m "$t"
        rc=$? ;;
      exec) # the files are made before txdir runs, so that the kills land in txdir
        rm -rf "$src.$seq" && mkdir -p "$src.$seq" && write_gen "$src.$seq" "$t" 0
        rm -rf "$src.$((seq - 3))" # a killed exec's program may still be copying from the last ones
        run_txdir "$kind" --timeout 5 -q exec "$A" "${RETRY_OPT[@]}" -m "$t" -- bash "$SELF" --exec-body "$src.$seq"
        rc=$? ;;
      db)
        run_txdir "$kind" --timeout 5 -q db "$A" meta.sdn meta set 1 "n=$seq"
        rc=$? ;;
      rollback)
        run_txdir "$kind" --timeout 5 -q rollback "$A"
        rc=$? ;;
      gc)
        run_txdir "$kind" --timeout 5 -q gc "$A" --keep 3
        rc=$? ;;
      gcprune)
        run_txdir "$kind" --timeout 5 -q gc "$A" --keep 3 --prune-history
        rc=$? ;;
    esac
    record "$kind" "$rc"
    case "$kind" in
      gc | gcprune) ms_sleep $((100 + RANDOM % 200)) ;;
      *) ms_sleep $((RANDOM % 50)) ;;
    esac
  done
}

# Repository B: counter increments. Acknowledged = exit 0; a kill (or any
# other error, reported) leaves one increment in doubt; 4 and 5 are retried.
writer_bexec() { # ID
  local kind="bexec$1" acked=0 doubt=0 rc
  RANDOM=$BASHPID
  while ((EPOCHSECONDS < END)); do
    while :; do
      run_txdir "$kind" --timeout 5 -q exec "$B" "${RETRY_OPT[@]}" -- bash "$SELF" --incr-body
      rc=$?
      record "$kind" "$rc"
      case "$rc" in
        0) acked=$((acked + 1)); break ;;
        4 | 5) ((EPOCHSECONDS < END)) || break ;;
        *) doubt=$((doubt + 1)); break ;; # killed, or an error: may or may not have landed
      esac
    done
    ms_sleep $((RANDOM % 20))
  done
  echo "$acked $doubt" >"$ST/res-$kind"
}
# Repository B: worker ID owns record ID and sets n = 1, 2, 3, ...
writer_bdb() { # ID
  local kind="bdb$1" k=0 last=0 doubts="" rc
  RANDOM=$BASHPID
  while ((EPOCHSECONDS < END)); do
    k=$((k + 1))
    while :; do
      run_txdir "$kind" --timeout 5 -q db "$B" tally.sdn counts set "$1" "n=$k"
      rc=$?
      record "$kind" "$rc"
      case "$rc" in
        0) last=$k; doubts=""; break ;;
        4 | 5) ((EPOCHSECONDS < END)) || break ;;
        *) doubts="$doubts $k"; break ;;
      esac
    done
    ms_sleep $((RANDOM % 20))
  done
  echo "$last $k$doubts" >"$ST/res-$kind"
}

WRITERS_A=(publish exec db rollback gc gcprune)
WRITERS_B=()
for ((w = 1; w <= NB_EXEC; w++)); do WRITERS_B+=("bexec$w"); done
for ((w = 1; w <= NB_DB; w++)); do WRITERS_B+=("bdb$w"); done
ALL_WRITERS=("${WRITERS_A[@]}" "${WRITERS_B[@]}")
for k in "${ALL_WRITERS[@]}"; do : >"$ST/pids/$k"; done

# The killer: a random delay of 0-50 ms, a random writer, SIGKILL to its
# txdir process if it has one running.
killer() {
  local k pid
  RANDOM=$BASHPID
  while ((EPOCHSECONDS < END)); do
    ms_sleep $((RANDOM % 51))
    k=${ALL_WRITERS[RANDOM % ${#ALL_WRITERS[@]}]}
    pid=""
    read -r pid <"$ST/pids/$k"
    [[ -n $pid ]] || continue
    if is_txdir "$pid" && kill -KILL "$pid" 2>/dev/null; then echo "$k" >>"$ST/ev/kills"; fi
  done
}

# Readers. run: `txdir run` pins the live generation; flock: cd -P + flock -s
# + the generation-name check; unpinned: cd -P only (a directory that gc
# removes is "retired", not torn).
reader() { # KIND ID
  local kind=$1 id=$2 out rc nb
  local log="$ST/ev/r-$kind-$id" cache="$ST/cache-$kind-$id"
  mkdir -p "$cache"
  while ((EPOCHSECONDS < END)); do
    case "$kind" in
      run)
        out=$(timeout -s KILL 60 "$TXDIR" run "$A" -- bash "$SELF" --check run "$cache" 2>"$ST/err/r-$kind-$id")
        rc=$? ;;
      flock)
        out=$(cd -P "$A/current" 2>"$ST/err/r-$kind-$id" &&
          timeout -s KILL 60 flock -s . bash "$SELF" --check flock "$cache" 2>>"$ST/err/r-$kind-$id")
        rc=$? ;;
      unpinned)
        out=$(cd -P "$A/current" 2>"$ST/err/r-$kind-$id" &&
          timeout -s KILL 60 bash "$SELF" --check unpinned "$cache" 2>>"$ST/err/r-$kind-$id")
        rc=$? ;;
    esac
    out=${out##*$'\n'}
    case "$out" in
      ok* | retired) echo "${out%% *}" >>"$log" ;;
      torn* | wrong*)
        echo "${out%% *}" >>"$log"
        [[ $out == wrong* ]] && { read -r _ nb _ <<<"$out"; echo "$nb" >>"$ST/ev/wrongbytes"; }
        echo "== reader $kind: $out" >>"$ST/fail-read-$kind-$id" ;;
      *)
        echo failed >>"$log"
        { echo "== reader $kind exit $rc at +$((EPOCHSECONDS - START))s: ${out:-no result}"
          cat "$ST/err/r-$kind-$id"; } >>"$ST/fail-read-$kind-$id" ;;
    esac
  done
}

if ((HAVE_RETRY)); then RETRY_OPT=(--retry 1000); fi
for k in "${WRITERS_A[@]}"; do
  if [[ $k == exec ]] && ((HAVE_RETRY)); then
    (RETRY_OPT=(--retry 5); writer_a "$k") 2>>"$ST/loops.err" &
  else
    writer_a "$k" 2>>"$ST/loops.err" &
  fi
  LOOPS+=($!)
done
for ((w = 1; w <= NB_EXEC; w++)); do writer_bexec "$w" 2>>"$ST/loops.err" & LOOPS+=($!); done
for ((w = 1; w <= NB_DB; w++)); do writer_bdb "$w" 2>>"$ST/loops.err" & LOOPS+=($!); done
READER_KINDS=(run flock unpinned)
for k in "${READER_KINDS[@]}"; do reader "$k" 1 2>>"$ST/loops.err" & LOOPS+=($!); done
killer 2>>"$ST/loops.err" & LOOPS+=($!)

# Every loop stops starting work at END; give the last commands 60 s.
HUNG=0
for p in "${LOOPS[@]}"; do
  while kill -0 "$p" 2>/dev/null && ((EPOCHSECONDS < END + 60)); do sleep 0.2; done
  if kill -0 "$p" 2>/dev/null; then HUNG=$((HUNG + 1)); fi
done
if ((HUNG)); then
  for f in "$ST"/pids/*; do
    p=$(<"$f")
    if [[ -n $p ]] && is_txdir "$p"; then
      { echo "== hung: $(tr '\0' ' ' <"/proc/$p/cmdline")"; } >>"$ST/fail-hung"
    fi
  done
  cleanup
fi
wait 2>/dev/null
LOOPS=() # reaped: their pids are no longer ours
ELAPSED=$((EPOCHSECONDS - START))

# A killed `txdir exec` leaves its program running on its own; let those
# finish (at most 30 s) before the final recovery.
exec_orphans() { # prints how many exec programs of this run still run
  local p n=0 args
  for p in /proc/[0-9]*; do
    mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
    [[ ${args[1]:-} == "$SELF" && ${args[2]:-} == --*-body ]] && n=$((n + 1))
  done
  echo "$n"
}
for ((i = 0; i < 150; i++)); do
  (($(exec_orphans) == 0)) && break
  sleep 0.2
done

# --- final checks ---

BAD=0      # an invariant broke
UNEXP=0    # an unexpected error, a failed read, a hang
count() { # FILE [PATTERN]: lines (matching PATTERN)
  if [[ -f $1 ]]; then
    if [[ -n ${2:-} ]]; then grep -cx -- "$2" "$1"; else wc -l <"$1"; fi
  else echo 0; fi
}

RECOVER=""
FSCK=""
GITFSCK=""
for r in a b; do
  R="$WORK/$r"
  if "$TXDIR" recover "$R" >"$ST/recover-$r.out" 2>&1; then RECOVER+=" $r=ok"
  else RECOVER+=" $r=FAIL($?)"; BAD=1; fi
  if "$TXDIR" fsck "$R" >"$ST/fsck-$r.out" 2>&1; then FSCK+=" $r=clean"
  else FSCK+=" $r=FAIL($?)"; BAD=1; fi
  if git --git-dir="$R/.txdir/store.git" fsck --strict >"$ST/gitfsck-$r.out" 2>&1; then GITFSCK+=" $r=ok"
  else GITFSCK+=" $r=FAIL($?)"; BAD=1; fi
done

leftovers() { # REPO: entries a finished recovery must have removed
  local R=$1 head n=0 g
  n=$((n + $(find "$R/.txdir/tmp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
  # Group commit: every writer has ended, so nothing may still be queued.
  n=$((n + $(find "$R/.txdir/queue" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
  n=$((n + $(find "$R/.txdir/gens" -mindepth 1 -maxdepth 1 -name '.trash-*' 2>/dev/null | wc -l)))
  n=$((n + $(find "$R/.txdir/store.git" -name '*.lock' 2>/dev/null | wc -l)))
  n=$((n + $(find "$R" -mindepth 1 -maxdepth 1 -name '.current.txdir-tmp-*' 2>/dev/null | wc -l)))
  n=$((n + $(find "$R" "$R/.txdir" -mindepth 1 -maxdepth 1 \( -name '.txdir.init-*' -o -name '.config.json.tmp-*' \) 2>/dev/null | wc -l)))
  head=$(git --git-dir="$R/.txdir/store.git" log -1 --format=%B 2>/dev/null | sed -n 's/^Txdir-Generation: //p')
  for g in "$R"/.txdir/gens/*; do
    g=${g##*/}
    [[ $g =~ ^[0-9]+$ && -n $head && $g -gt $head ]] && n=$((n + 1))
  done
  echo "$n"
}
LEFT_A=$(leftovers "$A")
LEFT_B=$(leftovers "$B")
if ((LEFT_A + LEFT_B)); then
  BAD=1
  for R in "$A" "$B"; do
    { echo "== leftovers in $R"
      find "$R/.txdir/tmp" "$R/.txdir/queue" "$R/.txdir/gens" -mindepth 1 -maxdepth 1
      find "$R/.txdir/store.git" -name '*.lock'
      find "$R" -mindepth 1 -maxdepth 1 -name '.current.txdir-tmp-*'; } >>"$ST/fail-leftovers" 2>&1
  done
fi

# Lost updates in B.
COUNTER=$("$TXDIR" cat "$B" counter 2>>"$ST/fail-lost")
TALLY=$("$TXDIR" cat "$B" tally.sdn 2>>"$ST/fail-lost")
ACKED=0
DOUBT=0
for ((w = 1; w <= NB_EXEC; w++)); do
  if [[ -f "$ST/res-bexec$w" ]]; then
    read -r a d <"$ST/res-bexec$w"
    ACKED=$((ACKED + a)); DOUBT=$((DOUBT + d))
  else
    echo "== bexec$w left no result" >>"$ST/fail-lost"; UNEXP=1
  fi
done
LOST=0
PHANTOM=0
if [[ ! $COUNTER =~ ^[0-9]+$ ]]; then
  echo "== counter unreadable: '$COUNTER'" >>"$ST/fail-lost"; LOST=$((LOST + 1))
else
  if ((COUNTER < ACKED)); then
    LOST=$((LOST + ACKED - COUNTER))
    echo "== counter $COUNTER < $ACKED acknowledged increments" >>"$ST/fail-lost"
  fi
  if ((COUNTER > ACKED + DOUBT)); then
    PHANTOM=$((COUNTER - ACKED - DOUBT))
    echo "== counter $COUNTER > $ACKED acknowledged + $DOUBT in doubt" >>"$ST/fail-lost"
  fi
fi
DB_ACKED=0
DB_DOUBT=0
for ((w = 1; w <= NB_DB; w++)); do
  if [[ ! -f "$ST/res-bdb$w" ]]; then
    echo "== bdb$w left no result" >>"$ST/fail-lost"; UNEXP=1; continue
  fi
  read -r last k doubts <"$ST/res-bdb$w"
  DB_ACKED=$((DB_ACKED + $(count "$ST/ev/w-bdb$w" 0)))
  set -- $doubts
  DB_DOUBT=$((DB_DOUBT + $#))
  n=$(printf '%s\n' "$TALLY" | sed -n "s/^    \"$w\", \"\([0-9]*\)\"\$/\1/p")
  ok=0
  if [[ $n =~ ^[0-9]+$ ]]; then
    if ((n == last)); then ok=1; fi
    for d in $doubts; do ((n == d)) && ok=1; done
  fi
  if ((!ok)); then
    if [[ $n =~ ^[0-9]+$ ]] && ((n > last)); then
      PHANTOM=$((PHANTOM + 1))
      echo "== record $w: n=$n, last acknowledged $last, in doubt:${doubts:- none}" >>"$ST/fail-lost"
    else
      LOST=$((LOST + 1))
      echo "== record $w: n='$n' below its last acknowledged value $last (in doubt:${doubts:- none})" >>"$ST/fail-lost"
    fi
  fi
done
((LOST + PHANTOM)) && BAD=1

# --- summary ---

outcomes() { # KIND: "N ok, N conflict, ..."
  local f="$ST/ev/w-$1" s="" c
  local n rc
  s="$(count "$f" 0) ok, $(count "$f" 5) conflict, $(count "$f" 4) lock-timeout, $(count "$f" 137) killed"
  [[ $1 == rollback ]] && s+=", $(count "$f" 3) nothing-to-roll-back"
  while read -r n rc; do
    [[ $1 == rollback && $rc == 3 ]] && continue
    s+=", $n exit $rc"
  done < <(grep -vxE '0|5|4|137' "$f" 2>/dev/null | sort -n | uniq -c)
  echo "$s"
}
TORN=0
WRONG=0
FAILED=0
for f in "$ST"/ev/r-*; do
  [[ -f $f ]] || continue
  TORN=$((TORN + $(count "$f" torn)))
  WRONG=$((WRONG + $(count "$f" wrong)))
  FAILED=$((FAILED + $(count "$f" failed)))
done
WRONG_BYTES=$( [[ -f "$ST/ev/wrongbytes" ]] && awk '{s+=$1} END {print s+0}' "$ST/ev/wrongbytes" || echo 0)
((TORN + WRONG)) && BAD=1
((FAILED)) && UNEXP=1
OTHER=$(cat "$ST"/fail-[a-z]* 2>/dev/null | grep -c '^== writer')
((OTHER)) && UNEXP=1
((HUNG)) && UNEXP=1

echo "killread summary"
echo "  txdir:          $TXDIR ($("$TXDIR" --version 2>&1)); exec --retry: $( ((HAVE_RETRY)) && echo yes || echo 'no (bash retries on exit 5)')"
echo "  user:           $(id -un) (uid $(id -u)); work dir: $WORK"
echo "  seconds:        $SECONDS_RUN requested, $ELAPSED elapsed"
echo "  kills:          $(count "$ST/ev/kills") SIGKILLs sent:$(for k in "${ALL_WRITERS[@]}"; do printf ' %s=%s' "$k" "$(count "$ST/ev/kills" "$k")"; done)"
echo "  writer outcomes:"
for k in "${ALL_WRITERS[@]}"; do printf '    %-9s %s\n' "$k" "$(outcomes "$k")"; done
echo "  reads:"
for k in "${READER_KINDS[@]}"; do
  f="$ST/ev/r-$k-1"
  printf '    %-9s %s reads: %s ok, %s retired (not torn), %s torn, %s wrong, %s failed\n' "$k" \
    "$(count "$f")" "$(count "$f" ok)" "$(count "$f" retired)" "$(count "$f" torn)" "$(count "$f" wrong)" "$(count "$f" failed)"
done
echo "  torn reads:     $TORN"
echo "  wrong bytes:    $WRONG reads, $WRONG_BYTES bytes"
echo "  failed reads:   $FAILED"
echo "  lost updates:   $LOST (counter $COUNTER: $ACKED acknowledged exec increments, $DOUBT in doubt; $NB_DB records: $DB_ACKED acknowledged db sets, $DB_DOUBT in doubt)"
echo "  in-doubt:       $((DOUBT + DB_DOUBT)) updates (killed after they may have committed); beyond acknowledged + in doubt: $PHANTOM"
echo "  leftover files: $((LEFT_A + LEFT_B)) (a=$LEFT_A b=$LEFT_B, after recover)"
echo "  recover:       $RECOVER"
echo "  txdir fsck:    $FSCK"
echo "  git fsck:      $GITFSCK"
echo "  hung:           $HUNG"
echo "  unexpected:     $OTHER writer errors"
if ((BAD + UNEXP)) || compgen -G "$ST/warn-*" >/dev/null; then
  echo "  details:"
  cat "$ST"/fail-* "$ST"/warn-* 2>/dev/null | head -c 20000 | sed 's/^/    /'
fi
STATUS=0
((UNEXP)) && STATUS=3
((BAD)) && STATUS=1
echo "  result:         $(case $STATUS in 0) echo PASS ;; 1) echo 'FAIL (an invariant broke)' ;; 3) echo 'FAIL (unexpected errors)' ;; esac)"
if ((MADE_WORK && STATUS == 0)); then
  chmod -R u+w "$WORK" 2>/dev/null
  rm -rf "$WORK"
fi
exit "$STATUS"
