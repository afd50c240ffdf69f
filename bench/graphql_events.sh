#!/usr/bin/env bash
# GraphQL reads: `events(first: 50)` with each event's account, over 100k
# stored events on PostgreSQL, next to the same rows read with one raw SQL
# statement (pgbench) in the same run.
#   bench/graphql_events.sh    EVENTS=100000 ACCOUNTS=1000 DURATION=15 RUNS=3 by default
#   ROLE=read                  with an API key of that role (masking path); open mode by default
#   GATEWAY_BIN=path           that gateway binary instead of building target/release/gateway
#   PROFILE=1                  also records `perf record --call-graph dwarf` (-g) of the gateway during one more
#                              `newest` run, into $PROFILE_OUT (bench/perf.graphql.data)
# Needs: wrk, pgbench, psql, curl, python3 (installs the Debian packages when
# run as root, else names them); PostgreSQL on 127.0.0.1:5432 (user postgres,
# trust auth). One client at a time on both sides: latency, not throughput.
# Each figure is the median over RUNS runs of DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need wrk pgbench psql curl python3 time
[ "${PROFILE:-0}" = 1 ] && need perf
PROFILE_OUT=${PROFILE_OUT:-bench/perf.graphql.data}
EVENTS=${EVENTS:-100000}
ACCOUNTS=${ACCOUNTS:-1000}
DURATION=${DURATION:-15}
RUNS=${RUNS:-3}
ROLE=${ROLE:-}
PORT=${PORT:-18282}
DB="gwbench_gql_$$"
WORK=$(mktemp -d)
trap 'stop_gateway; psql -q "$PG/test" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

if [ "$GATEWAY_BIN" = target/release/gateway ]; then cargo build --release -q -p api; fi
psql -q "$PG/test" -c "CREATE DATABASE $DB"
DATABASE_URL="$PG/$DB" RUST_LOG=warn "$GATEWAY_BIN" migrate

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

GW_ENV=(DATABASE_URL="$PG/$DB" GATEWAY_ADDR="127.0.0.1:$PORT")
AUTH=
if [ -n "$ROLE" ]; then
  GW_ENV+=(GATEWAY_API_KEYS="bench-key-$$:$ROLE")
  AUTH="Bearer bench-key-$$"
fi
start_gateway "$WORK/gateway.log" "${GW_ENV[@]}"

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
curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
  ${AUTH:+-H "authorization: $AUTH"} -d "$BODY" \
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

# graphql PAGE OUT : one wrk run of DURATION seconds.
graphql() {
  AUTH="$AUTH" BODIES="$WORK/$1.jsonl" THREADS=1 /usr/bin/time -f "%U %S" -o "$2.time" \
    wrk -t1 -c1 -d"${DURATION}s" --latency \
    -s bench/canopy.lua "http://127.0.0.1:$PORT/graphql" > "$2"
  if grep -q Non-2xx "$2"; then cat "$2"; echo "GraphQL answered non-2xx" >&2; exit 1; fi
}
# sql PAGE RUN : one pgbench run of DURATION seconds; prints p50 p99.
sql() {
  (cd "$WORK" && pgbench -n -M prepared -c 1 -j 1 -T "$DURATION" -l --log-prefix="pg.$1.$2" \
    -f "$1.sql" "$PG/$DB" > "pgbench.$1.$2" 2>&1)
  pgbench_ms "$WORK/pg.$1.$2"
}

echo "== $RUNS runs of ${DURATION} s per figure; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n%-8s %12s %12s %12s %12s %8s %8s\n" page "graphql p50" "graphql p99" "sql p50" "sql p99" "p50 x" "p99 x"
for page in newest random; do
  g50s=() g99s=() s50s=() s99s=()
  for run in $(seq 1 "$RUNS"); do
    rss_rest=$(rss_mib "$GW_PID"); gw0=$(cpu_ticks "$GW_PID")
    graphql "$page" "$WORK/wrk.$page.$run"
    gw1=$(cpu_ticks "$GW_PID"); rss_load=$(peak_rss_mib "$GW_PID")
    g50=$(wrk_ms "$WORK/wrk.$page.$run" 50%); g99=$(wrk_ms "$WORK/wrk.$page.$run" 99%)
    g50s+=("$g50"); g99s+=("$g99")
    read -r s50 s99 <<< "$(sql "$page" "$run")"
    s50s+=("$s50"); s99s+=("$s99")
    wrk_cpu=$(awk -v d="$DURATION" '{printf "%.2f", ($1 + $2) / d}' "$WORK/wrk.$page.$run.time")
    echo "RESULT reads.$page.run$run graphql_p50_ms=$g50 graphql_p99_ms=$g99 sql_p50_ms=$s50" \
      "sql_p99_ms=$s99 ratio_p50=$(awk -v a="$g50" -v b="$s50" 'BEGIN{printf "%.2f", a/b}')" \
      "wrk_cpu=$wrk_cpu gateway_cpu=$(cores "$gw0" "$gw1" "$DURATION") rss_rest_mib=$rss_rest rss_load_mib=$rss_load"
  done
  g50=$(median "${g50s[@]}"); g99=$(median "${g99s[@]}")
  s50=$(median "${s50s[@]}"); s99=$(median "${s99s[@]}")
  printf "%-8s %10sms %10sms %10sms %10sms %8s %8s\n" "$page" "$g50" "$g99" "$s50" "$s99" \
    "$(awk -v a="$g50" -v b="$s50" 'BEGIN{printf "%.1f", a/b}')" \
    "$(awk -v a="$g99" -v b="$s99" 'BEGIN{printf "%.1f", a/b}')"
  echo "  runs: graphql p50 ${g50s[*]}; sql p50 ${s50s[*]}"
done
echo "(graphql: wrk, one connection, HTTP + JSON${ROLE:+, role $ROLE}; sql: pgbench, one client, prepared)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${PROFILE:-0}" = 1 ]; then
  perf record --call-graph dwarf,16384 -F 499 -o "$PROFILE_OUT" -p "$GW_PID" -- sleep "$DURATION" 2>/dev/null &
  PERF_PID=$!
  graphql newest "$WORK/wrk.profile"
  wait "$PERF_PID"
  echo "profile: $PROFILE_OUT (perf report -i $PROFILE_OUT --no-children)"
fi
