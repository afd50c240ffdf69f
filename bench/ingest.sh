#!/usr/bin/env bash
# Durable Canopy ingest on PostgreSQL vs PostgreSQL's own one-insert ceiling.
#   bench/ingest.sh            CONC=16 DURATION=20 by default
# Needs: wrk and pgbench (Debian: apt-get install wrk postgresql-client),
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
CONC=${CONC:-16}
DURATION=${DURATION:-20}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}
PG="postgresql://postgres@127.0.0.1:5432"
DB="gwbench_$$"
WORK=$(mktemp -d)
trap 'kill $GW_PID 2>/dev/null || true; psql -q "$PG/test" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -q -p api
psql -q "$PG/test" -c "CREATE DATABASE $DB"

# Enough distinct bodies that no request is a duplicate.
python3 bench/make_canopy_bodies.py 400000 bench-secret > "$WORK/bodies.jsonl"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() { local t=0; for p in $(pgrep -u postgres postgres); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo $t; }
HZ=$(getconf CLK_TCK)

DATABASE_URL="$PG/$DB" CANOPY_WEBHOOK_SECRETS=bench-secret GATEWAY_ADDR="127.0.0.1:$PORT" \
  RUST_LOG=warn target/release/gateway > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

echo "== gateway: POST /webhooks/canopy, $CONC connections, ${DURATION}s, wrk -t$THREADS"
gw0=$(cpu_ticks $GW_PID); pg0=$(pg_ticks)
BODIES="$WORK/bodies.jsonl" THREADS=$THREADS /usr/bin/time -f "%U %S" -o "$WORK/wrk.time" \
  wrk -t"$THREADS" -c"$CONC" -d"${DURATION}s" --latency -s bench/canopy.lua \
  "http://127.0.0.1:$PORT/webhooks/canopy" > "$WORK/wrk.out"
gw1=$(cpu_ticks $GW_PID); pg1=$(pg_ticks)
cat "$WORK/wrk.out"
stored=$(psql -qtA "$PG/$DB" -c "SELECT count(*), coalesce(sum(deliveries),0) FROM events")
wrk_cpu=$(awk -v d="$DURATION" '{printf "%.2f", ($1 + $2) / d}' "$WORK/wrk.time")
gw_cpu=$(awk -v a="$gw0" -v b="$gw1" -v hz="$HZ" -v d="$DURATION" 'BEGIN{printf "%.2f", (b - a) / hz / d}')
pg_cpu=$(awk -v a="$pg0" -v b="$pg1" -v hz="$HZ" -v d="$DURATION" 'BEGIN{printf "%.2f", (b - a) / hz / d}')
gw_rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
echo "stored events, deliveries: $stored"
echo "CPU (cores busy on average): wrk $wrk_cpu, gateway $gw_cpu, postgres $pg_cpu"

echo "== pgbench: one-row INSERT per transaction into a table like events, $CONC clients, ${DURATION}s"
psql -q "$PG/$DB" <<'SQL'
CREATE TABLE bench_events (
  id bigserial PRIMARY KEY, source text NOT NULL, event_type text NOT NULL,
  account_id text, dedup_key text, received_at timestamptz NOT NULL,
  payload text NOT NULL, deliveries int NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX ON bench_events (source, dedup_key);
CREATE INDEX ON bench_events (account_id, id);
SQL
cat > "$WORK/insert.sql" <<'SQL'
INSERT INTO bench_events (source, event_type, account_id, dedup_key, received_at, payload)
VALUES ('canopy', 'account_calculations_change', 'acct-' || (random() * 1000)::int,
        gen_random_uuid()::text, now(),
        '{"account_id":"acct-1","available_credit_cents":1,"effective_as_of":"2023-01-26T15:42:39.567559-05:00","seq":1}');
SQL
pgbench -n -M prepared -c "$CONC" -j "$THREADS" -T "$DURATION" -f "$WORK/insert.sql" "$PG/$DB" > "$WORK/pgbench.out" 2>&1
grep -E "latency average|tps" "$WORK/pgbench.out"
pg_tps=$(awk '/^tps/ {print $3; exit}' "$WORK/pgbench.out")
echo "== ratio gateway events/s ÷ pgbench one-insert tps: $(awk -v a="$gw_rps" -v b="$pg_tps" 'BEGIN{printf "%.2f", a / b}')"
