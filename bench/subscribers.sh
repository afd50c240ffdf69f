#!/usr/bin/env bash
# Live subscriptions: ingest → subscriber latency at a steady event rate with
# many idle subscriptions open on one node, and the gateway's memory per
# subscription. The load tool is tests/examples/subscribers.rs.
#   bench/subscribers.sh                 IDLE="1000 10000" MATCHING=100 RATE=1000 DURATION=15
#   REDIS=1 bench/subscribers.sh         the same with REDIS_URL (needs Redis on 127.0.0.1:6379)
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-"1000 10000"}
MATCHING=${MATCHING:-100}
RATE=${RATE:-1000}
DURATION=${DURATION:-15}
PORT=${PORT:-18182}
PG="postgresql://postgres@127.0.0.1:5432"
WORK=$(mktemp -d)
GW_PID=
DB=
stop_gateway() {
  if [ -n "$GW_PID" ]; then kill "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; GW_PID=; fi
  if [ -n "$DB" ]; then psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; DB=; fi
}
trap 'stop_gateway; rm -rf "$WORK"' EXIT

cargo build --release -q -p api
cargo build --release -q -p tests --example subscribers
# Each subscription is one WebSocket: one descriptor in the tool, one in the gateway.
ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

for idle in $IDLE; do
  DB="gwsubs_$$_$idle"
  psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
  redis_env=()
  if [ -n "${REDIS:-}" ]; then
    redis_env=(REDIS_URL=redis://127.0.0.1:6379 REDIS_CHANNEL="gwsubs-$$-$idle")
  fi
  env DATABASE_URL="$PG/$DB" CANOPY_WEBHOOK_SECRETS=bench-secret GATEWAY_ADDR="127.0.0.1:$PORT" \
    RUST_LOG=warn "${redis_env[@]}" target/release/gateway > "$WORK/gateway-$idle.log" 2>&1 &
  GW_PID=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

  echo "== $idle idle + $MATCHING matching subscriptions, $RATE events/s for ${DURATION}s${REDIS:+, Redis pub/sub}"
  target/release/examples/subscribers --addr "127.0.0.1:$PORT" --gateway-pid "$GW_PID" \
    --idle "$idle" --matching "$MATCHING" --rate "$RATE" --seconds "$DURATION"
  echo "stored events: $(psql -qtA "$PG/$DB" -c "SELECT count(*) FROM events")"
  if [ -s "$WORK/gateway-$idle.log" ]; then
    echo "gateway log (last lines):"; tail -n 5 "$WORK/gateway-$idle.log"
  fi
  stop_gateway
done
