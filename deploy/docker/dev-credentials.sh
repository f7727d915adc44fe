#!/busybox/sh
# Development credentials for docker compose, never for production (production verifies tokens
# against its identity provider's JWKS URL and its own PKI): in /credentials, a signing key and
# its JWKS, a CA and a mutual-TLS certificate per process, an event signing key per service (all
# kept across runs), a token for each service that calls others and one per webhook route, each
# carrying only the scopes of its calls (minted again on every run), and webhook signing secrets
# bound to a route and source (kept). Runs in the accruectl image as the
# `credentials` one-shot service; what `make run` does with deploy/local/run.sh.
set -eu
PATH=/usr/local/bin:/busybox:$PATH
dir=${ACCRUE_CREDENTIALS_DIR:-/credentials}
issuer=${ACCRUE_JWT_ISSUER:-https://auth.accrue.local}
audience=${ACCRUE_JWT_AUDIENCE:-accrue}
ttl=${ACCRUE_SERVICE_TOKEN_TTL:-720h}

accruectl keygen --dir "$dir/keys"
# Each certificate names its compose service (the address the others dial).
accruectl certs --dir "$dir/tls" --names customer,project,resource,timeexpense,billing,dispatcher,gateway
accruectl event-keys --dir "$dir/event-keys" --producers customer,project,resource,timeexpense,billing,dispatcher
mkdir -p "$dir/tokens"
rm -f "$dir"/tokens/*.jwt
accruectl service-scopes | while read -r name scopes; do
  [ -n "$scopes" ] || continue # calls no other service: no token
  # Written aside and renamed: services re-read their token file.
  accruectl token --key "$dir/keys/signing.jwk" --sub "svc-$name" --scopes "$scopes" --ttl "$ttl" \
    --issuer "$issuer" --audience "$audience" >"$dir/tokens/.$name.jwt"
  mv -f "$dir/tokens/.$name.jwt" "$dir/tokens/$name.jwt"
done
mkdir -p "$dir/tokens/webhooks"
accruectl webhook-routes | while read -r route rscopes; do
  accruectl token --key "$dir/keys/signing.jwk" --sub "gateway-webhook-$route" --scopes "$rscopes" --ttl "$ttl" \
    --issuer "$issuer" --audience "$audience" >"$dir/tokens/webhooks/.$route.jwt"
  mv -f "$dir/tokens/webhooks/.$route.jwt" "$dir/tokens/webhooks/$route.jwt"
done
# A file of the former "<source>=<secret>" form opened every route: replaced.
if [ -f "$dir/webhook-secrets" ] && grep -Eq '^[^#/=]+=' "$dir/webhook-secrets"; then
  mv -f "$dir/webhook-secrets" "$dir/webhook-secrets.old"
fi
umask 077
for b in ${ACCRUE_WEBHOOK_BINDINGS:-salesforce.opportunities/salesforce crm.opportunities/crm workday.workers/workday hcm.workers/hcm timeexpense.approved/tne suppliercost.bills/netsuite}; do
  grep -q "^$b=" "$dir/webhook-secrets" 2>/dev/null && continue
  echo "$b=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$dir/webhook-secrets"
done
echo "credentials ready in $dir"
