#!/busybox/sh
# Development credentials for docker compose, never for production (production verifies tokens
# against its identity provider's JWKS URL): in /credentials, a signing key and its JWKS (kept
# across runs), one token per service for its calls to the others and one per webhook route
# carrying only that route's scopes (minted again on every run), and webhook signing secrets
# bound to a route and source (kept). Runs in the accruectl image as the
# `credentials` one-shot service; what `make run` does with deploy/local/run.sh.
set -eu
PATH=/usr/local/bin:/busybox:$PATH
dir=${ACCRUE_CREDENTIALS_DIR:-/credentials}
issuer=${ACCRUE_JWT_ISSUER:-https://auth.accrue.local}
audience=${ACCRUE_JWT_AUDIENCE:-accrue}
scopes=${ACCRUE_SERVICE_TOKEN_SCOPES:-"customers:read customers:write projects:read projects:write billing:read billing:write resources:read resources:write costrates:read time:read time:approve"}
ttl=${ACCRUE_SERVICE_TOKEN_TTL:-720h}

accruectl keygen --dir "$dir/keys"
mkdir -p "$dir/tokens"
for name in customer project resource timeexpense billing; do
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
for b in ${ACCRUE_WEBHOOK_BINDINGS:-salesforce.opportunities/salesforce crm.opportunities/crm workday.workers/workday hcm.workers/hcm timeexpense.approved/tne}; do
  grep -q "^$b=" "$dir/webhook-secrets" 2>/dev/null && continue
  echo "$b=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$dir/webhook-secrets"
done
echo "credentials ready in $dir"
