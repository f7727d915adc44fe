#!/usr/bin/env bash
# make reset: stops what make run started and deletes its data: the databases accrue_<service>
# and the Redis keys under ACCRUE_STREAM_PREFIX (streams, consumer groups, webhook dedupe). The
# development signing key and the webhook secrets in .run/ stay. The next make run starts afresh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$here/env.sh"

"$here/stop.sh" --quiet

PSQL=(env PGOPTIONS="-c client_min_messages=warning" psql -h "$ACCRUE_PG_HOST" -p "$ACCRUE_PG_PORT" -U "$ACCRUE_PG_USER" -d postgres -w -v ON_ERROR_STOP=1 -tAq)
for s in "${ACCRUE_SERVICES[@]}"; do
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS accrue_$s WITH (FORCE)"
  echo "reset: dropped database accrue_$s"
done

[ -n "$ACCRUE_STREAM_PREFIX" ] || { echo "reset: ACCRUE_STREAM_PREFIX is empty; Redis left alone" >&2; exit 0; }
if ! command -v redis-cli >/dev/null 2>&1; then
  echo "reset: redis-cli not found; Redis keys under '$ACCRUE_STREAM_PREFIX' were not deleted" >&2
  exit 0
fi
R=(redis-cli -h "$ACCRUE_REDIS_HOST" -p "$ACCRUE_REDIS_PORT")
n=0
while IFS= read -r key; do
  [ -n "$key" ] || continue
  "${R[@]}" DEL "$key" >/dev/null
  n=$((n + 1))
done < <("${R[@]}" --scan --pattern "${ACCRUE_STREAM_PREFIX}*")
echo "reset: deleted $n Redis keys under '$ACCRUE_STREAM_PREFIX'"
