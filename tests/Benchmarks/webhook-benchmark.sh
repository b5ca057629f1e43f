#!/usr/bin/env bash
# Webhook delivery throughput, end to end: N issue state changes committed in one statement (N outbox events), one
# subscription to a receiver on 127.0.0.1, through the real worker (signing, HTTP, the delivery log). Prints events/s
# and the latency from commit to receipt (first, median, last). Usage: bash tests/Benchmarks/webhook-benchmark.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-2000}"
RECTIFY_WEBHOOK_BENCHMARK_EVENTS="$N" dotnet test tests/Rectify.Api.Tests --filter "FullyQualifiedName~WebhookThroughputBenchmark" \
  --logger "console;verbosity=detailed" -- xUnit.Explicit=on xUnit.DiagnosticMessages=true 2>&1 | grep -E "webhook-benchmark|Passed!|Failed!"
