#!/usr/bin/env bash
# Creates (or replaces) the dev overlay's Secret accrue-dev-credentials: the JWKS of a local
# signing key, one token per program for its calls to the others, and webhook secrets, made by
# bin/accruectl as `make run` makes them. Run it before `kubectl apply -k deploy/k8s/overlays/dev`,
# and again when the tokens expire (ACCRUE_SERVICE_TOKEN_TTL, 720h by default).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../.." && pwd)
ns=${NAMESPACE:-accrue-dev}
ctl=$root/bin/accruectl
[ -x "$ctl" ] || { echo "credentials: $ctl is missing: run 'make build'" >&2; exit 1; }
scopes=${ACCRUE_SERVICE_TOKEN_SCOPES:-"customers:read customers:write projects:read projects:write billing:read billing:write resources:read resources:write costrates:read time:read time:approve"}
ttl=${ACCRUE_SERVICE_TOKEN_TTL:-720h}

dir=$root/.run/k8s-dev
mkdir -p "$dir"
chmod 700 "$dir"
"$ctl" keygen --dir "$dir"
args=(--from-file=jwks.json="$dir/jwks.json")
for name in customer project resource timeexpense billing gateway; do
  "$ctl" token --key "$dir/signing.jwk" --sub "svc-$name" --scopes "$scopes" --ttl "$ttl" \
    --issuer https://auth.accrue.local --audience accrue >"$dir/$name.jwt"
  args+=(--from-file="$name.jwt=$dir/$name.jwt")
done
# Secrets bound to a webhook route and source; a file of the former "<source>=<secret>" form,
# valid for every route, is replaced.
if [ -f "$dir/webhook-secrets" ] && grep -Eq '^[^#/=]+=' "$dir/webhook-secrets"; then
  mv -f "$dir/webhook-secrets" "$dir/webhook-secrets.old"
fi
for b in salesforce.opportunities/salesforce crm.opportunities/crm workday.workers/workday hcm.workers/hcm timeexpense.approved/tne; do
  grep -q "^$b=" "$dir/webhook-secrets" 2>/dev/null && continue
  (umask 077; echo "$b=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$dir/webhook-secrets")
done
args+=(--from-file=webhook-secrets="$dir/webhook-secrets")
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"
kubectl -n "$ns" create secret generic accrue-dev-credentials "${args[@]}" --dry-run=client -o yaml | kubectl apply -f -
echo "credentials: secret $ns/accrue-dev-credentials updated (key and tokens in $dir)"
