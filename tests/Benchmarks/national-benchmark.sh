#!/usr/bin/env bash
# The national benchmark (issue 13): the read path and the push measured against PostgreSQL's own floor, in one run,
# on national-scale synthetic data.
#
# Starts a throwaway PostgreSQL cluster (pg_stat_statements loaded) and runs the service's migrations in it with the
# API (Release build), loads a synthetic data set set-based in SQL (national/load.sql: a three-level unit tree, indicators
# with monthly values at every county, rounds with issues and measures), runs national/after-load.sql when it exists
# (the hook for derived tables), lets the API draft the month just ended for every round and publishes those snapshots,
# restarts the API for the measurements (default settings but the rate limits; no month-end job), then measures with wrk (-t2 -c64, random ids and units from lists, national/random-get.lua), each step for a fixed time:
#   (1) the floor: pgbench -S -M prepared -c 16 on the same cluster   (2) GET /health/live
#   (3) GET /measures/{id}   (4) GET /issues?round=&state=   (5) 48-month series at a county, a province, the country
#   (6) GET /rounds/{round}/dashboard   (7) a published snapshot with If-None-Match (304)
#   (8) with --push: tests/Benchmarks/push-benchmark.sh (1,000,000 values against the psql floor; a few minutes)
# and prints, per step, req/s, p50 and p99 with their ratios to (1), the API's and PostgreSQL's CPU, the API's peak
# RSS, and PostgreSQL statements per request (pg_stat_statements, reset before each step) as a Markdown table, also
# written to tests/Benchmarks/results/national-<UTC time>.md (git-ignored).
#
# Usage: bash tests/Benchmarks/national-benchmark.sh [--scale small|medium|national] [--seconds N] [--warmup N] [--push]
#   small:    3 provinces × 100 counties, 30 indicators, 12 months  (≈ 0.1 M values)
#   medium:   30 provinces × 100 counties, 60 indicators, 48 months (≈ 8.6 M values)
#   national: 30 provinces × 100 counties, 300 indicators, 48 months (≈ 43 M values; default)
#   Sizes can be set one by one: PROVINCES, COUNTIES, INDICATORS, MONTHS, ROUNDS (50), ISSUES (40 per round), MEASURES (10 per issue).
#   KEEP=1 keeps the folder (cluster data, logs, lists) after the run.
# Needs: the .NET SDK, PostgreSQL server binaries with pg_stat_statements (postgresql-contrib), pgbench, psql, wrk,
# curl, python3. Everything runs on 127.0.0.1 and is stopped and removed at the end, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/Benchmarks

scale=national seconds=10 warmup=2 push=false
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --push) push=true; shift ;;
    *) echo "usage: $0 [--scale small|medium|national] [--seconds N] [--warmup N] [--push]" >&2; exit 2 ;;
  esac
done
case $scale in
  small) d_provinces=3 d_counties=100 d_indicators=30 d_months=12 ;;
  medium) d_provinces=30 d_counties=100 d_indicators=60 d_months=48 ;;
  national) d_provinces=30 d_counties=100 d_indicators=300 d_months=48 ;;
  *) echo "unknown scale $scale (small, medium, national)" >&2; exit 2 ;;
esac
PROVINCES=${PROVINCES:-$d_provinces} COUNTIES=${COUNTIES:-$d_counties} INDICATORS=${INDICATORS:-$d_indicators} MONTHS=${MONTHS:-$d_months}
ROUNDS=${ROUNDS:-50} ISSUES=${ISSUES:-40} MEASURES=${MEASURES:-10}
[ $((ISSUES % 4)) = 0 ] || { echo "ISSUES must be a multiple of 4 (areas with three sub-issues each)" >&2; exit 2; }
for tool in wrk pgbench psql curl python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "needs $tool (wrk, pgbench: apt-get install wrk postgresql-contrib)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/rectify-national-bench-XXXXXX)
source $here/bench-env.sh
[ -f "$bin/../lib/pg_stat_statements.so" ] || ls /usr/lib/postgresql/*/lib/pg_stat_statements.so >/dev/null 2>&1 \
  || { echo "needs pg_stat_statements (apt-get install postgresql-contrib)" >&2; exit 2; }
sampler_pid=""
national_cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  cleanup
}
trap national_cleanup EXIT
trap 'exit 143' TERM INT  # a signal ends the script through the EXIT trap: nothing is left running

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
values=$((PROVINCES * COUNTIES * INDICATORS * MONTHS))
echo "== $scale scale: $((1 + PROVINCES + PROVINCES * COUNTIES)) units, $INDICATORS indicators × $MONTHS months at $((PROVINCES * COUNTIES)) counties ($values values), $ROUNDS rounds × $ISSUES issues × $MEASURES measures"
echo "== cluster on 127.0.0.1:$pg_port (pg_stat_statements), API on 127.0.0.1:$api_port, load average $load_before"
start_cluster -c shared_preload_libraries=pg_stat_statements -c max_connections=200 -c shared_buffers=1GB \
  -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=8GB -c checkpoint_timeout=30min -c maintenance_work_mem=1GB

echo "== building the API (Release)"
build_api

echo "== migrations (the API once, without month-end drafts)"
start_api "$dll" Rectify__Snapshots__MonthEndDrafts=false
stop_api

echo "== loading the data set (national/load.sql)"
t0=$(date +%s.%N)
"${psql[@]}" -v provinces="$PROVINCES" -v counties="$COUNTIES" -v indicators="$INDICATORS" -v months="$MONTHS" \
  -v rounds="$ROUNDS" -v issues="$ISSUES" -v measures="$MEASURES" -f $here/national/load.sql
# ---- HOOK: derived tables. A feature that keeps derived rows (e.g. roll-ups maintained by the push's merge) fills
# ---- them here from the loaded rows, in national/after-load.sql; the step is skipped while that file does not exist.
if [ -f $here/national/after-load.sql ]; then
  echo "== after-load hook: national/after-load.sql"
  th=$(date +%s.%N)
  "${psql[@]}" -f $here/national/after-load.sql
  echo "   after-load.sql in $(printf '%.1f' "$(echo "$(date +%s.%N) - $th" | bc -l)") s"
fi
tv=$(date +%s.%N)
"${psql[@]}" -c "VACUUM (ANALYZE)" -c CHECKPOINT
t1=$(date +%s.%N)
load_seconds=$(printf '%.0f' "$(echo "$t1 - $t0" | bc -l)")
db_size=$("${psql[@]}" -At -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "   VACUUM (ANALYZE) in $(printf '%.1f' "$(echo "$t1 - $tv" | bc -l)") s; loaded in $load_seconds s, database $db_size"

new_key
"${psql[@]}" <<SQL
INSERT INTO clients (name, scopes, created_at) VALUES ('benchmark', ARRAY['read', 'review', 'push'], now());
INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark';
SQL

lifted=(Rectify__Access__RequestsPerMinute=1000000000 Rectify__Access__PushesPerMinute=1000000)
echo "== snapshots: the API's month-end job drafts the month just ended for every round (in one unit of work, given an hour)"
t0=$(date +%s.%N)
start_api "$dll" "${lifted[@]}" Rectify__Snapshots__DraftAfter=00:00:00 Database__Resilience__UnitOfWorkTimeout=01:00:00
month=$("${psql[@]}" -At -c "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') - interval '1 month', 'YYYY-MM')")
for _ in $(seq 1 7200); do
  [ "$("${psql[@]}" -At -c "SELECT count(*) FROM snapshots WHERE period = '$month'")" -ge "$ROUNDS" ] && break
  sleep 0.5
done
[ "$("${psql[@]}" -At -c "SELECT count(*) FROM snapshots WHERE period = '$month'")" -ge "$ROUNDS" ] \
  || { echo "the drafts of $month did not appear within an hour"; tail -n 20 "$work/api.log"; exit 1; }
draft_seconds=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc -l)")
api="http://127.0.0.1:$api_port"
auth=(-H "Authorization: Bearer $api_key")
: >"$work/snapshots.tsv"
for round in $("${psql[@]}" -At -c "SELECT code FROM rounds ORDER BY code"); do
  tag=$(curl -fsS -o /dev/null -D - -X POST "${auth[@]}" -H 'Content-Type: application/json' -d '{}' \
    "$api/api/v1/rounds/$round/snapshots/$month/publish" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
  [ -n "$tag" ] || { echo "publishing $round $month gave no ETag"; exit 1; }
  printf '%s\t%s\n' "$round" "$tag" >>"$work/snapshots.tsv"
done
echo "   $ROUNDS snapshots of $month drafted in $draft_seconds s (from the API's start) and published"
stop_api

echo "== the API for the measurements: rate limits lifted, no month-end job, every other setting its default"
start_api "$dll" "${lifted[@]}" Rectify__Snapshots__MonthEndDrafts=false

echo "== lists of random ids and units"
first=$("${psql[@]}" -At -c "SELECT min(period) FROM data_values")
last=$("${psql[@]}" -At -c "SELECT max(period) FROM data_values")
"${psql[@]}" -At -c "SELECT id FROM measures ORDER BY random() LIMIT 20000" >"$work/measures.tsv"
"${psql[@]}" -At -c "SELECT code FROM rounds" >"$work/rounds.tsv"
"${psql[@]}" -At -F $'\t' -c "SELECT i.code, u.code FROM indicators i, units u WHERE i.value_type <> 'ratio' AND u.kind = 'county' ORDER BY random() LIMIT 20000" >"$work/leaf.tsv"
"${psql[@]}" -At -F $'\t' -c "SELECT i.code, u.code FROM indicators i, units u WHERE i.value_type <> 'ratio' AND u.kind = 'province'" >"$work/province.tsv"
"${psql[@]}" -At -c "SELECT code FROM indicators WHERE value_type <> 'ratio'" >"$work/root.tsv"

echo "== the floor's database (pgbench -i -s 10) and pg_stat_statements"
psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE bench_floor"
pgbench -i -s 10 -q -h 127.0.0.1 -p "$pg_port" -U postgres bench_floor 2>&1 | tail -n 1
floor_psql=(psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d bench_floor)
"${floor_psql[@]}" -c "CREATE EXTENSION pg_stat_statements" -c "VACUUM ANALYZE"

# The API's resident memory, sampled every 0.1 s (per-step peaks), and CPU time of processes from /proc.
( while [ -e "/proc/$api_pid" ]; do
    while read -r k v _; do [ "$k" = VmRSS: ] && echo "$EPOCHREALTIME $v"; done <"/proc/$api_pid/status" 2>/dev/null || true
    sleep 0.1
  done ) >"$work/rss.log" &
sampler_pid=$!
postmaster=$(head -n 1 "$work/data/postmaster.pid")
cpu_ticks() { # $1 pid [children]: CPU ticks of the process (with "children": plus its reaped and live children)
  python3 - "$@" <<'PY'
import os, sys
def fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
pid, children = sys.argv[1], len(sys.argv) > 2
f = fields(pid)
ticks = int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if children else 0)
if children:
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                c = fields(p)
                if c[1] == pid:
                    ticks += int(c[11]) + int(c[12])
            except (OSError, IndexError):
                pass
print(ticks)
PY
}
statements() { # $1 database: statements PostgreSQL ran in it since the last reset
  "${floor_psql[@]}" -c "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                         WHERE d.datname = '$1' AND s.query NOT ILIKE '%pg_stat_statements%'"
}
: >"$work/steps.jsonl"
: >"$work/top.md"
top_statements() { # $1 step, $2 label: the step's three costliest statements (pg_stat_statements), for the report
  local requests
  requests=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$(tail -n 1 "$work/steps.jsonl")")
  {
    echo
    echo "($1) $2:"
    echo
    echo '| calls/req | mean ms | share of time | statement |'
    echo '| ---: | ---: | ---: | --- |'
    "${floor_psql[@]}" -F ' | ' -c "
      WITH s AS (SELECT s.calls, s.mean_exec_time, s.total_exec_time, s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                 WHERE d.datname = 'rectify_bench' AND s.query NOT ILIKE '%pg_stat_statements%')
      SELECT '| ' || round(calls::numeric / greatest(1, $requests), 2), round(mean_exec_time::numeric, 3),
             round(100 * total_exec_time::numeric / greatest(1e-9, (SELECT sum(total_exec_time) FROM s))::numeric, 1) || ' %',
             '\`' || left(regexp_replace(query, '\s+', ' ', 'g'), 110) || '…\` |'
      FROM s ORDER BY total_exec_time DESC LIMIT 3"
  } >>"$work/top.md"
}
record() { # $1 step, $2 label, $3 database, $4 wrk/pgbench result json, $5 start epoch, $6/$7 api/pg ticks before
  local end stmts app pg
  end=$EPOCHREALTIME
  stmts=$(statements "$3")
  app=$(cpu_ticks "$api_pid")
  pg=$(cpu_ticks "$postmaster" children)
  python3 - "$1" "$2" "$4" "$5" "$end" "$stmts" "$((app - $6))" "$((pg - $7))" "$work/rss.log" >>"$work/steps.jsonl" <<'PY'
import json, os, sys
step, label, result, start, end, stmts, app, pg, rss_log = sys.argv[1:]
r = json.loads(result)
start, end = float(start), float(end)
peak = 0
for line in open(rss_log):
    t, kb = line.split()
    if start <= float(t) <= end:
        peak = max(peak, int(kb))
tick = os.sysconf("SC_CLK_TCK")
seconds = r["duration_us"] / 1e6
r.update(step=step, label=label, statements=int(stmts), app_cores=int(app) / tick / (end - start), pg_cores=int(pg) / tick / (end - start),
         rss_mb=peak / 1024, rps=r["requests"] / seconds)
print(json.dumps(r))
PY
}

wrk_step() { # $1 step, $2 label, $3 path template, $4 list file or "", $5 header template or "", $6 expected status
  local path header status example fields start app pg out result i
  # One request first, checked: the status must be the one expected.
  example=$(if [ -n "$4" ]; then head -n 1 "$4"; fi)
  IFS=$'\t' read -r -a fields <<<"$example"
  path=$3 header=$5
  for i in "${!fields[@]}"; do path=${path//\{$((i + 1))\}/${fields[$i]}}; header=${header//\{$((i + 1))\}/${fields[$i]}}; done
  status=$(curl -s -o "$work/check.body" -w '%{http_code}' "${auth[@]}" ${header:+-H "$header"} "$api$path")
  [ "$status" = "$6" ] || { echo "$2: $path answered $status, expected $6: $(head -c 300 "$work/check.body")"; exit 1; }
  export BENCH_PATH=$3 BENCH_LIST=$4 BENCH_HEADER=$5 BENCH_KEY=$api_key
  wrk -t2 -c64 -d"${warmup}s" --timeout 10s -s $here/national/random-get.lua "$api" >/dev/null
  "${floor_psql[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
  start=$EPOCHREALTIME app=$(cpu_ticks "$api_pid") pg=$(cpu_ticks "$postmaster" children)
  out=$(wrk -t2 -c64 -d"${seconds}s" --timeout 10s -s $here/national/random-get.lua "$api")
  result=$(sed -n 's/^WRK_RESULT //p' <<<"$out")
  [ -n "$result" ] || { echo "$out"; exit 1; }
  record "$1" "$2" rectify_bench "$result" "$start" "$app" "$pg"
  top_statements "$1" "$2"
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"   ({r['step']}) {r['label']:<44} {r['rps']:9.0f} req/s  p50 {r['p50_us']/1000:8.2f} ms  p99 {r['p99_us']/1000:8.2f} ms  {r['statements']/max(1,r['requests']):5.2f} stmts/req  errors {r['status']+r['timeout']+r['connect']+r['read']+r['write']}\")" "$(tail -n 1 "$work/steps.jsonl")"
}

echo "== steps: wrk -t2 -c64, ${warmup} s warm-up, ${seconds} s measured"
pgbench_args=(-h 127.0.0.1 -p "$pg_port" -U postgres -S -M prepared -c 16 -j 2)
pgbench "${pgbench_args[@]}" -T "$warmup" bench_floor >/dev/null 2>&1
"${floor_psql[@]}" -c "SELECT pg_stat_statements_reset()" >/dev/null
start=$EPOCHREALTIME app=$(cpu_ticks "$api_pid") pg=$(cpu_ticks "$postmaster" children)
(cd "$work" && pgbench "${pgbench_args[@]}" -T "$seconds" -l --sampling-rate=0.1 --log-prefix=floor bench_floor >"$work/pgbench.out" 2>&1)
floor_result=$(python3 - "$work" <<'PY'
import glob, json, re, sys
work = sys.argv[1]
out = open(f"{work}/pgbench.out").read()
tx = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))
lat = sorted(int(line.split()[2]) for f in glob.glob(f"{work}/floor.*") for line in open(f))
pick = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
failed = re.search(r"number of failed transactions: (\d+)", out)
print(json.dumps({"requests": tx, "duration_us": int(tx / tps * 1e6), "connect": 0, "read": 0, "write": 0,
                  "status": int(failed.group(1)) if failed else 0, "timeout": 0, "p50_us": pick(0.5), "p99_us": pick(0.99), "max_us": lat[-1]}))
PY
)
record 1 'floor: `pgbench -S -M prepared -c 16`' bench_floor "$floor_result" "$start" "$app" "$pg"
python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"   (1) floor: pgbench -S -M prepared -c 16      {r['rps']:9.0f} tps    p50 {r['p50_us']/1000:8.2f} ms  p99 {r['p99_us']/1000:8.2f} ms\")" "$(tail -n 1 "$work/steps.jsonl")"

wrk_step 2 '`GET /health/live`' /health/live "" "" 200
wrk_step 3 '`GET /measures/{id}` (random ids)' '/api/v1/measures/{1}' "$work/measures.tsv" "" 200
wrk_step 4 '`GET /issues?round=&state=` (first page)' '/api/v1/issues?round={1}&state=in_progress' "$work/rounds.tsv" "" 200
wrk_step 5a "series, $MONTHS months, a county" "/api/v1/indicators/{1}/series?unit={2}&from=$first&to=$last" "$work/leaf.tsv" "" 200
wrk_step 5b "series, $MONTHS months, a province ($COUNTIES counties)" "/api/v1/indicators/{1}/series?unit={2}&from=$first&to=$last" "$work/province.tsv" "" 200
wrk_step 5c "series, $MONTHS months, the country ($((PROVINCES * COUNTIES)) counties)" "/api/v1/indicators/{1}/series?unit=CN&from=$first&to=$last" "$work/root.tsv" "" 200
wrk_step 6 '`GET /rounds/{round}/dashboard`' '/api/v1/rounds/{1}/dashboard' "$work/rounds.tsv" "" 200
wrk_step 7 'published snapshot, `If-None-Match` (304)' "/api/v1/rounds/{1}/snapshots/$month" "$work/snapshots.tsv" 'If-None-Match: {2}' 304
api_hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$api_pid/status")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

push_out=""
if $push; then
  echo "== (8) the 1,000,000-value push against its psql floor (push-benchmark.sh, its own cluster)"
  push_out=$(API_DLL="$dll" bash $here/push-benchmark.sh 2>&1 | tee /dev/stderr)
fi

mkdir -p $here/results
report=$here/results/national-$(date -u +%Y%m%d-%H%M%S).md
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes')"
machine="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), shared"
python3 - "$work/steps.jsonl" "$report" <<PY
import json, sys
steps = [json.loads(line) for line in open(sys.argv[1])]
floor, health = steps[0], steps[1]
targets = {"3": 0.4, "4": 0.3, "5a": 0.3, "5b": 0.1, "5c": 0.05, "6": 0.05}
def ms(us): return f"{us / 1000:.2f} ms" if us < 1e6 else f"{us / 1e6:.2f} s"
rows = []
for s in steps:
    errors = s["status"] + s["timeout"] + s["connect"] + s["read"] + s["write"]
    ratio = s["rps"] / floor["rps"]
    if s["step"] in targets:
        goal, met = f"≥ {targets[s['step']]} × (1)", ratio >= targets[s["step"]]
    elif s["step"] == "7":
        goal, met = "≥ 0.5 × (2)", s["rps"] >= 0.5 * health["rps"]
    else:
        goal, met = "", None
    tail_ok = s["step"] == "1" or s["p99_us"] <= 4 * s["p50_us"]  # the target is for the service's endpoints
    mark = "" if met is None else (" ✓" if met else " ✗")
    rows.append(f"| ({s['step']}) {s['label']} | {s['rps']:,.0f} | **{ratio:.3f}** | {ms(s['p50_us'])} | {s['p50_us'] / floor['p50_us']:.1f} "
                f"| {ms(s['p99_us'])} | {s['p99_us'] / floor['p99_us']:.1f} | {s['p99_us'] / max(1, s['p50_us']):.1f}{'' if tail_ok else ' ✗'} "
                f"| {s['statements'] / max(1, s['requests']):.2f} | {s['app_cores']:.2f} / {s['pg_cores']:.2f} | {s['rss_mb']:.0f} MB | {errors} | {goal}{mark} |")
text = f"""# National benchmark, $scale scale

- run: $started (UTC), commit $commit, machine: $machine, load average before $load_before, after $load_after
- command: \`bash tests/Benchmarks/national-benchmark.sh --scale $scale --seconds $seconds --warmup $warmup$( $push && echo ' --push')\`
- data: $((1 + PROVINCES + PROVINCES * COUNTIES)) units (1 country, $PROVINCES provinces, $((PROVINCES * COUNTIES)) counties), $INDICATORS indicators with values (+ ratios) × $MONTHS months ($first…$last) at every county = $values values; $ROUNDS rounds × $ISSUES issues × $MEASURES measures; $ROUNDS published snapshots of $month. Loaded in $load_seconds s (database $db_size); the API drafted the $ROUNDS snapshots in $draft_seconds s.
- load: wrk -t2 -c64 (pgbench -c 16 -j 2 for the floor), ${warmup} s warm-up, ${seconds} s measured per step; rate limits lifted; API, PostgreSQL and the load generator on the same machine.

| step | req/s | × (1) | p50 | × (1) | p99 | × (1) | p99/p50 | statements/req | CPU cores app / pg | API peak RSS | errors | target |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
""" + "\n".join(rows) + f"""

API peak memory over the measured run (VmHWM of the API process that served the steps, start-up included): $api_hwm MB (target ≤ 250 MB under load).
Statements per request: pg_stat_statements calls in the step's database (BEGIN, COMMIT, DISCARD ALL included) ÷ requests.

Where PostgreSQL's time went, per step: its three costliest statements.
""" + open("$work/top.md").read()
open(sys.argv[2], "w").write(text)
print(text)
PY
if [ -n "$push_out" ]; then
  {
    echo
    echo "(8) The 1,000,000-value push against its psql floor (\`tests/Benchmarks/push-benchmark.sh\`, its own cluster):"
    echo
    echo '```'
    grep -E '^(new|changed|unchanged) |unchanged push:|API peak memory' <<<"$push_out"
    echo '```'
  } | tee -a "$report"
fi
echo "written to $report"
