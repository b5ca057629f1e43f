#!/usr/bin/env bash
# Memory of an xlsx push against the CSV push of the same rows (issue: offices live in Excel and read Chinese).
#
# Generates 100,000 values (100 indicators × 100 units × 10 months) twice over, once as CSV and once as an xlsx
# workbook as Excel saves one (shared strings for the codes and periods, numbers as number cells), starts a throwaway
# PostgreSQL cluster and the API (Release) against it, and pushes each file over HTTP with the API started afresh for
# each format: so each format's peak resident memory (VmHWM of /proc/PID/status) is its own. Before the measured push
# the API answers a warm-up push of 10 rows in the same format (the code paths loaded and compiled), and its VmHWM then
# is the baseline; the table shows the peak after the push, its increase over the baseline and the push's time. The
# two formats write to different indicators of the same shape, so both pushes insert 100,000 new values.
#
# The CSV push is the budget: the goal is an xlsx peak no more than a few tens of MB above the CSV's.
#
# Usage: bash tests/Benchmarks/workbook-push-memory.sh [rows, default 100000 (a multiple of 1000)]
# Needs: the .NET SDK, PostgreSQL server binaries (initdb, pg_ctl; /usr/lib/postgresql/*/bin), psql, curl, python3.
# Everything runs on 127.0.0.1 and is removed at the end (KEEP=1 keeps it). API_DLL=… reuses a built Rectify.Api.dll.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${1:-100000}
INDICATORS=$((ROWS / 1000))
UNITS=100
MONTHS=10

work=$(mktemp -d /tmp/rectify-xlsx-bench-XXXXXX)
source tests/Benchmarks/bench-env.sh

echo "== cluster on 127.0.0.1:$pg_port, API on 127.0.0.1:$api_port, $ROWS values per push"
start_cluster -c shared_buffers=256MB -c max_wal_size=2GB

echo "== building the API (Release)"
build_api

echo "== starting the API (migrations)"
start_api "$dll"

new_key
"${psql[@]}" <<SQL
INSERT INTO units (code, name, kind) SELECT 'B' || lpad(u::text, 4, '0'), '基准单位' || u, 'county' FROM generate_series(1, $UNITS) u;
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction)
SELECT f || '-' || lpad(i::text, 3, '0'), '基准指标' || i, '人', 'count', 'monthly', 'sum', 'flow', 'higher_is_better'
FROM unnest(ARRAY['CSV', 'XLSX', 'WARM-CSV', 'WARM-XLSX']) f, generate_series(1, $INDICATORS) i;
INSERT INTO clients (name, scopes, created_at) VALUES ('benchmark', ARRAY['push', 'read'], now());
INSERT INTO api_keys (client_id, prefix, key_hash, created_at)
SELECT id, '$key_prefix', decode('$key_hash', 'hex'), now() FROM clients WHERE name = 'benchmark';
SQL

echo "== generating the CSV and xlsx files"
python3 - "$work" "$INDICATORS" "$UNITS" "$MONTHS" <<'PY'
import sys, zipfile
from xml.sax.saxutils import escape
work, n_ind, n_unit, n_month = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
months = [f"{2024 + (m // 12)}-{m % 12 + 1:02d}" for m in range(n_month)]
header = ["indicator", "unit", "period", "value", "comment"]

def rows(prefix, limit=None):
    n = 0
    for i in range(1, n_ind + 1):
        for u in range(1, n_unit + 1):
            for k, month in enumerate(months):
                if limit is not None and n == limit: return
                n += 1
                yield f"{prefix}-{i:03d}", f"B{u:04d}", month, f"{(i * 31 + u * 17 + k * 5) % 100000}.{(u + k) % 100:02d}"

def csv(name, prefix, limit=None):
    with open(f"{work}/{name}.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\r\n")
        for ind, unit, month, value in rows(prefix, limit):
            f.write(f"{ind},{unit},{month},{value},\r\n")

def xlsx(name, prefix, limit=None):
    strings, index = [], {}
    def s(text):
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    with zipfile.ZipFile(f"{work}/{name}.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            out = []
            def flush():
                part.write("".join(out).encode("utf-8")); out.clear()
            out.append(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns}><sheetData>')
            out.append('<row r="1">' + "".join(f'<c r="{c}1" t="s"><v>{s(h)}</v></c>' for c, h in zip("ABCDE", header)) + "</row>")
            for r, (ind, unit, month, value) in enumerate(rows(prefix, limit), start=2):
                out.append(f'<row r="{r}"><c r="A{r}" t="s"><v>{s(ind)}</v></c><c r="B{r}" t="s"><v>{s(unit)}</v></c>'
                           f'<c r="C{r}" t="s"><v>{s(month)}</v></c><c r="D{r}"><v>{value}</v></c></row>')
                if len(out) >= 10000: flush()
            out.append("</sheetData></worksheet>")
            flush()
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {ns} count="{len(strings)}" '
                   f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(t)}</t></si>" for t in strings) + "</sst>")
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')

csv("values", "CSV"); xlsx("values", "XLSX")
csv("warm", "WARM-CSV", 10); xlsx("warm", "WARM-XLSX", 10)
PY
ls -l "$work"/values.csv "$work"/values.xlsx | awk '{print "   " $5 " bytes  " $9}'

hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$api_pid/status"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$api_pid/status"; }

push() { # $1 file, $2 content type → "http_code seconds", the summary in $work/summary.json
  curl -s -o "$work/summary.json" -w '%{http_code} %{time_total}' -X POST -H "Content-Type: $2" -H "Authorization: Bearer $api_key" \
    --data-binary @"$1" "http://127.0.0.1:$api_port/api/v1/data-values/import"
}

declare -A result
measure() { # $1 label, $2 extension, $3 content type
  stop_api
  start_api "$dll"
  local warm out inserted
  warm=$(push "$work/warm.$2" "$3")
  [ "${warm%% *}" = 200 ] || { echo "warm-up push of $1 answered ${warm%% *}: $(cat "$work/summary.json")"; exit 1; }
  local baseline; baseline=$(hwm_mb)
  out=$(push "$work/values.$2" "$3")
  local peak; peak=$(hwm_mb)
  inserted=$(python3 -c "import json; s=json.load(open('$work/summary.json')); print(s['inserted'], s['rejected'])" 2>/dev/null \
    || cat "$work/summary.json")
  [ "${out%% *}" = 200 ] || { echo "$1 push answered ${out%% *}: $(head -c 2000 "$work/summary.json")"; exit 1; }
  result[$1]="$baseline $peak ${out#* } $inserted $(rss_mb)"
  echo "   $1: HTTP ${out%% *}, inserted/rejected $inserted, baseline $baseline MB, peak $peak MB, ${out#* } s"
}

echo "== pushes (the API restarted for each format)"
measure CSV csv text/csv
measure xlsx xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet

read -r csv_base csv_peak csv_s _ _ _ <<<"${result[CSV]}"
read -r x_base x_peak x_s _ _ _ <<<"${result[xlsx]}"
echo
echo "| format | body | rows | time (s) | rows/s | baseline VmHWM (MB) | peak VmHWM (MB) | increase (MB) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for f in CSV xlsx; do
  read -r base peak seconds _ _ _ <<<"${result[$f]}"
  ext=$([ "$f" = CSV ] && echo csv || echo xlsx)
  bytes=$(stat -c %s "$work/values.$ext")
  printf '| %s | %.1f MB | %d | %.2f | %.0f | %d | %d | %d |\n' "$f" "$(echo "$bytes / 1048576" | bc -l)" "$ROWS" "$seconds" \
    "$(echo "$ROWS / $seconds" | bc -l)" "$base" "$peak" "$((peak - base))"
done
echo
delta=$((x_peak - csv_peak))
if [ "$delta" -le 50 ]; then
  echo "xlsx peak − CSV peak: $delta MB (within the budget of the CSV peak + 50 MB)"
else
  echo "xlsx peak − CSV peak: $delta MB: OVER the budget of the CSV peak + 50 MB by $((delta - 50)) MB"
fi
