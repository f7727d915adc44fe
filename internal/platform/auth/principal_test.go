package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/auth"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := auth.Config{Issuer: issuer, Audience: audience, JWKSFile: "/keys.json"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name string
		cfg  auth.Config
		want []string
	}{
		{"empty", auth.Config{}, []string{"issuer is required", "audience is required", "exactly one of JWKS"}},
		{"both JWKS sources", auth.Config{Issuer: issuer, Audience: audience, JWKSFile: "/k.json", JWKSURL: "https://idp/jwks"}, []string{"exactly one of JWKS"}},
		{"HMAC algorithm", auth.Config{Issuer: issuer, Audience: audience, JWKSFile: "/k.json", Algorithms: []string{"EdDSA", "HS256"}}, []string{`"HS256" is not allowed`}},
		{"none algorithm", auth.Config{Issuer: issuer, Audience: audience, JWKSFile: "/k.json", Algorithms: []string{"None"}}, []string{`"None" is not allowed`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, nerr := auth.NewVerifier(context.Background(), tc.cfg); nerr == nil {
				t.Error("NewVerifier accepted an invalid config")
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Bearer abc.def.ghi":   "abc.def.ghi",
		"bearer abc":           "abc",
		"BEARER   abc  ":       "abc",
		"Bearer ":              "",
		"Bearer":               "",
		"Basic dXNlcjpwYXNz":   "",
		"abc.def.ghi":          "",
		"":                     "",
		"Bearerabc.def.ghi":    "",
		"Token abc.def.ghi123": "",
	}
	for in, want := range cases {
		if got := auth.BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestActorAndPrincipalContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if got := auth.Actor(ctx); got != "system" {
		t.Errorf("Actor without principal = %q, want system", got)
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: "svc-ops", ClientID: "ops"})
	if got := auth.Actor(ctx); got != "svc-ops" {
		t.Errorf("Actor = %q, want svc-ops", got)
	}
	if p, ok := auth.FromContext(ctx); !ok || p.ClientID != "ops" {
		t.Errorf("FromContext = %+v, %v", p, ok)
	}
}
