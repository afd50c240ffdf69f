#!/usr/bin/env bash
# Every benchmark, then bench/RESULTS.md's summary rewritten from their
# figures (medians of RUNS runs each). One command on a fresh machine:
#   bench/run-all.sh                 RUNS=3 DURATION=15
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on
# 127.0.0.1:6379; installs wrk (and what else is missing) with apt-get when
# run as root, else names it and stops. Takes about 40 minutes.
# The raw output of each script is kept in bench/out/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
export RUNS=${RUNS:-3} DURATION=${DURATION:-15}
need wrk pgbench psql curl python3
mkdir -p bench/out
OUT=bench/out/results.txt
{
  echo "MACHINE date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "MACHINE machine=$(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "MACHINE store=$(psql -qtA "$PG/postgres" -c 'SHOW server_version') on the same machine, fsync $(psql -qtA "$PG/postgres" -c 'SHOW fsync'), synchronous_commit $(psql -qtA "$PG/postgres" -c 'SHOW synchronous_commit')"
  echo "MACHINE commit=$(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
  echo "MACHINE command=RUNS=$RUNS DURATION=$DURATION bench/run-all.sh"
  echo "MACHINE load average before=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"

# Each script prints its RESULT lines among its own output.
run() {
  local log="bench/out/$1.log"; shift
  echo "== $* (log: $log)"
  "$@" 2>&1 | tee "$log" | grep '^RESULT' | tee -a "$OUT"
}
run ingest-postgres bench/ingest.sh
run ingest-sqlite env STORE=sqlite bench/ingest.sh
run reads bench/graphql_events.sh
run subscribers bench/subscribers.sh
run retention bench/retention.sh
echo "MACHINE load average after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"

python3 bench/summarize.py bench/RESULTS.md < "$OUT"
echo "bench/RESULTS.md summary rewritten from $OUT"
