#!/busybox/sh
# Development credentials for docker compose, never for production (production verifies tokens
# against its identity provider's JWKS URL): in /credentials, a signing key and its JWKS (kept
# across runs), one token per service for its calls to the others (minted again on every run),
# and webhook signing secrets per source system (kept). Runs in the accruectl image as the
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
for name in customer project resource timeexpense billing gateway; do
  # Written aside and renamed: services re-read their token file.
  accruectl token --key "$dir/keys/signing.jwk" --sub "svc-$name" --scopes "$scopes" --ttl "$ttl" \
    --issuer "$issuer" --audience "$audience" >"$dir/tokens/.$name.jwt"
  mv -f "$dir/tokens/.$name.jwt" "$dir/tokens/$name.jwt"
done
if [ ! -f "$dir/webhook-secrets" ]; then
  umask 077
  for src in ${ACCRUE_WEBHOOK_SOURCES:-salesforce crm workday hcm tne}; do
    echo "$src=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  done >"$dir/webhook-secrets"
fi
echo "credentials ready in $dir"
