#!/usr/bin/env bash
# Benchmark of the monthly push (issue: indicators, data values and the monthly push).
#
# Generates 1,000,000 values (500 indicators × 200 units × 10 months), starts a throwaway PostgreSQL cluster and
# the API (Release build) against it, warms the API up with a push of 12 values (applied, then deleted), and pushes
# the values as CSV over HTTP three times: new values, every value changed, and the changed values again (unchanged).
# For each push it prints rows per second and, measured in the same run on the same database, the floor: psql \copy
# of the same CSV into a staging table plus the merge in SQL (INSERT … ON CONFLICT … DO UPDATE … WHERE IS DISTINCT
# FROM) into a copy of data_values with the same keys and foreign keys. It also prints the API process's peak memory
# (VmHWM) and whether the unchanged push rewrote anything (pg_stat_user_tables.n_tup_upd of data_values). Each floor
# and each push starts on settled tables (both vacuumed and analysed, a checkpoint), so that neither pays for the
# dead rows the one before it left.
#
# Usage: bash tests/Benchmarks/push-benchmark.sh [rows-per-indicator-unit-months: months, default 10]
# Needs: the .NET SDK, PostgreSQL server binaries (initdb, pg_ctl; /usr/lib/postgresql/*/bin), psql, curl, python3.
# Everything runs on 127.0.0.1 and is removed at the end. Targets (issue 13): push ≤ 1.2 × floor; peak memory ≤ 300 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."

INDICATORS=${INDICATORS:-500}
UNITS=${UNITS:-200}
MONTHS=${1:-10}
ROWS=$((INDICATORS * UNITS * MONTHS))

work=$(mktemp -d /tmp/rectify-bench-XXXXXX)
source tests/Benchmarks/bench-env.sh

echo "== cluster on 127.0.0.1:$pg_port, API on 127.0.0.1:$api_port, $ROWS values per push"
start_cluster -c shared_buffers=512MB -c max_wal_size=4GB -c fsync=on -c log_min_duration_statement=${LOG_MS:--1}

echo "== building the API (Release)"
build_api

echo "== starting the API (migrations)"
start_api "$dll"

new_key
echo "== catalogue: $INDICATORS indicators, $UNITS units, a push client; floor table with the same keys"
"${psql[@]}" <<SQL
INSERT INTO units (code, name, kind) SELECT 'B' || lpad(u::text, 4, '0'), '基准单位' || u, 'county' FROM generate_series(1, $UNITS) u;
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction)
SELECT 'BENCH-' || lpad(i::text, 3, '0'), '基准指标' || i, '人', 'count', 'monthly', 'sum', 'flow', 'higher_is_better'
FROM generate_series(1, $INDICATORS) i;
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction)
VALUES ('WARM-001', '预热指标', '人', 'count', 'monthly', 'sum', 'flow', 'higher_is_better');
INSERT INTO clients (name, scopes, created_at) VALUES ('benchmark', ARRAY['push', 'read'], now());
INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark';
CREATE TABLE floor_values (LIKE data_values INCLUDING ALL);
ALTER TABLE floor_values ADD FOREIGN KEY (indicator_id) REFERENCES indicators (id), ADD FOREIGN KEY (unit_code) REFERENCES units (code);
SQL

echo "== generating CSV files"
python3 - "$work" "$INDICATORS" "$UNITS" "$MONTHS" <<'PY'
import sys
work, n_ind, n_unit, n_month = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
months = [f"{2024 + (m // 12)}-{m % 12 + 1:02d}" for m in range(n_month)]
for name, shift in (("v1", 0), ("v2", 7)):
    with open(f"{work}/{name}.csv", "w", encoding="utf-8", newline="") as f:
        f.write("indicator,unit,period,value,comment\r\n")
        for i in range(1, n_ind + 1):
            ind = f"BENCH-{i:03d}"
            for u in range(1, n_unit + 1):
                unit = f"B{u:04d}"
                for k, month in enumerate(months):
                    f.write(f"{ind},{unit},{month},{(i * 31 + u * 17 + k * 5 + shift) % 100000}.{(u + k) % 100:02d},\r\n")
PY
ls -l "$work"/v1.csv "$work"/v2.csv | awk '{print "   " $5 " bytes  " $9}'

# A warm-up push of 12 values of an indicator of its own, applied and then deleted, before anything is timed: the
# push's code compiled, as in a service that has been running (the read benchmarks warm up each step the same way).
# Without it the first timed push, the new one, also paid the start-up's compilation (about 0.7 s here).
{ echo "indicator,unit,period,value,comment"; for m in 01 02 03 04 05 06 07 08 09 10 11 12; do echo "WARM-001,B0001,2023-$m,1,"; done; } > "$work/warm.csv"
warm() { # $1 query string → HTTP status of the push of warm.csv
  curl -s -o "$work/summary.json" -w '%{http_code}' -X POST -H 'Content-Type: text/csv' -H "Authorization: Bearer $api_key" \
    --data-binary @"$work/warm.csv" "http://127.0.0.1:$api_port/api/v1/data-values/import$1"
}
[ "$(warm '')" = 200 ] && [ "$(warm '?strategy=delete')" = 200 ] || { echo "the warm-up push failed: $(cat "$work/summary.json")" >&2; exit 1; }
n_tup_upd() {
  sleep 11 # a backend reports its statistics within 10 s of going idle
  "${psql[@]}" -At -c "SELECT pg_stat_clear_snapshot(); SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'data_values'" | tail -n 1
}

floor() { # $1 csv file → seconds for \copy into staging + merge into floor_values
  local start end
  start=$(date +%s.%N)
  "${psql[@]}" <<SQL
BEGIN;
CREATE TEMP TABLE staging (indicator text, unit text, period text, value numeric, comment text) ON COMMIT DROP;
\copy staging FROM '$1' WITH (FORMAT csv, HEADER true)
INSERT INTO floor_values AS d (indicator_id, unit_code, period, value, comment, source, created_at, updated_at)
SELECT i.id, s.unit, s.period, s.value, nullif(s.comment, ''), 'floor', now(), now()
FROM staging s JOIN indicators i ON i.code = s.indicator
ON CONFLICT (indicator_id, unit_code, period) DO UPDATE
SET value = EXCLUDED.value, comment = EXCLUDED.comment, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
WHERE (d.value, d.comment) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.comment);
COMMIT;
SQL
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# Before each timed operation, floor or push: the dead rows of the ones before vacuumed and their pages written, in
# both tables. Otherwise autovacuum and the checkpointer land on whichever runs next (the unchanged push or its floor
# paid for the changed ones' million dead rows, 0.9-1.5 x between runs of one build); a month's push follows the
# previous one by weeks, long after autovacuum has been.
settle() { "${psql[@]}" -q -c "VACUUM (ANALYZE) data_values" -c "VACUUM (ANALYZE) floor_values" -c "CHECKPOINT"; }
push() { # $1 csv file, $2 label → prints the line for this push
  local out seconds summary floor_seconds
  settle
  floor_seconds=$(floor "$1")
  settle
  out=$(curl -s -o "$work/summary.json" -w '%{http_code} %{time_total}' -X POST -H 'Content-Type: text/csv' -H "Authorization: Bearer $api_key" \
    --data-binary @"$1" "http://127.0.0.1:$api_port/api/v1/data-values/import")
  seconds=${out#* }
  summary=$(python3 -c "import json,sys; s=json.load(open('$work/summary.json')); print(f\"inserted={s['inserted']} updated={s['updated']} unchanged={s['unchanged']} rejected={s['rejected']}\")" 2>/dev/null || cat "$work/summary.json")
  printf '%-10s HTTP %s  %6.2f s  %9.0f rows/s | floor %6.2f s  %9.0f rows/s | push/floor %.2f× | %s\n' \
    "$2" "${out%% *}" "$seconds" "$(echo "$ROWS / $seconds" | bc -l)" "$floor_seconds" "$(echo "$ROWS / $floor_seconds" | bc -l)" \
    "$(echo "$seconds / $floor_seconds" | bc -l)" "$summary"
}

echo "== pushes (each preceded by its floor on the same database)"
push "$work/v1.csv" "new"
push "$work/v2.csv" "changed"
xmins() { "${psql[@]}" -At -c "SELECT md5(string_agg(xmin::text, ',' ORDER BY indicator_id, unit_code, period)) FROM data_values"; }
before=$(n_tup_upd); before_xmin=$(xmins)
push "$work/v2.csv" "unchanged"
after=$(n_tup_upd); after_xmin=$(xmins)
echo "unchanged push: data_values n_tup_upd $before → $after ($((after - before)) rows rewritten); row versions (xmin) $([ "$before_xmin" = "$after_xmin" ] && echo unchanged || echo CHANGED)"
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")
echo "API peak memory (VmHWM): $((peak_kb / 1024)) MB"
echo "rows in data_values: $("${psql[@]}" -At -c 'SELECT count(*) FROM data_values')"
