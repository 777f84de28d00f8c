#!/usr/bin/env bash
# The write floor (issue 11): how long the database alone takes to write the rows a month's batch
# and an import write, into empty copies of the engine's tables with their indexes, primary keys
# and checks (not their foreign keys or triggers), by one INSERT … SELECT per table from the rows
# the engine wrote (already in key order), nothing computed, nothing validated. A lower bound. Run it on a database the engine has imported and run a month into (benches/run.sh
# leaves none behind; make one with `subsidy init --start-month 2020-07`, `import DIR`,
# `run --month 2020-07`). No engine command can write its rows faster than this; compare it with
# the peer's month and load.
#
# usage: benches/write_floor.sh postgres://…/DB      (creates and drops a schema write_floor)
#        benches/write_floor.sh sqlite:///path/to/engine.db   (needs the sqlite3 shell; the copy
#                                                     goes to a temporary folder)
set -euo pipefail
url=${1:?usage: benches/write_floor.sh DATABASE_URL}
ledger="postings transfers balances"
registry="elders applications assessments disability_certs household_status exclusions suspensions registry_versions person_changes"

if [[ $url == postgres* ]]; then
  run() { PGOPTIONS="-c client_min_messages=warning" psql -qAt "$url" -v ON_ERROR_STOP=1 "$@"; }
  run -c "drop schema if exists write_floor cascade" -c "create schema write_floor"
  trap 'run -c "drop schema if exists write_floor cascade"' EXIT
  for t in $ledger $registry; do
    run -c "create table write_floor.$t (like public.$t including all)" -c "select count(*) from public.$t" >/dev/null
  done
  run -c "checkpoint"
  floor() { # label, tables
    local total=0 label=$1; shift
    for t in "$@"; do
      local s e
      s=$(date +%s.%N)
      run -c "insert into write_floor.$t select * from public.$t"
      e=$(date +%s.%N)
      printf '    %-20s %8.1f s  %9s rows\n' "$t" "$(echo "$e - $s" | bc)" "$(run -c "select count(*) from write_floor.$t")"
      total=$(echo "$total + $e - $s" | bc)
    done
    printf '  %s: %.1f s\n' "$label" "$total"
  }
else
  db=${url#sqlite://}
  command -v sqlite3 >/dev/null || { echo "the sqlite3 shell is needed (Debian package sqlite3)"; exit 1; }
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  floor() { # label, tables
    local label=$1; shift
    for t in "$@"; do sqlite3 "$db" ".schema $t" | grep -v '^CREATE TRIGGER'; done > "$scratch/schema.sql"
    rm -f "$scratch/floor.db"
    sqlite3 "$scratch/floor.db" < "$scratch/schema.sql"
    local s e
    s=$(date +%s.%N)
    {
      echo "pragma journal_mode=wal; pragma synchronous=normal; pragma cache_size=-65536;"
      echo "attach '$db' as src; begin;"
      for t in "$@"; do echo "insert into main.$t select * from src.$t;"; done
      echo "commit;"
    } | sqlite3 "$scratch/floor.db" > /dev/null
    e=$(date +%s.%N)
    printf '  %s (%s): %.1f s\n' "$label" "$*" "$(echo "$e - $s" | bc)"
  }
fi

echo "== write floor of $(echo "$url" | sed 's#//[^@/]*@#//#')"
# shellcheck disable=SC2086
floor "the ledger a batch writes" $ledger
# shellcheck disable=SC2086
floor "the registry an import writes" $registry
