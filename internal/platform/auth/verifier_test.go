package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
)

const (
	issuer   = "https://auth.accrue.test"
	audience = "accrue"
)

// devKey is a signing key from auth.GenerateDevKey and its public JWKS.
type devKey struct {
	private []byte
	jwks    []byte
	kid     string
	priv    ed25519.PrivateKey
	pub     ed25519.PublicKey
}

func newDevKey(t *testing.T) devKey {
	t.Helper()
	priv, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatalf("GenerateDevKey: %v", err)
	}
	var k jose.JSONWebKey
	if err := json.Unmarshal(priv, &k); err != nil {
		t.Fatalf("parse private JWK: %v", err)
	}
	pk := k.Key.(ed25519.PrivateKey)
	return devKey{private: priv, jwks: jwks, kid: k.KeyID, priv: pk, pub: pk.Public().(ed25519.PublicKey)}
}

func writeJWKS(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileVerifier(t *testing.T, k devKey) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience, JWKSFile: writeJWKS(t, k.jwks)})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func sign(t *testing.T, k devKey, r auth.TokenRequest) string {
	t.Helper()
	if r.Issuer == "" {
		r.Issuer = issuer
	}
	if r.Audience == "" {
		r.Audience = audience
	}
	if r.TTL == 0 {
		r.TTL = time.Hour
	}
	tok, err := auth.SignToken(k.private, r)
	if err != nil {
		t.Fatalf("SignToken: %v", err)
	}
	return tok
}

// signClaims signs arbitrary claims with k (EdDSA) and kid, for tokens SignToken cannot make.
func signClaims(t *testing.T, k devKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": "svc-billing",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"scope": "ops:read",
	}
}

// wantAuthFault asserts err is fault.Unauthenticated with reason.
func wantAuthFault(t *testing.T, err error, reason string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("error = %v, want a *fault.Error with reason %s", err, reason)
	}
	if fe.Kind != fault.Unauthenticated || fe.Reason != reason {
		t.Fatalf("fault = %v/%s, want Unauthenticated/%s (%v)", fe.Kind, fe.Reason, reason, err)
	}
}

func TestVerifyValidTokenReturnsPrincipal(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	v := fileVerifier(t, k)
	tok := sign(t, k, auth.TokenRequest{Subject: "svc-billing", Scopes: []string{"ops:read", "ops:write"}})

	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.Subject != "svc-billing" || p.ClientID != "svc-billing" {
		t.Errorf("principal subject/client = %q/%q, want svc-billing", p.Subject, p.ClientID)
	}
	if !slices.Equal(p.Scopes, []string{"ops:read", "ops:write"}) {
		t.Errorf("scopes = %v", p.Scopes)
	}
	if !p.HasScope("ops:write") || p.HasScope("ops") || p.HasScope("customers:write") {
		t.Errorf("HasScope misreports scopes %v", p.Scopes)
	}
	if p.Token != tok {
		t.Errorf("principal does not keep the raw token")
	}
}

func TestVerifyScpArrayAndAzp(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	v := fileVerifier(t, k)
	c := validClaims()
	delete(c, "scope")
	delete(c, "sub")
	c["scp"] = []string{"customers:read", "customers:write"}
	c["azp"] = "crm-connector"

	p, err := v.Verify(context.Background(), signClaims(t, k, k.kid, c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.ClientID != "crm-connector" || p.Subject != "crm-connector" {
		t.Errorf("client/subject = %q/%q, want crm-connector from azp", p.ClientID, p.Subject)
	}
	if !p.HasScope("customers:write") || len(p.Scopes) != 2 {
		t.Errorf("scopes = %v", p.Scopes)
	}
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	other := newDevKey(t)
	v := fileVerifier(t, k)

	noExp := validClaims()
	delete(noExp, "exp")
	noSubject := validClaims()
	delete(noSubject, "sub")
	future := validClaims()
	future["nbf"] = time.Now().Add(time.Hour).Unix()

	noneTok, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// Algorithm confusion: HS256 "signed" with the public key bytes anyone can read from the JWKS.
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
	hsTok.Header["kid"] = k.kid
	hsWithRaw, err := hsTok.SignedString([]byte(k.pub))
	if err != nil {
		t.Fatal(err)
	}
	hsWithJWKS, err := hsTok.SignedString(k.jwks)
	if err != nil {
		t.Fatal(err)
	}

	good := sign(t, k, auth.TokenRequest{Subject: "svc-a", Scopes: []string{"ops:read"}})
	parts := strings.Split(good, ".")
	// Tampered signature: flip bits in the middle of the signature.
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[10] ^= 0xff
	tamperedSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	// Tampered payload: the caller grants itself a scope, keeping the original signature.
	var payload map[string]any
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &payload); err != nil {
		t.Fatal(err)
	}
	payload["scope"] = "ops:read ops:write billing:admin"
	pb, _ = json.Marshal(payload)
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + parts[2]

	cases := []struct {
		name   string
		token  string
		reason string
	}{
		{"empty", "", auth.ReasonTokenMissing},
		{"garbage", "not-a-jwt", auth.ReasonTokenInvalid},
		{"wrong issuer", sign(t, k, auth.TokenRequest{Issuer: "https://evil.example", Subject: "x"}), auth.ReasonTokenInvalid},
		{"wrong audience", sign(t, k, auth.TokenRequest{Audience: "someone-else", Subject: "x"}), auth.ReasonTokenInvalid},
		{"expired", sign(t, k, auth.TokenRequest{Subject: "x", TTL: -2 * time.Minute}), auth.ReasonTokenExpired},
		{"missing exp", signClaims(t, k, k.kid, noExp), auth.ReasonTokenInvalid},
		{"not yet valid", signClaims(t, k, k.kid, future), auth.ReasonTokenInvalid},
		{"no subject", signClaims(t, k, k.kid, noSubject), auth.ReasonTokenInvalid},
		{"alg none", noneTok, auth.ReasonTokenInvalid},
		{"HS256 with public key bytes", hsWithRaw, auth.ReasonTokenInvalid},
		{"HS256 with JWKS document", hsWithJWKS, auth.ReasonTokenInvalid},
		{"unknown kid", signClaims(t, k, "no-such-kid", validClaims()), auth.ReasonTokenInvalid},
		{"foreign key claiming our kid", signClaims(t, other, k.kid, validClaims()), auth.ReasonTokenInvalid},
		{"tampered signature", tamperedSig, auth.ReasonTokenInvalid},
		{"tampered payload", tamperedPayload, auth.ReasonTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tc.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: principal %+v", p)
			}
			wantAuthFault(t, err, tc.reason)
		})
	}
}

func TestVerifyAlgorithmAllowList(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	v, err := auth.NewVerifier(context.Background(), auth.Config{
		Issuer: issuer, Audience: audience, JWKSFile: writeJWKS(t, k.jwks), Algorithms: []string{"RS256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), sign(t, k, auth.TokenRequest{Subject: "x"}))
	wantAuthFault(t, err, auth.ReasonTokenInvalid)
}

func TestVerifyLeewayToleratesSmallSkew(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	v := fileVerifier(t, k)
	// Expired 5s ago: within the default 30s leeway.
	if _, err := v.Verify(context.Background(), sign(t, k, auth.TokenRequest{Subject: "x", TTL: -5 * time.Second})); err != nil {
		t.Fatalf("token expired 5s ago refused despite 30s leeway: %v", err)
	}
}
