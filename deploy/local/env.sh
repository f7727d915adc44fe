# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# Shared settings of the local scripts (ensure-deps.sh, run.sh, stop.sh). Source it; do not run it.
# Every value can be overridden from the environment.

# The repository root, wherever the caller stands.
ACCRUE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Local dependencies.
ACCRUE_PG_HOST=${ACCRUE_PG_HOST:-127.0.0.1}
ACCRUE_PG_PORT=${ACCRUE_PG_PORT:-5432}
ACCRUE_PG_USER=${ACCRUE_PG_USER:-postgres}
# Database roles of service $1 (run.sh creates them): the owner applies the migrations, the
# service connects as the app role (rows only; see docs/design-notes.md, "Database roles").
accrue_db_owner() { echo "accrue_$1_owner"; }
accrue_db_app() { echo "accrue_$1_app"; }
# Debian cluster (pg_lsclusters) that ensure-deps.sh starts when Postgres does not answer.
ACCRUE_PG_CLUSTER=${ACCRUE_PG_CLUSTER:-main}
ACCRUE_REDIS_ADDR=${ACCRUE_REDIS_ADDR:-127.0.0.1:6379}
ACCRUE_REDIS_HOST=${ACCRUE_REDIS_ADDR%:*}
ACCRUE_REDIS_PORT=${ACCRUE_REDIS_ADDR##*:}
# Every Redis key of make run (streams, consumer groups, webhook dedupe) starts with this, so
# make reset can remove exactly them from a shared Redis.
ACCRUE_STREAM_PREFIX=${ACCRUE_STREAM_PREFIX:-accrue.local:}

# The five services in start order, then the outbound webhook dispatcher (gateway/cmd/dispatcher,
# run like a service). Their gRPC ports are ACCRUE_GRPC_PORT_BASE + 1..6 and metrics ports
# ACCRUE_METRICS_PORT_BASE + 1..6: 7001..7006 and 9101..9106 by default, as in the code.
ACCRUE_SERVICES=(customer project resource timeexpense billing dispatcher)
ACCRUE_GRPC_PORT_BASE=${ACCRUE_GRPC_PORT_BASE:-7000}
ACCRUE_METRICS_PORT_BASE=${ACCRUE_METRICS_PORT_BASE:-9100}
declare -A ACCRUE_GRPC_PORT=() ACCRUE_METRICS_PORT=()
for _i in "${!ACCRUE_SERVICES[@]}"; do
  ACCRUE_GRPC_PORT[${ACCRUE_SERVICES[$_i]}]=$((ACCRUE_GRPC_PORT_BASE + _i + 1))
  ACCRUE_METRICS_PORT[${ACCRUE_SERVICES[$_i]}]=$((ACCRUE_METRICS_PORT_BASE + _i + 1))
done
unset _i
ACCRUE_HTTP_PORT=${ACCRUE_HTTP_PORT:-8080}
# The gateway's admin listener (/metrics, and /debug/pprof/ with ACCRUE_PPROF=true): the metrics
# port base itself, 9100 by default, beside the services' 9101..9105.
ACCRUE_GATEWAY_ADMIN_PORT=${ACCRUE_GATEWAY_ADMIN_PORT:-$ACCRUE_METRICS_PORT_BASE}
ACCRUE_BIND_HOST=127.0.0.1

# Everything `make run` started, in stop order (gateway first, then the services).
ACCRUE_PROCESSES=(gateway dispatcher billing timeexpense resource project customer)

# Each service that calls others gets a token with only the scopes of the calls its contract
# declares (`accruectl service-scopes`), in .run/tokens/<service>.jwt (ACCRUE_SERVICE_TOKEN_FILE);
# the others get none. The gateway has no such token: each webhook route gets its own, with only
# the scopes of its RPCs (`accruectl webhook-routes`), in .run/tokens/webhooks/<route>.jwt
# (ACCRUE_WEBHOOK_TOKEN_DIR).
ACCRUE_SERVICE_TOKEN_TTL=${ACCRUE_SERVICE_TOKEN_TTL:-24h}

# Token issuer and audience shared by accruectl, the services and the gateway.
ACCRUE_JWT_ISSUER=${ACCRUE_JWT_ISSUER:-https://auth.accrue.local}
ACCRUE_JWT_AUDIENCE=${ACCRUE_JWT_AUDIENCE:-accrue}

# Local run state (gitignored).
ACCRUE_RUN_DIR=$ACCRUE_ROOT/.run
ACCRUE_BIN_DIR=$ACCRUE_ROOT/bin

# Webhook routes and the source system that calls each (<route>/<source>): each pair gets its own
# signing secret in .run/webhook-secrets (make run adds missing pairs and keeps existing secrets).
# A secret is valid only for its route and source.
ACCRUE_WEBHOOK_BINDINGS=${ACCRUE_WEBHOOK_BINDINGS:-"salesforce.opportunities/salesforce crm.opportunities/crm workday.workers/workday hcm.workers/hcm timeexpense.approved/tne suppliercost.bills/netsuite"}
