#!/usr/bin/env bash
# Creates (or replaces) the dev overlay's Secrets, made by bin/accruectl as `make run` makes them:
# accrue-dev-credentials (the JWKS of a local signing key, the project service's token with only
# the scopes of its calls, the gateway's development token with only the webhook routes' scopes,
# and webhook secrets), <program>-tls (a certificate of a local CA per program: tls.crt, tls.key,
# ca.crt) and <producer>-event-keys (each service's event signing key). Run it before
# `kubectl apply -k deploy/k8s/overlays/dev`, and again when the tokens expire
# (ACCRUE_SERVICE_TOKEN_TTL, 720h by default).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../.." && pwd)
ns=${NAMESPACE:-accrue-dev}
ctl=$root/bin/accruectl
[ -x "$ctl" ] || { echo "credentials: $ctl is missing: run 'make build'" >&2; exit 1; }
ttl=${ACCRUE_SERVICE_TOKEN_TTL:-720h}

dir=$root/.run/k8s-dev
mkdir -p "$dir"
chmod 700 "$dir"
"$ctl" keygen --dir "$dir"
args=(--from-file=jwks.json="$dir/jwks.json")
mint() { # name scopes
  "$ctl" token --key "$dir/signing.jwk" --sub "svc-$1" --scopes "$2" --ttl "$ttl" \
    --issuer https://auth.accrue.local --audience accrue >"$dir/$1.jwt"
  args+=(--from-file="$1.jwt=$dir/$1.jwt")
}
# Only the services that call others get a token, with only those calls' scopes.
while read -r name scopes; do
  [ -z "$scopes" ] || mint "$name" "$scopes"
done < <("$ctl" service-scopes)
# The gateway's shared development token (ACCRUE_WEBHOOK_SHARED_TOKEN): the webhook routes' scopes.
mint gateway "$("$ctl" webhook-routes | awk '{print $2}' | tr ',' '\n' | sort -u | paste -sd, -)"
# Secrets bound to a webhook route and source; a file of the former "<source>=<secret>" form,
# valid for every route, is replaced.
if [ -f "$dir/webhook-secrets" ] && grep -Eq '^[^#/=]+=' "$dir/webhook-secrets"; then
  mv -f "$dir/webhook-secrets" "$dir/webhook-secrets.old"
fi
for b in salesforce.opportunities/salesforce crm.opportunities/crm workday.workers/workday hcm.workers/hcm timeexpense.approved/tne suppliercost.bills/netsuite; do
  grep -q "^$b=" "$dir/webhook-secrets" 2>/dev/null && continue
  (umask 077; echo "$b=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >>"$dir/webhook-secrets")
done
args+=(--from-file=webhook-secrets="$dir/webhook-secrets")
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"
kubectl -n "$ns" create secret generic accrue-dev-credentials "${args[@]}" --dry-run=client -o yaml | kubectl apply -f -

# Mutual TLS: a local CA (kept) and one certificate per program, named as its Service.
programs=(customer project resource timeexpense billing dispatcher gateway)
"$ctl" certs --dir "$dir/tls" --names "$(IFS=,; echo "${programs[*]}")" \
  --hosts "$(for p in "${programs[@]}"; do printf '%s.%s.svc,' "$p" "$ns"; done)"
for p in "${programs[@]}"; do
  kubectl -n "$ns" create secret generic "$p-tls" --from-file=tls.crt="$dir/tls/$p.crt" \
    --from-file=tls.key="$dir/tls/$p.key" --from-file=ca.crt="$dir/tls/ca.crt" --dry-run=client -o yaml | kubectl apply -f -
done
# Event signing keys, one Secret per producer (a service mounts its own and its producers').
"$ctl" event-keys --dir "$dir/event-keys" --producers customer,project,resource,timeexpense,billing,dispatcher
for p in customer project resource timeexpense billing dispatcher; do
  kargs=()
  for f in "$dir/event-keys/$p".*.key; do kargs+=(--from-file="$(basename "$f")=$f"); done
  kubectl -n "$ns" create secret generic "$p-event-keys" "${kargs[@]}" --dry-run=client -o yaml | kubectl apply -f -
done
# The dispatcher's key sealing subscription signing secrets at rest (kept: sealed rows need it).
[ -s "$dir/webhook-secret-keys" ] || (umask 077; echo "dev:$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$dir/webhook-secret-keys")
kubectl -n "$ns" create secret generic dispatcher-secret-keys --from-file=keys="$dir/webhook-secret-keys" --dry-run=client -o yaml | kubectl apply -f -
echo "credentials: secrets of $ns updated: accrue-dev-credentials, <program>-tls, <producer>-event-keys (files in $dir)"
