// Command accruectl is Accrue's development helper:
//
//	accruectl keygen [--dir .run/keys]            create a local Ed25519 signing key and its JWKS
//	accruectl token --scopes "customers:read ..."  print a bearer token signed with that key
//
// Services and the gateway verify tokens against the JWKS (ACCRUE_JWKS_FILE). Production
// deployments use their identity provider's JWKS URL instead; this key is for local runs only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		list := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ' ' || r == ',' })
		if len(list) == 1 && list[0] == "all" {
			list = AllScopes
		}
		priv, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("%w (run `accruectl keygen` or `make run` first)", err)
		}
		tok, err := auth.SignToken(priv, auth.TokenRequest{Issuer: *iss, Audience: *aud, Subject: *sub, Scopes: list, TTL: *ttl})
		if err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	}
	return fmt.Errorf("unknown command %q (keygen, token)", args[0])
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
