#!/usr/bin/env bash
# Live subscriptions: ingest → subscriber latency at a steady event rate with
# many idle subscriptions open on one node, and the gateway's memory per
# subscription. The load tool is tests/examples/subscribers.rs.
#   bench/subscribers.sh      IDLE="1000 10000" MATCHING=100 RATE=1000 DURATION=15 RUNS=3
#   REDIS=1 ...               the same with REDIS_URL (needs Redis on 127.0.0.1:6379)
#   GATEWAY_BIN=path ...      runs that gateway binary (another commit's build, to compare)
#   PERF=10000 ...            records `perf record -g` of the gateway during the
#                             first run with that many idle subscriptions
# First a baseline (no subscription at all: the webhook answer alone), then
# each IDLE count with MATCHING matching subscriptions; every row RUNS times,
# each on a fresh database and gateway; the table at the end holds medians.
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
IDLE=${IDLE:-"1000 10000"}
MATCHING=${MATCHING:-100}
RATE=${RATE:-1000}
DURATION=${DURATION:-15}
RUNS=${RUNS:-3}
PORT=${PORT:-18182}
WORK=$(mktemp -d)
DB=
drop_db() {
  if [ -n "$DB" ]; then psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; DB=; fi
}
trap 'stop_gateway; drop_db; rm -rf "$WORK"' EXIT
need psql curl
[ -z "${PERF:-}" ] || need perf

cargo build --release -q -p api
cargo build --release -q -p tests --example subscribers
# Each subscription is one WebSocket: one descriptor in the tool, one in the gateway.
ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run IDLE MATCHING RUN : one run; its RESULT line goes to $WORK/results.
run() {
  local idle=$1 matching=$2 n=$3
  DB="gwsubs_$$_${idle}_${matching}_$n"
  psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
  local redis_env=()
  if [ -n "${REDIS:-}" ]; then
    redis_env=(REDIS_URL=redis://127.0.0.1:6379 REDIS_CHANNEL="gwsubs-$$-$idle-$n")
  fi
  start_gateway "$WORK/gateway.log" DATABASE_URL="$PG/$DB" CANOPY_WEBHOOK_SECRETS=bench-secret \
    GATEWAY_ADDR="127.0.0.1:$PORT" "${redis_env[@]}"
  echo "== $idle idle + $matching matching subscriptions, $RATE events/s for ${DURATION}s${REDIS:+, Redis pub/sub} (run $n)"
  local perf_pid= rss_rest
  rss_rest=$(rss_mib "$GW_PID")
  if [ "${PERF:-}" = "$idle" ] && [ "$n" = 1 ] && [ "$matching" != 0 ]; then
    # Started once the subscriptions are open: the tool prints the warm-up line then.
    ( while ! grep -q "^warm-up" "$WORK/tool.log" 2>/dev/null; do sleep 0.2; done
      exec perf record -g -q -o "bench/perf-subscribers-$idle.data" -p "$GW_PID" -- sleep "$DURATION" ) \
      > /dev/null 2>&1 &
    perf_pid=$!
  fi
  target/release/examples/subscribers --addr "127.0.0.1:$PORT" --gateway-pid "$GW_PID" \
    --idle "$idle" --matching "$matching" --rate "$RATE" --seconds "$DURATION" | tee "$WORK/tool.log"
  [ -z "$perf_pid" ] || { wait "$perf_pid" || true; echo "profile: bench/perf-subscribers-$idle.data"; }
  grep '^RESULT' "$WORK/tool.log" >> "$WORK/results"
  # The same figures named for bench/run-all.sh, with the gateway's memory.
  local name="fanout.idle$idle.matching$matching"
  [ "$matching" = 0 ] && name=fanout.baseline
  grep '^RESULT' "$WORK/tool.log" | sed -e "s/^RESULT idle=[0-9]* matching=[0-9]*/RESULT $name.run$n/" \
    -e 's/ rate=/ sent_per_s=/; s/ p50_ms=/ sub_p50_ms=/; s/ p99_ms=/ sub_p99_ms=/' \
    -e 's/ kib_per_idle=/ kib_per_idle_sub=/; s/ cpu_tool=/ tool_cpu=/; s/ cpu_gateway=/ gateway_cpu=/' \
    -e 's/ cpu_postgres=/ postgres_cpu=/' -e "s/\$/ rss_rest_mib=$rss_rest rss_load_mib=$(peak_rss_mib "$GW_PID")/"
  rm -f "$WORK/tool.log"
  echo "stored events: $(psql -qtA "$PG/$DB" -c "SELECT count(*) FROM events"); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -s "$WORK/gateway.log" ]; then
    echo "gateway log (last lines):"; tail -n 5 "$WORK/gateway.log"
  fi
  stop_gateway
  drop_db
}

rows="0:0"
for idle in $IDLE; do rows="$rows $idle:$MATCHING"; done
for row in $rows; do
  for n in $(seq 1 "$RUNS"); do run "${row%:*}" "${row#*:}" "$n"; done
done

# field IDLE MATCHING NAME : that field of every run of the row.
field() {
  awk -v i="idle=$1" -v m="matching=$2" -v f="$3" '$2 == i && $3 == m {
    for (k = 4; k <= NF; k++) { split($k, kv, "="); if (kv[1] == f) print kv[2] } }' "$WORK/results"
}
med() { median $(field "$1" "$2" "$3"); }
echo
echo "medians of $RUNS runs (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| idle N | matching M | events/s sent | POST answer p50 / p99 | → subscriber p50 | p99 | last p99 | KiB per idle subscription | CPU: tool / gateway / postgres |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for row in $rows; do
  i=${row%:*} m=${row#*:}
  if [ "$m" = 0 ]; then
    echo "| 0 | 0 | $(med $i $m rate) | $(med $i $m post_p50_ms) / $(med $i $m post_p99_ms) ms | – | – | – | – | $(med $i $m cpu_tool) / $(med $i $m cpu_gateway) / $(med $i $m cpu_postgres) |"
  else
    echo "| $i | $m | $(med $i $m rate) | $(med $i $m post_p50_ms) / $(med $i $m post_p99_ms) ms | $(med $i $m p50_ms) ms | $(med $i $m p99_ms) ms | $(med $i $m last_p99_ms) ms | $(med $i $m kib_per_idle) | $(med $i $m cpu_tool) / $(med $i $m cpu_gateway) / $(med $i $m cpu_postgres) |"
  fi
done
