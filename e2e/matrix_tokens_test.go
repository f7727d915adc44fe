package e2e

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// Tokens of the authorization matrix, forged with the Env's signing key (or without it).

// The issuer and audience every process of the Env verifies (the services' defaults).
const (
	matrixIssuer   = "https://auth.accrue.local"
	matrixAudience = "accrue"
)

type devJWK struct {
	Kid string `json:"kid"`
	X   string `json:"x"`
	D   string `json:"d"`
}

// forger signs tokens with the Env's key, or forges them in ways the verifier must refuse.
type forger struct {
	t    testing.TB
	kid  string
	priv ed25519.PrivateKey
	pub  []byte
}

func newForger(t testing.TB, env *harness.Env) *forger {
	t.Helper()
	raw, err := os.ReadFile(env.SigningKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	var k devJWK
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	seed, err := base64.RawURLEncoding.DecodeString(k.D)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil {
		t.Fatal(err)
	}
	return &forger{t: t, kid: k.Kid, priv: ed25519.NewKeyFromSeed(seed), pub: pub}
}

// claims are valid claims for scopes and legal entities (nil: the claim is left out).
func (f *forger) claims(scopes string, entities []string) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": matrixIssuer, "aud": matrixAudience, "sub": "matrix", "client_id": "matrix",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": scopes}
	if entities != nil {
		c["accrue_legal_entities"] = entities
	}
	return c
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign signs claims with EdDSA under kid.
func (f *forger) sign(claims map[string]any, kid string) string {
	in := segment(f.t, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": kid}) + "." + segment(f.t, claims)
	return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(f.priv, []byte(in)))
}

// valid is a token the Env accepts.
func (f *forger) valid(scopes string, entities []string) string {
	return f.sign(f.claims(scopes, entities), f.kid)
}

// badTokens are the tokens every RPC must refuse, by case, with the gRPC code name and reason.
type badToken struct {
	name, token, code, reason string
}

func (f *forger) badTokens(scopes string) []badToken {
	all := []string{"*"}
	with := func(k string, v any) map[string]any {
		c := f.claims(scopes, all)
		c[k] = v
		return c
	}
	now := time.Now()
	expired := f.claims(scopes, all)
	expired["iat"], expired["nbf"], expired["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	payload := segment(f.t, f.claims(scopes, all))
	none := segment(f.t, map[string]any{"alg": "none", "typ": "JWT", "kid": f.kid}) + "." + payload + "."
	hsIn := segment(f.t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": f.kid}) + "." + payload
	mac := hmac.New(sha256.New, f.pub)
	mac.Write([]byte(hsIn))
	hs := hsIn + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return []badToken{
		{"no token", "", "Unauthenticated", "TOKEN_MISSING"},
		{"expired", f.sign(expired, f.kid), "Unauthenticated", "TOKEN_EXPIRED"},
		{"not yet valid", f.sign(with("nbf", now.Add(time.Hour).Unix()), f.kid), "Unauthenticated", "TOKEN_INVALID"},
		{"wrong audience", f.sign(with("aud", "someone-else"), f.kid), "Unauthenticated", "TOKEN_INVALID"},
		{"wrong issuer", f.sign(with("iss", "https://evil.example"), f.kid), "Unauthenticated", "TOKEN_INVALID"},
		{"alg none", none, "Unauthenticated", "TOKEN_INVALID"},
		{"HS256 signed with the public key", hs, "Unauthenticated", "TOKEN_INVALID"},
		{"unknown kid", f.sign(f.claims(scopes, all), "kid-nobody-published"), "Unauthenticated", "TOKEN_INVALID"},
	}
}
