#!/usr/bin/env bash
# Ingest latency while retention purges 100k old payloads (issue 16).
#   bench/retention.sh          OLD=100000 CONNS=8 DURATION=15 WARMUP=3 RUNS=3 BODIES=200000
# Each run, twice on a fresh PostgreSQL database filled with OLD events
# received 60 days ago (~2 KB payloads): once without retention, once with
# EVENT_RETENTION_DAYS=30, whose purge starts when the gateway does. Steady
# ingest meanwhile: wrk, CONNS keep-alive connections, distinct signed
# Canopy bodies (bench/canopy.lua, tests/examples/canopy_bodies.rs).
# Prints one `RESULT` line per run and mode (p50/p99 of the measured window,
# and how many old payloads were purged before and by the end of it), then
# the medians, and the load average before each run (the machine may be
# shared). CANOPY_BODIES=path/to/canopy_bodies uses an already built body
# tool instead of building it in release.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OLD=${OLD:-100000}
CONNS=${CONNS:-8}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
RUNS=${RUNS:-3}
PORT=${PORT:-18182}
BODIES=${BODIES:-200000}
need wrk curl psql time
WORK=$(mktemp -d)
DB=
drop_db() { if [ -n "$DB" ]; then psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; DB=; fi; }
trap 'stop_gateway; drop_db; rm -rf "$WORK"' EXIT

cargo build --release -q -p api
BODY_TOOL=${CANOPY_BODIES:-target/release/examples/canopy_bodies}
[ -n "${CANOPY_BODIES:-}" ] || cargo build --release -q -p tests --example canopy_bodies
"$BODY_TOOL" "$BODIES" bench-secret retention > "$WORK/bodies.jsonl"
"$BODY_TOOL" $((BODIES / 4)) bench-secret warmup > "$WORK/warmup.jsonl"

# purged : old payloads purged so far.
purged() { psql -qtA "$PG/$DB" -c "SELECT count(*) FROM events WHERE purged_at IS NOT NULL"; }

declare -A P50 P99
for run in $(seq 1 "$RUNS"); do
  for mode in keep purge; do
    DB="gwbench_retention_$$_${run}_$mode"
    psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
    DATABASE_URL="$PG/$DB" target/release/gateway migrate 2>/dev/null
    psql -q "$PG/$DB" -c "INSERT INTO events (id, source, event_type, account_id, dedup_key,
        received_at, payload, deliveries)
      SELECT g, 'canopy', 'account_update', 'acct-' || (g % 1000), 'old-' || g,
        now() - interval '60 days' + g * interval '1 millisecond',
        '{\"account_id\": \"acct-' || (g % 1000) || '\", \"note\": \"' || repeat('x', 1900) || '\"}', 1
      FROM generate_series(1, $OLD) g"
    psql -q "$PG/$DB" -c "VACUUM ANALYZE events"
    retention=()
    [ "$mode" = purge ] && retention=(EVENT_RETENTION_DAYS=30)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    start_gateway "$WORK/gateway.log" DATABASE_URL="$PG/$DB" CANOPY_WEBHOOK_SECRETS=bench-secret \
      GATEWAY_ADDR="127.0.0.1:$PORT" "${retention[@]}"
    BODIES="$WORK/warmup.jsonl" THREADS=1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" -s bench/canopy.lua \
      "http://127.0.0.1:$PORT/webhooks/canopy" > /dev/null
    before=$(purged)
    gw0=$(cpu_ticks "$GW_PID")
    BODIES="$WORK/bodies.jsonl" THREADS=2 /usr/bin/time -f "%U %S" -o "$WORK/wrk.time" \
      wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency \
      -s bench/canopy.lua "http://127.0.0.1:$PORT/webhooks/canopy" > "$WORK/wrk.out"
    after=$(purged)
    gw_cpu=$(cores "$gw0" "$(cpu_ticks "$GW_PID")" "$DURATION")
    wrk_cpu=$(awk -v d="$DURATION" '{printf "%.2f", ($1 + $2) / d}' "$WORK/wrk.time")
    stop_gateway
    if grep -q "Non-2xx" "$WORK/wrk.out"; then cat "$WORK/wrk.out"; echo "the gateway answered non-2xx" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
    p50=$(wrk_ms "$WORK/wrk.out" 50%); p99=$(wrk_ms "$WORK/wrk.out" 99%)
    P50[$mode]="${P50[$mode]:-} $p50"; P99[$mode]="${P99[$mode]:-} $p99"
    echo "RESULT retention.$mode.run$run events_per_s=$rps p50_ms=$p50 p99_ms=$p99" \
      "purged_before=$before purged_after=$after wrk_cpu=$wrk_cpu gateway_cpu=$gw_cpu" \
      "purged_per_s=$(( (after - before) / DURATION ))"
    echo "  load average at its start: $load"
    drop_db
  done
done
for mode in keep purge; do
  # shellcheck disable=SC2086
  echo "median of $RUNS runs, $mode: p50_ms=$(median ${P50[$mode]}) p99_ms=$(median ${P99[$mode]})"
done
