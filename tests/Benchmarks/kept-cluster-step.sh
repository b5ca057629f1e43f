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
# Run the builds to compare alternately, a few times each: the machine is shared and noisy.
set -euo pipefail
kept=$1 dll=$2 path=$3 list=${4:-} seconds=${5:-6}
shift $(($# < 5 ? $# : 5))
here=$(cd "$(dirname "$0")" && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port) api_port=$(free_port)
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d rectify_bench)
api_pid=""
stop() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  runuser -u postgres -- "$bin/pg_ctl" -D "$kept/data" stop -m fast >/dev/null 2>&1 || true
}
trap stop EXIT
runuser -u postgres -- "$bin/pg_ctl" -D "$kept/data" -l "$kept/step-postgres.log" -w -o "-c listen_addresses=127.0.0.1 -c port=$pg_port \
  -c unix_socket_directories=$kept -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on \
  -c shared_buffers=1GB -c max_connections=200" start >/dev/null
"${psql[@]}" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"

read -r key_prefix api_key key_hash < <(python3 -c '
import secrets, base64, hashlib
prefix = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
key = "rfy_" + prefix + "_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
print(prefix, key, hashlib.sha256(key.encode()).hexdigest())')
"${psql[@]}" -c "INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
                 SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark'"

env ConnectionStrings__Rectify="Host=127.0.0.1;Port=$pg_port;Database=rectify_bench;Username=postgres" Database__LoadDemoData=false \
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production Rectify__Access__RequestsPerMinute=1000000000 \
  Rectify__Snapshots__MonthEndDrafts=false "$@" dotnet "$dll" --urls "http://127.0.0.1:$api_port" >"$kept/step-api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$api_port/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$api_port/health/ready" >/dev/null || { tail -n 20 "$kept/step-api.log"; exit 1; }

export BENCH_PATH=$path BENCH_LIST=$list BENCH_KEY=$api_key
wrk -t2 -c64 -d3s --timeout 10s -s "$here/national/random-get.lua" "http://127.0.0.1:$api_port" >/dev/null
"${psql[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$api_pid/stat"; }
before=$(ticks)
out=$(wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s "$here/national/random-get.lua" "http://127.0.0.1:$api_port")
after=$(ticks)
result=$(sed -n 's/^WRK_RESULT //p' <<<"$out")
requests=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$result")
python3 - "$result" "$((after - before))" "$(getconf CLK_TCK)" "$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$api_pid/status")" <<'PY'
import json, sys
r, ticks, hz, hwm = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
errors = r["status"] + r["timeout"] + r["connect"] + r["read"] + r["write"]
print(f"{r['requests'] / r['duration_us'] * 1e6:.0f} req/s  p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms  "
      f"errors {errors}  API CPU {ticks / hz * 1000 / max(1, r['requests']):.3f} ms/request  API peak {hwm} MB")
PY
echo "calls/request | plan ms | exec ms | statement"
"${psql[@]}" -F ' | ' -c "SELECT round(calls::numeric / $requests, 2), round(mean_plan_time::numeric, 3), round(mean_exec_time::numeric, 3),
                           left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                          FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'
                          ORDER BY total_exec_time + total_plan_time DESC LIMIT 5"
