package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/accrue/accrue/internal/platform/auth"
)

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
