#!/usr/bin/env bash
# make bench: runs the Go benchmarks of the e2e module against real binaries, databases and
# Redis (each benchmark starts its own Accrue on private ports) and billing's in-process ones
# (the journal export), keeps the raw output under
# bench/out/, and rewrites the "Latest runs" section of docs/benchmarks.md with the figures of each
# benchmark that ran (its date, commit, Go version and cores beside them). Choose benchmarks with
# BENCH (a -bench regexp), e.g.
#   make bench BENCH=ConvertOpportunity
#   make bench BENCH=StaffingForecast
#   make bench BENCH=MonthEnd
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
out="bench/out/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "benchmarks: ${BENCH:-all}; output also in $out"
go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -timeout 60m ./e2e/ ./services/billing/internal/grpcapi/ 2>&1 | tee "$out"
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- ':!docs/benchmarks.md' 2>/dev/null)" ] || commit="$commit+uncommitted"
GOWORK=off go -C tools/benchdoc run . -in "$PWD/$out" -doc "$PWD/docs/benchmarks.md" -commit "$commit" -cores "$(nproc)" -go "$(go env GOVERSION)"
echo "docs/benchmarks.md updated (section 'Latest runs')"
