#!/usr/bin/env bash
# Renders the reference case's progress report (round HN-8-6-6, October 2025, published) to report.html,
# report.md, report.png and report.pdf (headless Chromium) in the folder given as $1 (default /tmp/rectify-report), by running
# the rendering test against its own throwaway PostgreSQL. Look at the PNG before calling a report change done.
#   tests/Report/render-report.sh [out-folder]
# Needs Debian's chromium, CJK fonts and poppler: apt-get install -y chromium fonts-noto-cjk poppler-utils
# RECTIFY_REPORT_HEIGHT sets the window height in pixels (default 4000; the whole page is about 9000).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mkdir -p "${1:-/tmp/rectify-report}" && cd "${1:-/tmp/rectify-report}" && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is not installed: apt-get install -y chromium fonts-noto-cjk poppler-utils" >&2
  exit 2
fi

artifacts=()
if [[ -n "${ARTIFACTS_PATH:-}" ]]; then artifacts=(--artifacts-path "$ARTIFACTS_PATH"); fi

RECTIFY_REPORT_OUT="$out" RECTIFY_REPORT_REQUIRE_PNG=1 \
  dotnet test "$root/tests/Rectify.Api.Tests" "${artifacts[@]}" \
    --filter "FullyQualifiedName~Rectify.Api.Tests.Report.ReportScreenshotTests"

for file in report.html report.md report.png; do
  test -s "$out/$file" || { echo "$out/$file was not written" >&2; exit 1; }
done
echo "Rendered: $out/report.png (page: $out/report.html, Markdown: $out/report.md)"
