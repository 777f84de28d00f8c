#!/usr/bin/env bash
# The engine against its peer (shared/bench/sql-baseline.sh), in the same run, on the same
# registry files: the peer writes a registry of N elders and times one INSERT … SELECT computing
# service month 2020-07 on PostgreSQL and SQLite; the engine imports the same files and runs the
# same month (`init --start-month 2020-07`, `import`, `run --month 2020-07`), on SQLite and, when
# a PostgreSQL server is given, on PostgreSQL. Prints the figures side by side.
#
# usage: benches/run.sh [N] [POSTGRES_ADMIN_URL|-]
#   N                   elders (default 310000, Xicheng's 60+ population)
#   POSTGRES_ADMIN_URL  where a scratch database may be created (default postgres://postgres@127.0.0.1/postgres)
set -euo pipefail
n=${1:-310000}
pg=${2:-postgres://postgres@127.0.0.1/postgres}
here=$(cd "$(dirname "$0")/.." && pwd)
peer="$here/../shared/bench/sql-baseline.sh"
[ -f "$peer" ] || { echo "peer script not found at $peer"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/subsidy"

echo "== peer: sql-baseline.sh $n"
bash "$peer" "$n" "$work/registry" "$pg" | tee "$work/peer.txt"

time_it() { # label, then the command; prints seconds and max RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
  read -r secs rss < "$work/t"
  printf '%-28s %8s s  %8s MB\n' "$label" "$secs" "$((rss / 1024))"
}

engine() { # $1: database URL, $2: label
  SUBSIDY_LOG=error DATABASE_URL=$1 "$bin" init --start-month 2020-07 --by bench >/dev/null
  time_it "$2 import" env DATABASE_URL="$1" "$bin" import "$work/registry" --by bench
  time_it "$2 run 2020-07" env DATABASE_URL="$1" "$bin" run --month 2020-07 --by bench
  DATABASE_URL=$1 "$bin" status --json | python3 -c 'import json,sys; b=json.load(sys.stdin)["batches"]; print("  transfers:", sum(x["transfer_count"] for x in b))'
  # The platform's answers (issue 9): every batch approved and exported with pain.001, a result
  # file answering every transfer (2% failed or returned, each reason), reconciled, the ledger
  # checked.
  local out="$work/out-$2"
  for b in $(DATABASE_URL=$1 "$bin" status --json | python3 -c 'import json,sys; print(" ".join(x["batch_id"] for x in json.load(sys.stdin)["batches"]))'); do
    DATABASE_URL=$1 "$bin" approve --batch "$b" --by bench-reviewer >/dev/null
    time_it "$2 export $b" env DATABASE_URL="$1" SUBSIDY_LOG=error "$bin" export --batch "$b" --out "$out" --format pain001 --by bench
  done
  python3 - "$out" "$work/results-$2.csv" <<'PY'
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
  time_it "$2 reconcile" env DATABASE_URL="$1" "$bin" reconcile --file "$work/results-$2.csv" --by bench
  time_it "$2 verify --ledger" env DATABASE_URL="$1" "$bin" verify --ledger
  time_it "$2 status" env DATABASE_URL="$1" "$bin" status
}

echo "== engine (same registry)"
engine "sqlite://$work/engine.db" "sqlite"
if [ "$pg" != "-" ]; then
  db="subsidy_bench_$$"
  psql -q "$pg" -c "drop database if exists $db" -c "create database $db" >/dev/null
  base=${pg%/*}
  engine "$base/$db" "postgres"
  psql -q "$pg" -c "drop database if exists $db with (force)" >/dev/null
fi
echo "(the peer computes one month's payments only: no arrears, exclusions, ledger, files, audit or platform answers)"
