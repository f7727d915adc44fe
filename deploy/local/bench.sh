#!/usr/bin/env bash
# make bench: runs the Go benchmarks of the e2e module against real binaries, databases and
# Redis (each benchmark starts its own Accrue on private ports), and keeps the output under
# bench/out/. Choose benchmarks with BENCH (a -bench regexp), e.g.
#   make bench BENCH=ConvertOpportunity
#   make bench BENCH=StaffingForecast
#   make bench BENCH=MonthEnd
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
out="bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "benchmarks: ${BENCH:-all}; output also in $out"
go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -timeout 60m ./e2e/ 2>&1 | tee "$out"
