#!/usr/bin/env bash
# One step of the national benchmark against a cluster it kept (KEEP=1), for A/B comparisons of API builds on the same
# data: starts the kept cluster (pg_stat_statements with planning time), a benchmark key, the given API build with the
# rate limits lifted, then wrk -t2 -c64 (3 s warm-up, SECONDS measured) on one path, and prints req/s, p50, p99, the
# API's CPU per request, its peak memory, and PostgreSQL's five costliest statements (calls per request, mean planning
# and execution ms). Everything is stopped at the end; the kept folder stays.
#
# Usage: bash tests/Benchmarks/kept-cluster-step.sh KEPT_FOLDER API_DLL PATH_TEMPLATE [LIST_FILE] [SECONDS] [NAME=value …]
#   e.g. bash tests/Benchmarks/kept-cluster-step.sh /tmp/rectify-national-bench-XXXXXX /tmp/api/Rectify.Api.dll \
#          '/api/v1/measures/{1}' /tmp/rectify-national-bench-XXXXXX/measures.tsv 6
# PATH_TEMPLATE "reads" runs the national benchmark's read steps (3) to (7) one after the other on the one API process,
# with the kept lists, a line each, and the API's peak memory over them all (VmHWM, as the national run reports it).
# Run the builds to compare alternately, a few times each: the machine is shared and noisy.
# PERF=1 also samples the API with perf (Debian: linux-perf) during the measured run, its JIT-compiled methods named
# (DOTNET_PerfMapEnabled), and prints its 25 costliest symbols; the samples stay in the kept folder (step.perf).
# The API migrates the kept database at start-up: compare builds with the same migrations (one that adds a migration
# over data_values would rebuild it first, minutes at national scale, and the step would time out waiting).
set -euo pipefail
kept=$1 dll=$2 path=$3 list=${4:-} seconds=${5:-6}
[ -z "${PERF:-}" ] || command -v perf >/dev/null || { echo "PERF=1 needs perf (apt-get install linux-perf)" >&2; exit 2; }
shift $(($# < 5 ? $# : 5))
here=$(cd "$(dirname "$0")" && pwd)
work=$kept KEEP=1 # bench-env.sh's clean-up stops the API and the cluster and, with KEEP, leaves the folder
source "$here/bench-env.sh"
"${as_postgres[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/step-postgres.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 \
  -c port=$pg_port -c unix_socket_directories=$work -c shared_preload_libraries=pg_stat_statements \
  -c pg_stat_statements.track_planning=on -c shared_buffers=1GB -c max_connections=200" start >/dev/null
psql=("${psql[@]}" -At)
"${psql[@]}" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
new_key
"${psql[@]}" -c "INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
                 SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark'"
profiling=()
[ -n "${PERF:-}" ] && profiling=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
start_api "$dll" Rectify__Access__RequestsPerMinute=1000000000 Rectify__Snapshots__MonthEndDrafts=false "${profiling[@]}" "$@"

ticks() { awk '{print $14 + $15}' "/proc/$api_pid/stat"; }
# One step: a 3 s warm-up, then SECONDS measured; prints its line (STEP_NAME first when set).
step() {
  export BENCH_PATH=$1 BENCH_LIST=${2:-} BENCH_HEADER=${3:-} BENCH_KEY=$api_key
  wrk -t2 -c64 -d3s --timeout 10s -s "$here/national/random-get.lua" "http://127.0.0.1:$api_port" >/dev/null
  "${psql[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
  perf_pid=""
  if [ -n "${PERF:-}" ]; then
    perf record -q -F 499 -g -p "$api_pid" -o "$work/step.perf" -- sleep "$seconds" 2>/dev/null &
    perf_pid=$!
  fi
  local before after out result
  before=$(ticks)
  out=$(wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s "$here/national/random-get.lua" "http://127.0.0.1:$api_port")
  after=$(ticks)
  [ -n "$perf_pid" ] && wait "$perf_pid"
  result=$(sed -n 's/^WRK_RESULT //p' <<<"$out")
  requests=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$result")
  python3 - "$result" "$((after - before))" "$(getconf CLK_TCK)" "$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$api_pid/status")" \
    "${STEP_NAME:-}" <<'PY'
import json, sys
r, ticks, hz, hwm, name = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
errors = r["status"] + r["timeout"] + r["connect"] + r["read"] + r["write"]
print(f"{name + '  ' if name else ''}{r['requests'] / r['duration_us'] * 1e6:.0f} req/s  p50 {r['p50_us'] / 1000:.2f} ms  "
      f"p99 {r['p99_us'] / 1000:.2f} ms  errors {errors}  API CPU {ticks / hz * 1000 / max(1, r['requests']):.3f} ms/request  API peak {hwm} MB")
PY
}

if [ "$path" = reads ]; then
  first=$("${psql[@]}" -c "SELECT min(period) FROM data_values") last=$("${psql[@]}" -c "SELECT max(period) FROM data_values")
  month=$("${psql[@]}" -c "SELECT max(period) FROM snapshots WHERE status = 'published'")
  STEP_NAME="(3) measure" step '/api/v1/measures/{1}' "$kept/measures.tsv"
  STEP_NAME="(4) issues" step '/api/v1/issues?round={1}&state=in_progress' "$kept/rounds.tsv"
  STEP_NAME="(5a) county" step "/api/v1/indicators/{1}/series?unit={2}&from=$first&to=$last" "$kept/leaf.tsv"
  STEP_NAME="(5b) province" step "/api/v1/indicators/{1}/series?unit={2}&from=$first&to=$last" "$kept/province.tsv"
  STEP_NAME="(5c) country" step "/api/v1/indicators/{1}/series?unit=CN&from=$first&to=$last" "$kept/root.tsv"
  STEP_NAME="(6) dashboard" step '/api/v1/rounds/{1}/dashboard' "$kept/rounds.tsv"
  STEP_NAME="(7) 304" step "/api/v1/rounds/{1}/snapshots/$month" "$kept/snapshots.tsv" 'If-None-Match: {2}'
  echo "API peak over the steps: $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$api_pid/status") MB"
  exit 0
fi
step "$path" "$list"
# Planning per call, not pg_stat_statements' mean_plan_time, which is per planning: a prepared statement plans rarely.
echo "calls/request | plan ms/call | exec ms/call | statement"
"${psql[@]}" -F ' | ' -c "SELECT round(calls::numeric / $requests, 2), round((total_plan_time / calls)::numeric, 3), round(mean_exec_time::numeric, 3),
                           left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                          FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'
                          ORDER BY total_exec_time + total_plan_time DESC LIMIT 5"
if [ -n "$perf_pid" ]; then
  echo "API's costliest symbols (perf, self time):"
  perf report -i "$work/step.perf" -g none --no-children --sort dso,symbol 2>/dev/null | grep '%' | grep -v '^#' | head -n 25 | cut -c1-180 || true
fi
