#!/usr/bin/env bash
# Offline vulnerability check: govulncheck against the Go vulnerability database fetched as a Go
# module (golang.org/x/vulndb, pinned in tools/govulncheck/go.mod) and indexed locally, so no
# vulnerability service needs to be reachable. Usage: tools/govulncheck/run.sh MODULE_DIR...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$root/bin
db=$root/.cache/vulndb
vulndb=$(GOWORK=off go -C "$root/tools/govulncheck" list -m -f '{{.Dir}}' golang.org/x/vulndb)
if [ -z "$vulndb" ] || [ ! -d "$vulndb/data/osv" ]; then
  GOWORK=off go -C "$root/tools/govulncheck" mod download golang.org/x/vulndb
  vulndb=$(GOWORK=off go -C "$root/tools/govulncheck" list -m -f '{{.Dir}}' golang.org/x/vulndb)
fi
stamp=$db/.source
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$vulndb" ]; then
  rm -rf "$db"
  mkdir -p "$(dirname "$db")"
  "$bin/indexdb" -vulns "$vulndb/data/osv" -out "$db"
  echo "$vulndb" >"$stamp"
fi
echo "vulncheck: $(go version | cut -d' ' -f3), database $(basename "$vulndb")"
status=0
for m in "$@"; do
  echo "==> $m"
  (cd "$root/$m" && "$bin/govulncheck" -db "file://$db" ./...) || status=1
done
exit $status
