#!/usr/bin/env bash
# GraphQL reads: `events(first: 50)` with each event's account, over 100k
# stored events on PostgreSQL, next to the same rows read with one raw SQL
# statement (pgbench) in the same run.
#   bench/graphql_events.sh          EVENTS=100000 ACCOUNTS=1000 DURATION=15 by default
# Needs: wrk and pgbench, PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
# One client at a time on both sides: latency, not throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
ACCOUNTS=${ACCOUNTS:-1000}
DURATION=${DURATION:-15}
PORT=${PORT:-18282}
PG="postgresql://postgres@127.0.0.1:5432"
DB="gwbench_gql_$$"
WORK=$(mktemp -d)
GW_PID=
trap '[ -n "$GW_PID" ] && kill $GW_PID 2>/dev/null; psql -q "$PG/test" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -q -p api
psql -q "$PG/test" -c "CREATE DATABASE $DB"
DATABASE_URL="$PG/$DB" RUST_LOG=warn target/release/gateway migrate

echo "== loading $EVENTS events over $ACCOUNTS accounts"
psql -q "$PG/$DB" <<SQL
INSERT INTO accounts (id, customer_id, status, credit_limit_cents, available_credit_cents,
                      total_balance_cents, updated_at)
SELECT 'acct-' || g, 'cus-' || g, (ARRAY['ACTIVE', 'SUSPENDED', 'CLOSED'])[1 + g % 3],
       500000, 250000 + g, 1000 * g, now()
FROM generate_series(1, $ACCOUNTS) g;
INSERT INTO events (id, source, event_type, account_id, dedup_key, occurred_at, received_at,
                    payload, deliveries)
SELECT g, 'canopy',
       (ARRAY['account_calculations_change', 'payment_due_date', 'minimum_payment_due'])[1 + g % 3],
       'acct-' || (1 + g % $ACCOUNTS), 'bench-' || g,
       now() - interval '1 second' * ($EVENTS - g), now() - interval '1 second' * ($EVENTS - g),
       '{"account_id":"acct-' || (1 + g % $ACCOUNTS) || '","available_credit_cents":' || g
         || ',"effective_as_of":"2023-01-26T15:42:39.567559-05:00"}',
       1
FROM generate_series(1, $EVENTS) g;
ANALYZE;
SQL

DATABASE_URL="$PG/$DB" GATEWAY_ADDR="127.0.0.1:$PORT" RUST_LOG=warn \
  target/release/gateway > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

# Request bodies: the newest page, and pages after random cursors.
python3 - "$EVENTS" "$WORK" <<'PY'
import base64, json, random, sys
events, work = int(sys.argv[1]), sys.argv[2]
query = """query($after: String) { events(first: 50, after: $after) {
  edges { cursor node { id type accountId receivedAt payload
    account { id status creditLimitCents availableCreditCents } } }
  pageInfo { hasNextPage endCursor } } }"""
def body(after):
    return json.dumps({"query": query, "variables": {"after": after}})
def cursor(i):
    return base64.urlsafe_b64encode(f"evt:{i}".encode()).decode().rstrip("=")
open(f"{work}/newest.jsonl", "w").write(body(None) + "\n")
random.seed(1)
with open(f"{work}/random.jsonl", "w") as f:
    for _ in range(5000):
        f.write(body(cursor(random.randint(51, events))) + "\n")
PY
BODY=$(head -c 2000 "$WORK/newest.jsonl")
curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -d "$BODY" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["data"]["events"]["edges"]; assert len(e)==50 and all(x["node"]["account"] for x in e), d'

# The same rows in one statement: the page joined to its accounts.
cat > "$WORK/newest.sql" <<'SQL'
SELECT e.id, e.event_type, e.account_id, e.received_at, e.payload,
       a.id, a.status, a.credit_limit_cents, a.available_credit_cents
FROM events e LEFT JOIN accounts a ON a.id = e.account_id
ORDER BY e.id DESC LIMIT 51;
SQL
cat > "$WORK/random.sql" <<SQL
\set before random(51, $EVENTS)
SELECT e.id, e.event_type, e.account_id, e.received_at, e.payload,
       a.id, a.status, a.credit_limit_cents, a.available_credit_cents
FROM events e LEFT JOIN accounts a ON a.id = e.account_id
WHERE e.id < :before
ORDER BY e.id DESC LIMIT 51;
SQL

# p50 and p99 in milliseconds of pgbench's per-transaction log (µs, 3rd column).
percentiles() {
  cat "$1".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {
    printf "%.2f %.2f", v[int(NR*0.50)]/1000, v[int(NR*0.99)]/1000}'
}
# wrk prints its 50% and 99% latencies with units; normalize to milliseconds.
wrk_ms() {
  awk -v p="$2" '$1 == p {
    v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)}
    else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}' "$1"
}

printf "\n%-8s %12s %12s %12s %12s %8s %8s\n" page "graphql p50" "graphql p99" "sql p50" "sql p99" "p50 x" "p99 x"
for page in newest random; do
  BODIES="$WORK/$page.jsonl" THREADS=1 wrk -t1 -c1 -d"${DURATION}s" --latency \
    -s bench/canopy.lua "http://127.0.0.1:$PORT/graphql" > "$WORK/wrk.$page"
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.$page")
  [ -z "$non2xx" ] || { cat "$WORK/wrk.$page"; echo "GraphQL answered non-2xx"; exit 1; }
  (cd "$WORK" && pgbench -n -M prepared -c 1 -j 1 -T "$DURATION" -l --log-prefix="pg.$page" \
    -f "$page.sql" "$PG/$DB" > "pgbench.$page" 2>&1)
  g50=$(wrk_ms "$WORK/wrk.$page" 50%); g99=$(wrk_ms "$WORK/wrk.$page" 99%)
  read -r s50 s99 <<< "$(percentiles "$WORK/pg.$page")"
  printf "%-8s %10sms %10sms %10sms %10sms %8s %8s\n" "$page" "$g50" "$g99" "$s50" "$s99" \
    "$(awk -v a="$g50" -v b="$s50" 'BEGIN{printf "%.1f", a/b}')" \
    "$(awk -v a="$g99" -v b="$s99" 'BEGIN{printf "%.1f", a/b}')"
done
echo "(graphql: wrk, one connection, HTTP + JSON; sql: pgbench, one client, prepared)"
