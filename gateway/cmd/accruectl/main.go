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
//	accruectl demo [--url http://127.0.0.1:8080]  walk through the three workflows on a running Accrue
//	accruectl audit verify --service NAME         recompute a service's audit hash chain and name
//	                                             every edited, deleted or reordered row (exit 1)
//
// Services and the gateway verify tokens against the JWKS (ACCRUE_JWKS_FILE). Production
// deployments use their identity provider's JWKS URL instead; this key is for local runs only.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	"billing:read", "billing:write",
	"ops:read", "ops:write",
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "accruectl:", err)
		if errors.Is(err, errChainBroken) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: accruectl keygen|token [flags]")
	}
	switch args[0] {
	case "keygen":
		fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
		dir := fs.String("dir", ".run/keys", "directory for signing.jwk and jwks.json")
		force := fs.Bool("force", false, "replace an existing key")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return keygen(*dir, *force)
	case "token":
		fs := flag.NewFlagSet("token", flag.ContinueOnError)
		key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen)")
		scopes := fs.String("scopes", "", `space- or comma-separated scopes, or "all"`)
		sub := fs.String("sub", "dev-cli", "subject / client id")
		ttl := fs.Duration("ttl", time.Hour, "lifetime")
		iss := fs.String("issuer", "https://auth.accrue.local", "issuer (ACCRUE_JWT_ISSUER)")
		aud := fs.String("audience", "accrue", "audience (ACCRUE_JWT_AUDIENCE)")
		entities := fs.String("legal-entities", auth.AllLegalEntities,
			`legal-entity ids the token acts for (claim `+auth.LegalEntitiesClaim+`), space- or comma-separated; "*" for all, "none" to omit the claim`)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		var les []string
		if *entities != "none" {
			les = strings.FieldsFunc(*entities, func(r rune) bool { return r == ' ' || r == ',' })
		}
		list := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ' ' || r == ',' })
		if len(list) == 1 && list[0] == "all" {
			list = AllScopes
		}
		priv, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("%w (run `accruectl keygen` or `make run` first)", err)
		}
		tok, err := auth.SignToken(priv, auth.TokenRequest{Issuer: *iss, Audience: *aud, Subject: *sub, Scopes: list, TTL: *ttl, LegalEntities: les})
		if err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	case "webhook":
		fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
		url := fs.String("url", "", "webhook URL, e.g. http://127.0.0.1:8080/webhooks/salesforce/salesforce/opportunities")
		source := fs.String("source", "", "source whose secret signs the body (default: the URL's {source})")
		secrets := fs.String("secrets", ".run/webhook-secrets", "file of <route>/<source>=<secret> lines")
		file := fs.String("file", "", "JSON body file (stdin when empty)")
		skew := fs.Duration("skew", 0, "shift the signature timestamp (e.g. -10m to test the tolerance)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return sendWebhook(*url, *source, *secrets, *file, *skew)
	case "webhook-routes":
		for _, r := range gateway.WebhookRoutes() {
			fmt.Printf("%s %s\n", r.Name, strings.Join(r.Scopes(), ","))
		}
		return nil
	case "service-scopes":
		return serviceScopes(os.Stdout)
	case "certs":
		return certsCmd(args[1:], os.Stdout)
	case "event-keys":
		return eventKeysCmd(args[1:], os.Stdout)
	case "demo":
		fs := flag.NewFlagSet("demo", flag.ContinueOnError)
		url := fs.String("url", "http://127.0.0.1:8080", "gateway URL")
		key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen)")
		secrets := fs.String("secrets", ".run/webhook-secrets", "file of <route>/<source>=<secret> lines")
		example := fs.String("example", "docs/examples/salesforce-closed-won.json", "Salesforce closed-won event to send")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return runDemo(*url, *key, *secrets, *example)
	case "audit":
		return auditCmd(args[1:], os.Stdout)
	}
	return fmt.Errorf("unknown command %q (keygen, token, webhook, webhook-routes, service-scopes, certs, event-keys, demo, audit)", args[0])
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
