#!/usr/bin/env bash
# Concurrent record updates as scripts make them: W processes, each running
# `txdir db DIR todo_db.sdn todos set ID status=...` once per update, against
# the same updates made through the `sqlite3` command (one process per
# update, WAL, synchronous=FULL), in one run. Every command is a whole
# process, as a shell script or CI job runs it.
#
#   bash tools/bench/db_cli_bench.sh [--txdir PATH] [--writers W] [--updates U]
#                                    [--rounds R] [--dir PARENT]
#
# The table is the Simple tooling's todo_db.sdn fixture (../shared/fixtures),
# else 64 generated records. Writer w updates records w, w+W, w+2W, ... in
# turn, U times in all, so no two writers touch one record. Each round runs
# txdir then sqlite3 on fresh stores under PARENT (default /var/tmp: a real
# disk, since durability is what costs), and checks that every record holds
# its last update in both (none lost). Prints per round and the medians:
#   DB_CLI_BENCH tool=txdir writers=8 updates=56 seconds=... updates_per_s=...
#   DB_CLI_BENCH ratio txdir/sqlite3=... (updates/s, median of R rounds)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
txdir=$root/build-release/tools/txdir
writers=8
updates=7
rounds=3
parent=/var/tmp
while (($#)); do
  case $1 in
    --txdir) txdir=$2; shift 2 ;;
    --writers) writers=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) parent=$2; shift 2 ;;
    *) echo "db_cli_bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -x $txdir ]] || { echo "db_cli_bench: no txdir at $txdir (--txdir PATH)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "db_cli_bench: the sqlite3 command is missing" >&2; exit 2; }
work=$(mktemp -d "$parent/db-cli-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

fixture=$root/../shared/fixtures/simple-sdn/todo/todo_db.sdn
table=$work/todo_db.sdn
if [[ -f $fixture ]]; then
  cp "$fixture" "$table"
else
  { echo "todos |id, status, description|"
    for i in $(seq 0 63); do echo "    $i, open, \"task $i\""; done; } >"$table"
fi
mapfile -t ids < <(awk 'NR > 1 && /^ +[0-9]+,/ { sub(/^ +/, ""); sub(/,.*/, ""); print }' "$table")
total=$((writers * updates))
((${#ids[@]} >= total)) || { echo "db_cli_bench: the table has ${#ids[@]} records, fewer than $total" >&2; exit 2; }

now() { date +%s.%N; }

# Runs the W writer processes with SET (SET ID VALUE makes one update), times
# them, then checks with GET (GET ID prints the value) that every record
# holds its writer's last update. Prints the seconds.
timed_updates() {  # SET GET
  local set=$1 get=$2 w u id start end got
  start=$(now)
  for ((w = 0; w < writers; w++)); do
    (for ((u = 0; u < updates; u++)); do
       "$set" "${ids[$((u * writers + w))]}" "done-$w-$u" || exit 1
     done) &
  done
  wait_all
  end=$(now)
  for ((w = 0; w < writers; w++)); do
    for ((u = 0; u < updates; u++)); do
      id=${ids[$((u * writers + w))]}
      got=$("$get" "$id")
      [[ $got == "done-$w-$u" ]] || { echo "$set lost an update: record $id is '$got'" >&2; exit 1; }
    done
  done
  echo "$end - $start" | bc
}

# txdir: a repository whose generation 1 holds the table.
txdir_set() { "$txdir" -q --timeout 60 db "$store/repo" todo_db.sdn todos set "$1" "status=$2"; }
txdir_get() {
  "$txdir" db "$store/repo" todo_db.sdn todos get "$1" --json |
    sed -n 's/.*"status": *"\([^"]*\)".*/\1/p'
}
run_txdir() {  # DIR -> seconds
  store=$1
  "$txdir" -q init "$store/repo" >/dev/null
  mkdir -p "$store/src" && cp "$table" "$store/src/todo_db.sdn"
  "$txdir" -q publish "$store/repo" --from "$store/src" >/dev/null
  timed_updates txdir_set txdir_get
}

sqlite_set() {
  sqlite3 -cmd ".timeout 60000" "$store/db.sqlite" \
    "PRAGMA synchronous=FULL; UPDATE todos SET status='$2' WHERE id=$1;"
}
sqlite_get() { sqlite3 "$store/db.sqlite" "SELECT status FROM todos WHERE id=$1;"; }
run_sqlite() {  # DIR -> seconds
  store=$1
  { echo "PRAGMA journal_mode=WAL;"
    echo "CREATE TABLE todos(id INTEGER PRIMARY KEY, status TEXT);"
    for id in "${ids[@]}"; do echo "INSERT INTO todos VALUES($id, 'open');"; done; } |
    sqlite3 "$store/db.sqlite" >/dev/null
  timed_updates sqlite_set sqlite_get
}

wait_all() {
  local failed=0
  for job in $(jobs -p); do wait "$job" || failed=1; done
  ((failed == 0)) || { echo "db_cli_bench: a writer failed" >&2; exit 1; }
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

t_txdir=() t_sqlite=()
for ((r = 1; r <= rounds; r++)); do
  mkdir -p "$work/$r/txdir" "$work/$r/sqlite"
  a=$(run_txdir "$work/$r/txdir")
  b=$(run_sqlite "$work/$r/sqlite")
  t_txdir+=("$a") t_sqlite+=("$b")
  printf 'DB_CLI_BENCH round=%d tool=txdir writers=%d updates=%d seconds=%.3f updates_per_s=%.1f\n' \
    "$r" "$writers" "$total" "$a" "$(echo "$total / $a" | bc -l)"
  printf 'DB_CLI_BENCH round=%d tool=sqlite3 writers=%d updates=%d seconds=%.3f updates_per_s=%.1f\n' \
    "$r" "$writers" "$total" "$b" "$(echo "$total / $b" | bc -l)"
  generations=$("$txdir" status "$work/$r/txdir/repo" 2>/dev/null | sed -n 's/^committed: *generation \([0-9]*\).*/\1/p')
  [[ -n $generations ]] && echo "DB_CLI_BENCH round=$r txdir_generations=$generations (1 + the groups that committed $total updates)"
  rm -rf "$work/$r"
done
ma=$(printf '%s\n' "${t_txdir[@]}" | median)
mb=$(printf '%s\n' "${t_sqlite[@]}" | median)
printf 'DB_CLI_BENCH median tool=txdir updates_per_s=%.1f\n' "$(echo "$total / $ma" | bc -l)"
printf 'DB_CLI_BENCH median tool=sqlite3 updates_per_s=%.1f\n' "$(echo "$total / $mb" | bc -l)"
printf 'DB_CLI_BENCH ratio txdir/sqlite3=%.2f (updates/s, median of %d rounds)\n' "$(echo "$mb / $ma" | bc -l)" "$rounds"
