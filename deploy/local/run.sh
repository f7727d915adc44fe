#!/usr/bin/env bash
# Runs Accrue locally: the five services and the gateway as background processes, on the local
# Postgres and Redis (`make run` = `make deps build` + this script). State lives in .run/:
#   .run/keys/    development signing key and JWKS (accruectl keygen)
#   .run/tls/     a local CA and one certificate per process: every gRPC link uses mutual TLS
#                 (accruectl certs)
#   .run/event-keys/  one event signing key per service (accruectl event-keys)
#   .run/tokens/  the token of each service that calls others, with only those calls' scopes
#                 (ACCRUE_SERVICE_TOKEN_FILE, accruectl service-scopes), and in webhooks/ each
#                 webhook route's token (ACCRUE_WEBHOOK_TOKEN_DIR)
#   .run/webhook-secrets  one signing secret per webhook route and source
#   .run/logs/    one JSON log per process (the previous run's as <name>.log.prev)
#   .run/pids/    one pid file per process, read by stop.sh
# It stops what a previous run left, starts everything, waits for /readyz, prints how to call the
# API and runs a small demo. `make stop` stops it all.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$here/env.sh"
cd "$ACCRUE_ROOT"

# The local key is the only token authority here (services accept exactly one JWKS source).
unset ACCRUE_JWKS_URL

BIN=$ACCRUE_BIN_DIR
RUN=$ACCRUE_RUN_DIR
H=$ACCRUE_BIND_HOST
GW="http://$H:$ACCRUE_HTTP_PORT"
LOG_LEVEL=${ACCRUE_LOG_LEVEL:-info}

log() { echo "run: $*"; }
die() { echo "run: ERROR: $*" >&2; exit 1; }

command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
command -v psql >/dev/null 2>&1 || die "psql is needed: run 'make deps' first"
for b in "${ACCRUE_SERVICES[@]}" gateway accruectl; do
  [ -x "$BIN/$b" ] || die "$BIN/$b is missing: run 'make build' (or simply 'make run')"
done

mkdir -p "$RUN"/{logs,pids,keys,tokens,tokens/webhooks,tls,event-keys}
chmod 700 "$RUN/keys" "$RUN/tokens" "$RUN/tokens/webhooks" "$RUN/tls" "$RUN/event-keys"

# 1. Stop whatever a previous `make run` left running.
"$here/stop.sh" --quiet

# 2. Every port must be free now: anything still listening belongs to someone else.
port_holder() { # port → " (held by ...)" when ss can tell
  local who=""
  command -v ss >/dev/null 2>&1 && who=$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))/\1/p' | sed -n 1p)
  [ -z "$who" ] || echo " (held by $who)"
}
busy=0
check_port() { # name port
  if timeout 2 bash -c "exec 3<>/dev/tcp/$H/$2" 2>/dev/null; then
    echo "run: ERROR: port $H:$2 (needed by $1) is already in use by another program$(port_holder "$2")" >&2
    busy=1
  fi
}
for s in "${ACCRUE_SERVICES[@]}"; do
  check_port "$s gRPC" "${ACCRUE_GRPC_PORT[$s]}"
  check_port "$s metrics" "${ACCRUE_METRICS_PORT[$s]}"
done
check_port "gateway HTTP" "$ACCRUE_HTTP_PORT"
check_port "gateway admin (metrics)" "$ACCRUE_GATEWAY_ADMIN_PORT"
[ "$busy" -eq 0 ] || die "free the ports above (or stop the other Accrue copy with its own 'make stop') and run again"

# 3. Development signing key; services and gateway verify tokens against its JWKS.
if [ ! -f "$RUN/keys/signing.jwk" ] || [ ! -f "$RUN/keys/jwks.json" ]; then
  "$BIN/accruectl" keygen --dir "$RUN/keys" --force
fi
JWKS=$RUN/keys/jwks.json

# Internal links: a local CA and a certificate per process (mutual TLS between the gateway and
# the services and between services; kept across runs, reloaded by the processes when replaced),
# and an event signing key per service (consumers verify every event with its producer's key).
"$BIN/accruectl" certs --dir "$RUN/tls" --names "$(IFS=,; echo "${ACCRUE_SERVICES[*]},gateway")" >/dev/null ||
  die "accruectl certs failed"
"$BIN/accruectl" event-keys --dir "$RUN/event-keys" --producers "$(IFS=,; echo "${ACCRUE_SERVICES[*]}")" >/dev/null ||
  die "accruectl event-keys failed"

# 4. One database per service, with two roles (see docs/design-notes.md, "Database roles"): the
# owner (accrue_<svc>_owner) owns the tables and applies the migrations; the service runs as
# accrue_<svc>_app, which may read and write rows but owns nothing, so it can neither alter a
# table nor drop the audit trail's triggers. Local logins use trust authentication (no passwords).
PSQL=(psql -h "$ACCRUE_PG_HOST" -p "$ACCRUE_PG_PORT" -U "$ACCRUE_PG_USER" -d postgres -w -v ON_ERROR_STOP=1 -tAq)
pg_url() { echo "postgres://$1@$ACCRUE_PG_HOST:$ACCRUE_PG_PORT/accrue_$2?sslmode=disable"; } # role svc
ensure_role() {
  "${PSQL[@]}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 LOGIN; END IF;
    END \$\$" || die "could not create role $1 (does $ACCRUE_PG_USER have CREATEROLE?)"
}
declare -A DB_OWNER=()
for s in "${ACCRUE_SERVICES[@]}"; do
  ensure_role "$(accrue_db_owner "$s")"
  ensure_role "$(accrue_db_app "$s")"
  if [ -z "$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'accrue_$s'")" ]; then
    "${PSQL[@]}" -c "CREATE DATABASE accrue_$s OWNER $(accrue_db_owner "$s")" || die "could not create database accrue_$s"
    # Only the roles granted CONNECT (the app role, by the migrations) and the owner get in.
    "${PSQL[@]}" -c "REVOKE CONNECT ON DATABASE accrue_$s FROM PUBLIC"
    log "created database accrue_$s (owner $(accrue_db_owner "$s"), service role $(accrue_db_app "$s"))"
  fi
  # A database an earlier make run created belongs to $ACCRUE_PG_USER: it keeps migrating as that
  # role (make reset recreates it with the owner role).
  DB_OWNER[$s]=$("${PSQL[@]}" -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'accrue_$s'")
done

# 5. Each service's token for calls to the other services, and each webhook route's token for
# the calls the gateway makes on a delivery's behalf, with only that route's scopes (rewritten
# atomically: the processes re-read them).
mint() { # file subject scopes ttl
  local tmp
  tmp=$(mktemp "$(dirname "$1")/.$(basename "$1").XXXXXX")
  "$BIN/accruectl" token --key "$RUN/keys/signing.jwk" --sub "$2" --scopes "$3" --ttl "$4" \
    --issuer "$ACCRUE_JWT_ISSUER" --audience "$ACCRUE_JWT_AUDIENCE" >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$1"
}
# Only the services that call others get a token, with only those calls' scopes.
svc_scopes=$("$BIN/accruectl" service-scopes) || die "accruectl service-scopes failed"
rm -f "$RUN"/tokens/*.jwt
while read -r s scopes; do
  [ -n "$scopes" ] || continue
  mint "$RUN/tokens/$s.jwt" "svc-$s" "$scopes" "$ACCRUE_SERVICE_TOKEN_TTL"
done <<<"$svc_scopes"
routes=$("$BIN/accruectl" webhook-routes) || die "accruectl webhook-routes failed"
while read -r route scopes; do
  mint "$RUN/tokens/webhooks/$route.jwt" "gateway-webhook-$route" "$scopes" "$ACCRUE_SERVICE_TOKEN_TTL"
done <<<"$routes"

# Webhook secrets, one per route and source (kept across runs; accruectl webhook signs with them).
# A file of the old "<source>=<secret>" form, whose secrets opened every route, is replaced.
secrets=$RUN/webhook-secrets
if [ -f "$secrets" ] && grep -Eq '^[^#/=]+=' "$secrets"; then
  mv -f "$secrets" "$secrets.old"
  log "replaced .run/webhook-secrets: its <source>=<secret> lines were valid for every route (old file: .run/webhook-secrets.old)"
fi
added=()
for b in $ACCRUE_WEBHOOK_BINDINGS; do
  grep -q "^$b=" "$secrets" 2>/dev/null && continue
  (umask 077 && echo "$b=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$secrets")
  added+=("$b")
done
[ "${#added[@]}" -eq 0 ] || log "created webhook secrets for: ${added[*]} (.run/webhook-secrets)"

# 6. Migrations first, so a failing one is reported here rather than as a dying process.
service_env() { # svc → VAR=value lines
  printf '%s\n' \
    "ACCRUE_GRPC_ADDR=$H:${ACCRUE_GRPC_PORT[$1]}" \
    "ACCRUE_METRICS_ADDR=$H:${ACCRUE_METRICS_PORT[$1]}" \
    "ACCRUE_DATABASE_URL=$(pg_url "$(accrue_db_app "$1")" "$1")" \
    "ACCRUE_MIGRATE_DATABASE_URL=$(pg_url "${DB_OWNER[$1]}" "$1")" \
    "ACCRUE_REDIS_ADDR=$ACCRUE_REDIS_ADDR" \
    "ACCRUE_STREAM_PREFIX=$ACCRUE_STREAM_PREFIX" \
    "ACCRUE_JWKS_FILE=$JWKS" \
    "ACCRUE_JWT_ISSUER=$ACCRUE_JWT_ISSUER" \
    "ACCRUE_JWT_AUDIENCE=$ACCRUE_JWT_AUDIENCE" \
    "ACCRUE_EVENT_KEYS_DIR=$RUN/event-keys" \
    "ACCRUE_LOG_LEVEL=$LOG_LEVEL"
  [ ! -f "$RUN/tokens/$1.jwt" ] || echo "ACCRUE_SERVICE_TOKEN_FILE=$RUN/tokens/$1.jwt"
  # The dispatcher may post to local receivers (accruectl listen) in a local run.
  [ "$1" != dispatcher ] || echo "ACCRUE_WEBHOOK_ALLOW=${ACCRUE_WEBHOOK_ALLOW:-127.0.0.1}"
  tls_env "$1"
  upstream_addrs
}
tls_env() { # process → its mutual-TLS files
  printf '%s\n' "ACCRUE_TLS_CERT_FILE=$RUN/tls/$1.crt" "ACCRUE_TLS_KEY_FILE=$RUN/tls/$1.key" "ACCRUE_TLS_CA_FILE=$RUN/tls/ca.crt"
}
upstream_addrs() { # where each service listens (services call each other, the gateway calls them all)
  local s upper
  for s in "${ACCRUE_SERVICES[@]}"; do
    upper=$(echo "$s" | tr '[:lower:]' '[:upper:]')
    echo "ACCRUE_${upper}_ADDR=$H:${ACCRUE_GRPC_PORT[$s]}"
  done
}
gateway_env() {
  printf '%s\n' \
    "ACCRUE_HTTP_ADDR=$H:$ACCRUE_HTTP_PORT" \
    "ACCRUE_GATEWAY_ADMIN_ADDR=$H:$ACCRUE_GATEWAY_ADMIN_PORT" \
    "ACCRUE_REDIS_ADDR=$ACCRUE_REDIS_ADDR" \
    "ACCRUE_STREAM_PREFIX=$ACCRUE_STREAM_PREFIX" \
    "ACCRUE_WEBHOOK_TOKEN_DIR=$RUN/tokens/webhooks" \
    "ACCRUE_WEBHOOK_SECRETS_FILE=$RUN/webhook-secrets" \
    "ACCRUE_JWKS_FILE=$JWKS" \
    "ACCRUE_JWT_ISSUER=$ACCRUE_JWT_ISSUER" \
    "ACCRUE_JWT_AUDIENCE=$ACCRUE_JWT_AUDIENCE" \
    "ACCRUE_LOG_LEVEL=$LOG_LEVEL"
  tls_env gateway
  upstream_addrs
}
for s in "${ACCRUE_SERVICES[@]}"; do
  [ -f "$RUN/logs/$s.log" ] && mv -f "$RUN/logs/$s.log" "$RUN/logs/$s.log.prev"
  mapfile -t envs < <(service_env "$s")
  if ! env "${envs[@]}" "$BIN/$s" migrate >>"$RUN/logs/$s.log" 2>&1; then
    tail -n 20 "$RUN/logs/$s.log" >&2
    die "$s: migrations failed (log: .run/logs/$s.log)"
  fi
done
for s in "${ACCRUE_SERVICES[@]}"; do
  out=$(psql "$(pg_url "$(accrue_db_app "$s")" "$s")" -w -tAqc 'SELECT 1' 2>&1) ||
    die "the service role $(accrue_db_app "$s") cannot log in to accrue_$s: $out
  (make run expects trust authentication for 127.0.0.1 for every user in pg_hba.conf; make deps sets it)"
done
log "databases migrated (services connect as accrue_<service>_app)"

# 7. Start everything in the background: nohup, stdin from /dev/null, log and pid files.
start() { # name command... (environment comes from the envs array)
  local name=$1
  shift
  [ "$name" = gateway ] && [ -f "$RUN/logs/$name.log" ] && mv -f "$RUN/logs/$name.log" "$RUN/logs/$name.log.prev"
  nohup env "${envs[@]}" "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}
for s in "${ACCRUE_SERVICES[@]}"; do
  mapfile -t envs < <(service_env "$s")
  start "$s" "$BIN/$s"
done
mapfile -t envs < <(gateway_env)
start gateway "$BIN/gateway"
log "started ${ACCRUE_SERVICES[*]} and gateway; waiting for $GW/readyz"

# 8. Wait until the gateway says every service is ready.
show_logs() {
  local n
  for n in "${ACCRUE_SERVICES[@]}" gateway; do
    echo "----- .run/logs/$n.log (last 15 lines)" >&2
    tail -n 15 "$RUN/logs/$n.log" >&2 2>/dev/null || true
  done
}
fail() {
  echo "run: ERROR: $*" >&2
  show_logs
  "$here/stop.sh" >&2 || true
  echo "run: ERROR: $* (everything stopped again)" >&2
  exit 1
}
ready=0
for _ in $(seq 1 60); do
  for n in "${ACCRUE_SERVICES[@]}" gateway; do
    kill -0 "$(cat "$RUN/pids/$n.pid")" 2>/dev/null || fail "$n exited during start-up (log: .run/logs/$n.log)"
  done
  if curl -fsS -m 2 -o /dev/null "$GW/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 1
done
if [ "$ready" -ne 1 ]; then
  echo "run: last /readyz answer: $(curl -sS -m 2 "$GW/readyz" 2>&1 || true)" >&2
  fail "the gateway did not report ready within 60 s"
fi

# 9. How to use it. The console's dev sign-in is a link whose fragment (never sent to the server)
# carries an 8 h token with the ops and read scopes.
CONSOLE_TOKEN=$("$BIN/accruectl" token --key "$RUN/keys/signing.jwk" --ttl 8h --sub console-dev \
  --scopes ops:read,ops:write,billing:read,projects:read,time:read,resources:read,invoices:read,suppliercost:read \
  --issuer "$ACCRUE_JWT_ISSUER" --audience "$ACCRUE_JWT_AUDIENCE")
cat <<EOF

Accrue is running.

  REST API (gateway)   $GW          e.g. $GW/v1/customers
  OpenAPI document     $GW/openapi.json
  health / readiness   $GW/healthz   $GW/readyz
  gateway metrics      http://$H:$ACCRUE_GATEWAY_ADMIN_PORT/metrics   (admin listener; not on the API port)
EOF
for s in "${ACCRUE_SERVICES[@]}"; do
  printf '  %-20s gRPC %s:%s   metrics http://%s:%s/metrics\n' "$s" "$H" "${ACCRUE_GRPC_PORT[$s]}" "$H" "${ACCRUE_METRICS_PORT[$s]}"
done
cat <<EOF

Get a token (1 h; every scope):
  TOKEN=\$(bin/accruectl token --scopes all)

Operations console (dev sign-in link, 8 h; or paste any token with ops:read on the sign-in page):
  $GW/console/#token=$CONSOLE_TOKEN

Create a customer (re-sending the same Idempotency-Key returns the stored response):
  curl -sS -X POST $GW/v1/customers \\
    -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -H 'Idempotency-Key: my-first-customer' \\
    -d '{"name":"Globex GmbH","currency_code":"EUR","tax_profile":{"tax_region":"DE"}}'

List a service's business exceptions (customer, project, resource, timeexpense, billing, dispatcher):
  curl -sS -H "Authorization: Bearer \$TOKEN" $GW/v1/ops/customer/exceptions

gRPC (mutual TLS; reflection is on):  make bin/grpcurl && bin/grpcurl -cacert .run/tls/ca.crt \\
    -cert .run/tls/gateway.crt -key .run/tls/gateway.key $H:${ACCRUE_GRPC_PORT[customer]} list
Logs: .run/logs/<name>.log (JSON)      Stop everything: make stop
EOF

# 10. Demo: a customer created through the gateway reaches the project service's directory
# through the outbox, Redis Streams and the project service's consumer.
pretty() { # JSON on stdin → indented when jq or python3 is at hand, raw otherwise
  local body
  body=$(cat)
  if command -v jq >/dev/null 2>&1 && printf '%s' "$body" | jq . 2>/dev/null; then
    return
  fi
  if command -v python3 >/dev/null 2>&1 && printf '%s' "$body" | python3 -m json.tool 2>/dev/null; then
    return
  fi
  printf '%s\n' "$body"
}
demo_fail() {
  echo "run: demo FAILED: $*" >&2
  echo "run: the services keep running; see .run/logs/ and 'make stop'" >&2
  exit 1
}

echo
echo "Demo: create a customer through the gateway, then read it from the project service's directory."
TOKEN=$("$BIN/accruectl" token --key "$RUN/keys/signing.jwk" --scopes all --ttl 10m --sub demo \
  --issuer "$ACCRUE_JWT_ISSUER" --audience "$ACCRUE_JWT_AUDIENCE")
# A new customer every run (its own CRM reference), so the directory check below proves this run's
# events flow, not an earlier run's.
stamp="$(date +%Y%m%d%H%M%S)-$$"
key="demo-$stamp"
echo
echo "POST $GW/v1/customers   (Idempotency-Key: $key)"
resp=$(curl -sS -m 10 -w '\n%{http_code}' -X POST "$GW/v1/customers" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
  -d '{"name":"Acme Consulting Ltd","currency_code":"USD","payment_terms_days":45,
       "tax_profile":{"tax_id":"US-EIN-12-3456789","tax_region":"US-CA"},
       "external_references":[{"system":"salesforce","object_type":"Account","external_id":"DEMO-'"$stamp"'"}]}') ||
  demo_fail "the gateway did not answer"
code=${resp##*$'\n'}
body=${resp%$'\n'*}
echo "HTTP $code"
printf '%s' "$body" | pretty
[ "$code" = 201 ] || demo_fail "expected 201 Created, got $code"
id=$(printf '%s' "$body" | grep -o '"customer_id": *"[^"]*"' | sed -n 1p | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$id" ] || demo_fail "no customer_id in the response"

echo
echo "GET $GW/v1/project-directory/customers/$id"
for _ in $(seq 1 40); do
  resp=$(curl -sS -m 5 -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "$GW/v1/project-directory/customers/$id") || true
  code=${resp##*$'\n'}
  [ "$code" = 200 ] && break
  sleep 0.25
done
body=${resp%$'\n'*}
echo "HTTP $code"
printf '%s' "$body" | pretty
[ "$code" = 200 ] || demo_fail "the project service's directory did not receive customer $id within 10 s"
echo
echo "The project service got the customer from the customer.upserted event (outbox → Redis Streams → consumer)."

echo
echo "Demo of the workflows (bin/accruectl demo; run it again any time):"
"$BIN/accruectl" demo --url "$GW" --key "$RUN/keys/signing.jwk" --secrets "$RUN/webhook-secrets" ||
  demo_fail "the workflow demo failed"
