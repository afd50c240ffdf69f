#!/usr/bin/env bash
# Durable Canopy ingest against PostgreSQL's own one-insert ceiling.
#   bench/ingest.sh          CONNS="1 8 64" DURATION=15 WARMUP=5 RUNS=3
#   STORE=sqlite bench/ingest.sh    the zero-configuration SQLite store (no pgbench)
#   PROFILE=1 GATEWAY_BIN=… bench/ingest.sh   also a perf profile of each run
#                                    (bench/profiles/), of another build
# Workload (issue 17): closed loop, keep-alive connections (wrk), bodies
# cycling through the 11 Canopy fixtures (250 B to 12.6 KB), each distinct by
# a unique first key of `data`, signed over JSON.stringify(data). In the same
# run, before and after the gateway: pgbench -M simple, one
# INSERT … ON CONFLICT DO NOTHING (~2 KB jsonb) per transaction, as many
# clients as connections; the ratio is against the mean of the two.
# Prints one `RESULT` line per figure (bench/run-all.sh reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
CONNS=${CONNS:-"1 8 64"}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-3}
STORE=${STORE:-postgres}
PORT=${PORT:-18181}
BODIES=${BODIES:-300000}
need wrk curl python3 time
[ "$STORE" = postgres ] && need pgbench psql
WORK=$(mktemp -d)
DB=
drop_db() { if [ -n "$DB" ]; then psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; DB=; fi; }
trap 'stop_gateway; drop_db; [ "$STORE" = postgres ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS gwbench_pg_$$ WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -q -p api
cargo build --release -q -p tests --example canopy_bodies
echo "signing $BODIES bodies (and a warm-up set)"
target/release/examples/canopy_bodies "$BODIES" bench-secret bench > "$WORK/bodies.jsonl"
target/release/examples/canopy_bodies 100000 bench-secret warmup > "$WORK/warmup.jsonl"

if [ "$STORE" = postgres ]; then
  psql -q "$PG/postgres" -c "CREATE DATABASE gwbench_pg_$$"
  psql -q "$PG/gwbench_pg_$$" -c "CREATE TABLE one_insert (id bigserial PRIMARY KEY, source text,
    type text, dedup_key text, received_at timestamptz DEFAULT now(), payload jsonb,
    UNIQUE (source, dedup_key))"
  payload=$(python3 -c 'import json; print(json.dumps({"account_id": "acct-1", "note": "x" * 1900, "n": 1}))')
  printf "INSERT INTO one_insert (source, type, dedup_key, payload) VALUES ('canopy', 'account_update', gen_random_uuid()::text, '%s') ON CONFLICT (source, dedup_key) DO NOTHING;\n" "$payload" > "$WORK/insert.sql"
fi

# pgbench_run CLIENTS TAG : prints "tps p99_ms".
pgbench_run() {
  psql -q "$PG/gwbench_pg_$$" -c "TRUNCATE one_insert"
  local jobs=$(( $1 < 2 ? $1 : 2 ))
  (cd "$WORK" && rm -f "pg.$2".* && pgbench -n -M simple -c "$1" -j "$jobs" -T "$DURATION" \
    -l --log-prefix="pg.$2" -f insert.sql "$PG/gwbench_pg_$$" > "pgbench.$2" 2>&1)
  local tps; tps=$(awk '/^tps/ {print $3; exit}' "$WORK/pgbench.$2")
  local p; p=$(pgbench_ms "$WORK/pg.$2")
  echo "$tps ${p#* }"
}

for run in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    tag="$STORE.c$c.run$run"
    if [ "$STORE" = postgres ]; then
      read -r pg_before pg_p99_before <<< "$(pgbench_run "$c" "$tag.before")"
      DB="gwbench_$$_$c"
      psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
      url="$PG/$DB"
    else
      rm -f "$WORK"/gateway.db*
      url="sqlite://$WORK/gateway.db?mode=rwc"
    fi
    start_gateway "$WORK/gateway.log" DATABASE_URL="$url" CANOPY_WEBHOOK_SECRETS=bench-secret \
      GATEWAY_ADDR="127.0.0.1:$PORT"
    rss_rest=$(rss_mib "$GW_PID")
    BODIES="$WORK/warmup.jsonl" THREADS=1 wrk -t1 -c"$c" -d"${WARMUP}s" -s bench/canopy.lua \
      "http://127.0.0.1:$PORT/webhooks/canopy" > /dev/null
    threads=$(( c < 2 ? c : 2 ))
    gw0=$(cpu_ticks "$GW_PID"); pg0=$(pg_ticks)
    profile_start "ingest.$STORE.c$c${PROFILE_TAG:-}"
    BODIES="$WORK/bodies.jsonl" THREADS=$threads /usr/bin/time -f "%U %S" -o "$WORK/wrk.time" \
      wrk -t"$threads" -c"$c" -d"${DURATION}s" --latency -s bench/canopy.lua \
      "http://127.0.0.1:$PORT/webhooks/canopy" > "$WORK/wrk.out"
    gw1=$(cpu_ticks "$GW_PID"); pg1=$(pg_ticks)
    profile_stop
    rss_load=$(peak_rss_mib "$GW_PID")
    # What the gateway says it answered, to set against what is stored.
    answered() { curl -s "http://127.0.0.1:$PORT/metrics" |
      awk -v s="status=\"$1\"" 'index($0, "gateway_deliveries_total{") == 1 && index($0, s) {n += $2} END {print n + 0}'; }
    acked=$(answered 202); duplicates=$(answered 200)
    stop_gateway
    if grep -q "Non-2xx" "$WORK/wrk.out"; then cat "$WORK/wrk.out"; echo "the gateway answered non-2xx" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
    p50=$(wrk_ms "$WORK/wrk.out" 50%); p99=$(wrk_ms "$WORK/wrk.out" 99%)
    wrk_cpu=$(awk -v d="$DURATION" '{printf "%.2f", ($1 + $2) / d}' "$WORK/wrk.time")
    gw_cpu=$(cores "$gw0" "$gw1" "$DURATION"); pg_cpu=$(cores "$pg0" "$pg1" "$DURATION")
    line="RESULT ingest.$tag acked_202=$acked duplicates_200=$duplicates events_per_s=$rps p50_ms=$p50 p99_ms=$p99 wrk_cpu=$wrk_cpu gateway_cpu=$gw_cpu postgres_cpu=$pg_cpu rss_rest_mib=$rss_rest rss_load_mib=$rss_load"
    if [ "$STORE" = postgres ]; then
      stored=$(psql -qtA "$url" -c "SELECT count(*) FROM events")
      drop_db
      read -r pg_after pg_p99_after <<< "$(pgbench_run "$c" "$tag.after")"
      pg_tps=$(awk -v a="$pg_before" -v b="$pg_after" 'BEGIN{printf "%.0f", (a + b) / 2}')
      pg_p99=$(awk -v a="$pg_p99_before" -v b="$pg_p99_after" 'BEGIN{printf "%.2f", (a + b) / 2}')
      ratio=$(awk -v a="$rps" -v b="$pg_tps" 'BEGIN{printf "%.2f", a / b}')
      line="$line pgbench_tps=$pg_tps pgbench_p99_ms=$pg_p99 ratio=$ratio stored_events=$stored"
      # Requests in flight when wrk stops (at most one per connection) may
      # be committed after their connection closed: stored, never answered.
      if [ "$stored" -lt "$acked" ] || [ "$stored" -gt $(( acked + c )) ]; then
        echo "MISMATCH: $acked answered 202, $stored events stored" >&2
      elif [ "$stored" != "$acked" ]; then
        echo "$acked answered 202, $stored stored: $(( stored - acked )) in flight when wrk stopped" >&2
      fi
    fi
    echo "$line"
  done
done
