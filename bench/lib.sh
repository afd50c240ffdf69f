# Shared by the bench scripts: tool checks, CPU and memory readings, a
# gateway started in the background, percentiles, medians. Source it.
PG=${PG:-"postgresql://postgres@127.0.0.1:5432"}
HZ=$(getconf CLK_TCK)

# need TOOL... : installs what is missing (Debian packages) or stops naming it.
need() {
  local missing=()
  for tool in "$@"; do
    # `time` is a shell keyword too: the program is what the scripts run.
    if [ "$tool" = time ]; then [ -x /usr/bin/time ] || missing+=(time); continue; fi
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local packages=()
  for tool in "${missing[@]}"; do
    case "$tool" in
      pgbench|psql) packages+=(postgresql-client) ;;
      perf) packages+=(linux-perf) ;;
      *) packages+=("$tool") ;;
    esac
  done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${packages[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
  else
    echo "missing: ${missing[*]} (Debian: apt-get install ${packages[*]})" >&2
    exit 1
  fi
}

# CPU seconds (user + system) a process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The same for every PostgreSQL server process.
pg_ticks() {
  local t=0 p
  for p in $(pgrep -u postgres postgres); do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}
# Cores busy on average between two tick readings over SECONDS.
cores() { awk -v a="$1" -v b="$2" -v hz="$HZ" -v s="$3" 'BEGIN{printf "%.2f", (b - a) / hz / s}'; }
# Resident memory of a process, in MiB.
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# Its peak resident memory so far (VmHWM), in MiB: "under load" when read after it.
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# The gateway binary benchmarked: the release build unless GATEWAY_BIN names
# another (e.g. a copy built from an older commit, to compare).
GATEWAY_BIN=${GATEWAY_BIN:-target/release/gateway}

# start_gateway LOG ENV... : runs $GATEWAY_BIN with ENV, waits until /readyz
# answers; sets GW_PID. GATEWAY_ADDR must be among ENV.
start_gateway() {
  local log=$1; shift
  env "$@" RUST_LOG=warn "$GATEWAY_BIN" > "$log" 2>&1 &
  GW_PID=$!
  local addr
  addr=$(printf '%s\n' "$@" | sed -n 's/^GATEWAY_ADDR=//p')
  for _ in $(seq 1 100); do
    curl -sf "http://$addr/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the gateway did not get ready; its log:" >&2; cat "$log" >&2; exit 1
}
stop_gateway() {
  if [ -n "${GW_PID:-}" ]; then kill "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; GW_PID=; fi
}

# wrk_ms FILE PERCENT : a latency wrk printed with --latency, in milliseconds.
wrk_ms() {
  awk -v p="$2" '$1 == p {
    v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)}
    else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}' "$1"
}
# pgbench_ms PREFIX : p50 and p99 in milliseconds from pgbench -l logs (µs, 3rd column).
pgbench_ms() {
  cat "$1".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {
    printf "%.2f %.2f", v[int(NR*0.50)]/1000, v[int(NR*0.99)]/1000}'
}
# median N... : the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# profile_start TAG : samples the gateway's stacks (perf) until profile_stop,
# when PROFILE is set; the report goes to bench/profiles/TAG.txt.
profile_start() {
  PERF_PID=
  [ -n "${PROFILE:-}" ] || return 0
  need perf
  perf record -q -F 499 -g -p "$GW_PID" -o "$WORK/perf.data" > /dev/null 2>&1 &
  PERF_PID=$!
  PERF_TAG=$1
}
profile_stop() {
  [ -n "${PERF_PID:-}" ] || return 0
  kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
  mkdir -p bench/profiles
  perf report -i "$WORK/perf.data" --stdio --no-children --percent-limit 1.5 2>/dev/null \
    | grep -v '^$' | head -150 > "bench/profiles/$PERF_TAG.txt"
  PERF_PID=
}
