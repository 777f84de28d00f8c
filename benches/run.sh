#!/usr/bin/env bash
# The engine against its peer (shared/bench/sql-baseline.sh), in the same run, on the same
# registry files: the peer writes a registry of N elders, loads it into plain tables and times one
# INSERT … SELECT computing service month 2020-07, on PostgreSQL and SQLite. The engine then works
# the same files as a district office would, on SQLite and (when a server is given) PostgreSQL:
#
#   init --start-month 2020-07, import, run --month 2020-07, the month's review (report --month),
#   approve (which prints the review again), export (CSV + pain.001),
#   verify (the exported files), import of 100 changed persons, rerun --dry-run, rerun,
#   reconcile (every transfer answered, 2% failed or returned), verify --ledger, a rerun after
#   the answers (it holds the failed ones again), report --year, status
#
# and prints each command's wall time and peak memory (max RSS) beside the peer's load and month,
# with the ratios issue 11 is judged by: import / peer load, run / peer month, rerun / run.
#
# usage: benches/run.sh [N] [POSTGRES_ADMIN_URL|-]
#   N                   elders (default 1,000,000: a city's month)
#   POSTGRES_ADMIN_URL  where a scratch database may be created (default postgres://postgres@127.0.0.1/postgres);
#                       `-` for SQLite only
set -euo pipefail
n=${1:-1000000}
pg=${2:-postgres://postgres@127.0.0.1/postgres}
here=$(cd "$(dirname "$0")/.." && pwd)
peer="$here/../shared/bench/sql-baseline.sh"
[ -f "$peer" ] || { echo "peer script not found at $peer"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/subsidy"
export USER=${USER:-bench} SUBSIDY_LOG=error

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "== peer: sql-baseline.sh $n"
bash "$peer" "$n" "$work/registry" "$pg" | tee "$work/peer.txt"
peer_value() { sed -n "s/^$1=//p" "$work/peer.txt"; }

# label, then the command: its seconds and peak memory go to stdout and to $work/times.
time_it() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/last.out" 2>"$work/last.err" || {
    echo "$label failed:"; cat "$work/last.out" "$work/last.err"; exit 1; }
  read -r secs rss < "$work/t"
  printf '  %-26s %9s s %8s MiB\n' "$label" "$secs" "$((rss / 1024))"
  echo "$label|$secs|$((rss / 1024))" >> "$work/times"
}
took() { awk -F'|' -v l="$1" '$1 == l {print $2}' "$work/times"; }

# The platform's answers: every transfer of the exported files, 2% failed or returned.
answers() { # out dir, results file
  python3 - "$1" "$2" <<'PY'
import csv, glob, random, sys
random.seed(9)
codes = ["ACCOUNT_CLOSED", "ACCOUNT_INVALID", "NAME_MISMATCH", "ID_MISMATCH", "DECEASED", "OTHER"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["transfer_id", "status", "reason_code"])
    for path in glob.glob(sys.argv[1] + "/*-transfers.csv"):
        for row in list(csv.reader(open(path)))[1:]:
            x = random.random()
            w.writerow([row[0], "failed" if x < 0.01 else "returned" if x < 0.02 else "paid",
                        random.choice(codes) if x < 0.02 else ""])
PY
}

# 100 changed persons: the first 100 living elders of the registry died on 2020-06-20 (a late
# report: July is owed to none of them), in a folder holding only those rows of elders.csv.
changes() { # registry dir, out dir
  mkdir -p "$2"
  python3 - "$1/elders.csv" "$2/elders.csv" <<'PY'
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="") as f, open(dst, "w", newline="") as g:
    r, w = csv.reader(f), csv.writer(g)
    header = next(r); w.writerow(header)
    death, changed = header.index("death_date"), 0
    for row in r:
        if changed < 100 and not row[death] and not row[header.index("hukou_out_date")]:
            row[death] = "2020-06-20"; w.writerow(row); changed += 1
PY
}

engine() { # $1: database URL, $2: label
  local db=$1 l=$2 out="$work/out-$2"
  : > "$work/times"
  echo "== engine on $l (same registry)"
  DATABASE_URL=$db "$bin" init --start-month 2020-07 >/dev/null
  time_it import env DATABASE_URL="$db" "$bin" import "$work/registry"
  time_it "import again (unchanged)" env DATABASE_URL="$db" "$bin" import "$work/registry"
  time_it run env DATABASE_URL="$db" "$bin" run --month 2020-07
  local batch
  batch=$(DATABASE_URL=$db "$bin" --json status | python3 -c 'import json,sys; b=json.load(sys.stdin)["batches"]; print(b[0]["batch_id"]); print("  transfers:", sum(x["transfer_count"] for x in b), file=sys.stderr)')
  time_it "report --month (review)" env DATABASE_URL="$db" "$bin" report --month 2020-07
  time_it "approve (prints review)" env DATABASE_URL="$db" "$bin" approve --batch "$batch" --by bench-reviewer
  time_it export env DATABASE_URL="$db" "$bin" export --batch "$batch" --out "$out" --format pain001
  time_it verify env DATABASE_URL="$db" "$bin" verify --batch "$batch" --dir "$out"
  # Issue 11's correction: the month exported, 100 persons changed, nothing else pending.
  changes "$work/registry" "$work/changes-$l"
  time_it "import 100 changes" env DATABASE_URL="$db" "$bin" import "$work/changes-$l"
  time_it "rerun --dry-run" env DATABASE_URL="$db" "$bin" rerun --month 2020-07 --reason bench --dry-run
  time_it rerun env DATABASE_URL="$db" "$bin" rerun --month 2020-07 --reason "100 late deaths"
  answers "$out" "$work/results-$l.csv"
  time_it reconcile env DATABASE_URL="$db" "$bin" reconcile --file "$work/results-$l.csv"
  time_it "verify --ledger" env DATABASE_URL="$db" "$bin" verify --ledger
  # After the platform's answers every later batch restates what waits (L3: the 2% failed or
  # returned are held again), so a rerun now reads those persons too. (It replaces the correction
  # above, still unapproved: its persons outside the rerun set are carried over.)
  time_it "rerun after reconcile" env DATABASE_URL="$db" "$bin" rerun --month 2020-07 --reason "after the answers"
  time_it "report --year" env DATABASE_URL="$db" "$bin" report --year 2020
  time_it status env DATABASE_URL="$db" "$bin" status
  local load month
  load=$(peer_value "${l}_load_s"); month=$(peer_value "${l}_baseline_s")
  python3 - "$l" "$load" "$month" "$(took import)" "$(took run)" "$(took rerun)" "$work/times" <<'PY'
import sys
l, load, month, imp, run, rerun, times = sys.argv[1], *map(float, sys.argv[2:7]), sys.argv[7]
peak = max(int(line.split("|")[-1]) for line in open(times))
print(f"  {l}: import {imp:.1f} s = {imp / load:.1f}x the peer's load ({load:.1f} s); "
      f"run {run:.1f} s = {run / month:.1f}x the peer's month ({month:.1f} s); "
      f"rerun after 100 changes {rerun:.1f} s = {100 * rerun / run:.1f}% of the run; peak memory {peak} MiB")
PY
}

engine "sqlite://$work/engine.db" sqlite
if [ "$pg" != "-" ]; then
  db="subsidy_bench_$$"
  psql -q "$pg" -c "drop database if exists $db" -c "create database $db" >/dev/null
  engine "${pg%/*}/$db" postgres
  psql -q "$pg" -c "drop database if exists $db with (force)" >/dev/null
fi
echo "(the peer computes one month's payments only: no arrears, exclusions, ledger, files, audit or platform answers)"
