package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)

	keys, err := auth.ParseJWKS(k.jwks)
	if err != nil {
		t.Fatalf("ParseJWKS(public set): %v", err)
	}
	if _, ok := keys[k.kid]; len(keys) != 1 || !ok {
		t.Fatalf("keys = %v, want exactly kid %s", keys, k.kid)
	}

	withPrivate := []byte(`{"keys":[` + string(k.private) + `]}`)
	if _, err := auth.ParseJWKS(withPrivate); err == nil || !strings.Contains(err.Error(), "private") {
		t.Fatalf("ParseJWKS(private key) error = %v, want refusal of private material", err)
	}

	var set jose.JSONWebKeySet
	if err := json.Unmarshal(k.jwks, &set); err != nil {
		t.Fatal(err)
	}
	set.Keys[0].Use = "enc"
	encOnly, _ := json.Marshal(set)
	if _, err := auth.ParseJWKS(encOnly); err == nil {
		t.Fatal("ParseJWKS accepted a set with only encryption keys")
	}
	if _, err := auth.ParseJWKS([]byte(`{"keys":[]}`)); err == nil {
		t.Fatal("ParseJWKS accepted an empty set")
	}
	if _, err := auth.ParseJWKS([]byte(`{not json`)); err == nil {
		t.Fatal("ParseJWKS accepted malformed JSON")
	}
}

func TestNewVerifierRefusesPrivateJWKSAndMissingFile(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	_, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience,
		JWKSFile: writeJWKS(t, []byte(`{"keys":[`+string(k.private)+`]}`))})
	if err == nil {
		t.Fatal("NewVerifier accepted a JWKS holding a private key")
	}
	_, err = auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience,
		JWKSFile: filepath.Join(t.TempDir(), "missing.json")})
	if err == nil {
		t.Fatal("NewVerifier started without a readable JWKS")
	}
}

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

// jwksServer serves whatever JWKS document is current and counts requests.
type jwksServer struct {
	*httptest.Server
	doc  atomic.Pointer[[]byte]
	hits atomic.Int64
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{}
	s.doc.Store(&doc)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(doc []byte) { s.doc.Store(&doc) }

// jwksOf returns a public JWKS holding the public keys of ks.
func jwksOf(t *testing.T, ks ...devKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range ks {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: "EdDSA", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKSURLRotationPickedUpOnUnknownKid(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newDevKey(t), newDevKey(t)
	srv := newJWKSServer(t, jwksOf(t, oldKey))
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience, JWKSURL: srv.URL})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if srv.hits.Load() != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", srv.hits.Load())
	}
	if _, err := v.Verify(context.Background(), sign(t, oldKey, auth.TokenRequest{Subject: "a"})); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}

	// The provider rotates: the new key is published, the old one withdrawn.
	srv.serve(jwksOf(t, newKey))
	newTok := sign(t, newKey, auth.TokenRequest{Subject: "b", Scopes: []string{"ops:read"}})

	// Unknown kids right after a load do not hammer the provider (at most one re-read per 10s).
	_, err = v.Verify(context.Background(), newTok)
	wantAuthFault(t, err, auth.ReasonTokenInvalid)
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want no re-read within 10s of the last one", got)
	}

	time.Sleep(10*time.Second + 200*time.Millisecond)
	p, err := v.Verify(context.Background(), newTok)
	if err != nil {
		t.Fatalf("token of the rotated-in key after the re-read window: %v", err)
	}
	if p.Subject != "b" {
		t.Errorf("subject = %q", p.Subject)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want exactly one re-read for the unknown kid", got)
	}
	// The withdrawn key no longer verifies.
	_, err = v.Verify(context.Background(), sign(t, oldKey, auth.TokenRequest{Subject: "a"}))
	wantAuthFault(t, err, auth.ReasonTokenInvalid)
}

func TestJWKSRefreshDropsRevokedKey(t *testing.T) {
	t.Parallel()
	revoked, kept := newDevKey(t), newDevKey(t)
	srv := newJWKSServer(t, jwksOf(t, revoked, kept))
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience,
		JWKSURL: srv.URL, RefreshInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	revokedTok := sign(t, revoked, auth.TokenRequest{Subject: "a"})
	if _, err := v.Verify(context.Background(), revokedTok); err != nil {
		t.Fatalf("before revocation: %v", err)
	}

	// The provider withdraws a (compromised) key; no token with an unknown kid ever arrives.
	srv.serve(jwksOf(t, kept))
	time.Sleep(250 * time.Millisecond)

	_, err = v.Verify(context.Background(), revokedTok)
	wantAuthFault(t, err, auth.ReasonTokenInvalid)
	if _, err := v.Verify(context.Background(), sign(t, kept, auth.TokenRequest{Subject: "b"})); err != nil {
		t.Fatalf("token of the kept key: %v", err)
	}
}

func TestJWKSRefreshFailureKeepsKeys(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	srv := newJWKSServer(t, jwksOf(t, k))
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience,
		JWKSURL: srv.URL, RefreshInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The provider serves garbage for a while: the keys already loaded stay in use.
	srv.serve([]byte("<html>maintenance</html>"))
	time.Sleep(120 * time.Millisecond)
	if _, err := v.Verify(context.Background(), sign(t, k, auth.TokenRequest{Subject: "a"})); err != nil {
		t.Fatalf("token refused while the provider was failing: %v", err)
	}
}

func TestVerifierConcurrentUse(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	srv := newJWKSServer(t, jwksOf(t, k))
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: issuer, Audience: audience,
		JWKSURL: srv.URL, RefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, k, auth.TokenRequest{Subject: "a"})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of 160 concurrent verifications failed", n)
	}
}

func TestGenerateDevKeyPublishesNoPrivateMaterial(t *testing.T) {
	t.Parallel()
	priv, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatal(err)
	}
	var k jose.JSONWebKey
	if err := json.Unmarshal(priv, &k); err != nil || k.IsPublic() {
		t.Fatalf("private JWK is not private: %v", err)
	}
	if strings.Contains(string(jwks), `"d"`) {
		t.Fatalf("public JWKS contains the private exponent: %s", jwks)
	}
	// A key of the wrong type cannot sign.
	_, rsaLike, _ := ed25519.GenerateKey(rand.Reader)
	pubOnly, _ := json.Marshal(jose.JSONWebKey{Key: rsaLike.Public(), KeyID: "x"})
	if _, err := auth.SignToken(pubOnly, auth.TokenRequest{Subject: "x", TTL: time.Minute}); err == nil {
		t.Fatal("SignToken signed with a public key")
	}
}

func TestGenerateDevKeyKidsDifferForKeysMadeTogether(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 5 {
		k := newDevKey(t)
		if seen[k.kid] {
			t.Fatalf("two dev keys generated back to back share kid %q: a rotated JWKS would verify with the wrong key", k.kid)
		}
		seen[k.kid] = true
	}
}
