// Command accruectl is Accrue's development helper:
//
//	accruectl keygen [--dir .run/keys]            create a local Ed25519 signing key and its JWKS
//	accruectl token --scopes "customers:read ..."  print a bearer token signed with that key
//	      [--legal-entities ID,ID | '*' | none]    legal entities it acts for ("*" by default)
//	accruectl webhook --url URL --source NAME     sign a JSON body (stdin or --file) with the
//	                                             secret of the URL's route and the source and
//	                                             POST it, printing the answer
//	accruectl webhook-routes                      list the webhook routes and the scopes of
//	                                             each route's token ("<route> <scope>,...")
//	accruectl service-scopes                      list each service's token scopes: exactly what
//	                                             the calls its contract declares need
//	                                             ("<service> <scope>,..."; none: no token)
//	accruectl certs [--dir .run/tls]              a local CA and one mutual-TLS certificate per
//	                                             service and the gateway (kept; --force reissues)
//	accruectl event-keys [--dir .run/event-keys]  an event signing key per producer that has none
//	                                             (--id creates the next key of a rotation)
//	accruectl listen --secret whsec_... [--addr]   receive outbound webhooks, verify their Standard
//	                                             Webhooks signatures, print one line each (-o json)
//	accruectl demo [--url http://127.0.0.1:8080]  walk through the three workflows on a running Accrue
//	accruectl audit verify --service NAME         recompute a service's audit hash chain and name
//	                                             every edited, deleted or reordered row (exit 1)
//	accruectl replay --service NAME [--dry-run]   re-publish (or list) a service's outbox events by
//	                                             time, type, subject, correlation or event id
//	accruectl help [COMMAND]                      this list, or one command's usage and flags
//	                                             (also `accruectl --help`, `accruectl COMMAND --help`)
//
// Services and the gateway verify tokens against the JWKS (ACCRUE_JWKS_FILE). Production
// deployments use their identity provider's JWKS URL instead; this key is for local runs only.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/accrue/accrue/gateway/internal/gateway"
	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/auth"
)

// AllScopes lists every scope the contracts declare, for `token --scopes all`.
var AllScopes = []string{
	"customers:read", "customers:write",
	"projects:read", "projects:write",
	"resources:read", "resources:write", "costrates:read", "costrates:write",
	"time:read", "time:write", "time:approve",
	"billing:read", "billing:write", "billing:finance", "periods:reopen", "journal:export",
	"invoices:read", "invoices:write", "payments:read", "payments:write",
	"suppliercost:read", "suppliercost:write",
	"ops:read", "ops:write",
	"webhooks:manage",
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "accruectl:", err)
		if errors.Is(err, errChainBroken) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

func sendWebhook(target, source, secretsFile, file string, skew time.Duration) error {
	if target == "" {
		return errors.New("webhook needs --url")
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	route, pathSource, ok := gateway.WebhookRouteOf(u.Path)
	if !ok {
		return fmt.Errorf("%s is not a webhook route", u.Path)
	}
	if source == "" {
		source = pathSource
	}
	secret, err := secretFor(secretsFile, route.Name, source)
	if err != nil {
		return err
	}
	var body []byte
	if file != "" {
		body, err = os.ReadFile(file)
	} else {
		body, err = io.ReadAll(os.Stdin)
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now().Add(skew), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Printf("HTTP %d\n%s", resp.StatusCode, out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Println()
	}
	return nil
}

// secretFor reads the secret of route and source from a secrets file (the newest of a rotation).
func secretFor(file, route, source string) ([]byte, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	secrets, err := webhook.ParseSecrets(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	list := secrets[webhook.Binding{Route: route, Source: source}]
	if len(list) == 0 {
		return nil, fmt.Errorf("no secret for route %s and source %q in %s", route, source, file)
	}
	return list[len(list)-1], nil
}

// signAll returns a one-hour token with every scope, signed with privateJWK.
func signAll(privateJWK []byte) (string, error) {
	return auth.SignToken(privateJWK, auth.TokenRequest{Issuer: "https://auth.accrue.local", Audience: "accrue",
		Subject: "demo", Scopes: AllScopes, TTL: time.Hour, LegalEntities: []string{auth.AllLegalEntities}})
}

func keygen(dir string, force bool) error {
	priv := filepath.Join(dir, "signing.jwk")
	pub := filepath.Join(dir, "jwks.json")
	if _, err := os.Stat(priv); err == nil && !force {
		fmt.Printf("key exists: %s (use --force to replace)\n", priv)
		return nil
	}
	privJWK, jwks, err := auth.GenerateDevKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(priv, privJWK, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pub, jwks, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", priv, pub)
	return nil
}
