#!/usr/bin/env bash
# Benchmark of the round dashboard (issue 4: GET /api/v1/rounds/{round}/dashboard).
#
# Starts a throwaway PostgreSQL cluster and the API (Release build) against it, inserts one round with MEASURES
# measures (default 1,000) under 10 areas of 3 issues each, 5 indicators with a year of values at the region, and 24
# monthly snapshots, then requests the dashboard REQUESTS times (default 300) over one keep-alive connection and prints
# latency percentiles, next to the same figures for GET /api/v1/rounds/{round} (one row: the floor of a request here)
# and the dashboard of a round with 10 measures (the dashboard's cost should barely depend on the number of measures).
#
# Usage: bash tests/Benchmarks/dashboard-benchmark.sh            (MEASURES=5000 REQUESTS=1000 to change the sizes)
# Needs: the .NET SDK, PostgreSQL server binaries (initdb, pg_ctl; /usr/lib/postgresql/*/bin), psql, curl, python3.
# Everything runs on 127.0.0.1, is bounded in time (timeouts on every wait), and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

MEASURES=${MEASURES:-1000}
REQUESTS=${REQUESTS:-300}

work=$(mktemp -d /tmp/rectify-dashboard-bench-XXXXXX)
source tests/Benchmarks/bench-env.sh

echo "== cluster on 127.0.0.1:$pg_port, API on 127.0.0.1:$api_port, $MEASURES measures, $REQUESTS requests each"
start_cluster

echo "== building the API (Release, artifacts under $work)"
build_api

echo "== starting the API (migrations)"
start_api "$dll" Rectify__Access__RequestsPerMinute=100000000

new_key

echo "== data: rounds BENCH-LARGE ($MEASURES measures) and BENCH-SMALL (10), indicators, snapshots"
"${psql[@]}" <<SQL
INSERT INTO clients (name, scopes, created_at) VALUES ('benchmark', ARRAY['read'], now());
INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark';
INSERT INTO units (code, name, kind, parent_code) VALUES
  ('460000', '海南省', 'province', NULL), ('460100', '海口市', 'city', '460000'),
  ('HNMZT', '海南省民政厅', 'department', '460000'), ('HNMZT.SHSW', '社会事务处', 'division', 'HNMZT'),
  ('HNMZT.SHJZ', '社会救助处', 'division', 'HNMZT');
INSERT INTO rounds (code, name, inspected_unit_code, inspection_body, inspection_start, inspection_end, state)
VALUES ('BENCH-LARGE', '基准轮次', 'HNMZT', '巡视组', '2024-09-01', '2024-12-31', 'rectifying'),
       ('BENCH-SMALL', '基准轮次（小）', 'HNMZT', '巡视组', '2024-09-01', '2024-12-31', 'rectifying');
-- Per round: 10 areas, each with two sub-issues; measures spread over the 30 issues, every state, due dates around today.
INSERT INTO issues (round_id, code, title, category, state, due_date)
SELECT r.id, a::text, '问题' || a, '领域' || a, 'in_progress', current_date + 90 FROM rounds r, generate_series(1, 10) a;
INSERT INTO issues (round_id, parent_id, code, title, category, state, due_date)
SELECT i.round_id, i.id, i.code || '.' || s, '子问题' || i.code || '.' || s, i.category, 'open', current_date + (s * 7 - 10)
FROM issues i, generate_series(1, 2) s WHERE i.parent_id IS NULL;
INSERT INTO measures (issue_id, code, title, owner_unit_code, state, progress, due_date, cancel_reason)
SELECT i.id, 'M' || n, '措施' || n, CASE WHEN n % 2 = 0 THEN 'HNMZT.SHSW' ELSE 'HNMZT.SHJZ' END,
       (ARRAY['planned', 'in_progress', 'done', 'cancelled'])[n % 4 + 1], (ARRAY[0, 50, 100, 0])[n % 4 + 1],
       current_date + (n % 120 - 60), CASE WHEN n % 4 = 3 THEN '合并实施' END
FROM rounds r
CROSS JOIN LATERAL generate_series(1, CASE r.code WHEN 'BENCH-LARGE' THEN $MEASURES ELSE 10 END) n
JOIN LATERAL (SELECT id FROM issues WHERE round_id = r.id ORDER BY id OFFSET n % 30 LIMIT 1) i ON true
ORDER BY r.id, n;
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction, target_value, target_date)
SELECT 'BENCH-IND-' || k, '基准指标' || k, '项', 'count', 'monthly', 'sum', 'stock', 'higher_is_better', 1000, '2025-12-31'
FROM generate_series(1, 4) k;
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction, target_value, numerator_id, denominator_id)
SELECT 'BENCH-RATE', '基准完成率', '%', 'ratio', 'monthly', 'sum', 'stock', 'higher_is_better', 100,
       (SELECT id FROM indicators WHERE code = 'BENCH-IND-1'), (SELECT id FROM indicators WHERE code = 'BENCH-IND-2');
INSERT INTO indicator_issues (indicator_id, issue_id)
SELECT ind.id, i.id FROM indicators ind JOIN issues i ON i.code = '1' AND i.parent_id IS NULL;
INSERT INTO data_values (indicator_id, unit_code, period, value, source, created_at, updated_at)
SELECT ind.id, u.code, to_char(date '2024-10-01' + make_interval(months => p), 'YYYY-MM'), 100 + p * 10 + ind.id, 'benchmark', now(), now()
FROM indicators ind, (VALUES ('460000'), ('460100')) u (code), generate_series(0, 11) p
WHERE ind.value_type <> 'ratio';
INSERT INTO snapshots (round_id, period, revision, status, origin, content, created_by, created_at, updated_by, updated_at, published_by, published_at)
SELECT r.id, to_char(date '2023-11-01' + make_interval(months => p), 'YYYY-MM'), 1, 'published', 'drafted',
       jsonb_build_object('summary', jsonb_build_object('completionRate', round(p * 100.0 / 24, 2))),
       'benchmark', now(), 'benchmark', now(), 'benchmark', now()
FROM rounds r, generate_series(0, 23) p;
ANALYZE;
SQL

echo "== requests (one keep-alive connection, $REQUESTS each after 20 warm-up requests)"
timeout 600 python3 - "$api_port" "$api_key" "$REQUESTS" <<'PY'
import http.client, json, statistics, sys, time
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
headers = {"Authorization": "Bearer " + key, "Accept": "application/json"}

def get(path):
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status} {body[:300]!r}")
    return body

def measure(label, path):
    for _ in range(20):
        get(path)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        body = get(path)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{label:<34} p50 {q(0.50):6.2f} ms  p95 {q(0.95):6.2f} ms  p99 {q(0.99):6.2f} ms  max {times[-1]:6.2f} ms  "
          f"mean {statistics.mean(times):6.2f} ms  {len(body):7d} bytes")
    return body

measure("GET /rounds/BENCH-LARGE (floor)", "/api/v1/rounds/BENCH-LARGE")
measure("dashboard, 10 measures", "/api/v1/rounds/BENCH-SMALL/dashboard")
body = measure("dashboard, large round", "/api/v1/rounds/BENCH-LARGE/dashboard")
d = json.loads(body)
print(f"large round: {d['totals']['measures']} measures {d['measuresByState']}, completion {d['completionRate']}%, "
      f"overdue {d['overdue']['total']} (listed {len(d['overdue']['items'])}), due soon {d['dueSoon']['total']}, "
      f"{len(d['areas'])} areas, {len(d['indicators'])} indicators, {len(d['trend'])} trend points")
PY
