package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/auth"
)

func TestFileTokenSourceRereadsChangedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  token-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := &auth.FileTokenSource{Path: path}
	got, err := ts.Token(context.Background())
	if err != nil || got != "token-one" {
		t.Fatalf("Token = %q, %v; want token-one", got, err)
	}
	if err := os.WriteFile(path, []byte("token-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got, err := ts.Token(context.Background()); err != nil || got != "token-two" {
		t.Fatalf("after rewrite Token = %q, %v; want token-two", got, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(context.Background()); err == nil {
		t.Fatal("Token succeeded with the file gone")
	}
}

func TestClientCredentialsCachesUntilNearExpiry(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	var expiresIn atomic.Int64
	expiresIn.Store(3600)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != "svc-billing" || secret != "s3cret" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		if err := r.ParseForm(); err != nil ||
			r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "ops:read ops:write" ||
			r.PostForm.Get("audience") != "accrue" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":%d,"token_type":"Bearer"}`, n, expiresIn.Load())
	}))
	defer srv.Close()

	cc := &auth.ClientCredentials{TokenURL: srv.URL, ClientID: "svc-billing", ClientSecret: "s3cret",
		Scopes: []string{"ops:read", "ops:write"}, Audience: "accrue"}
	for range 3 {
		tok, err := cc.Token(context.Background())
		if err != nil || tok != "tok-1" {
			t.Fatalf("Token = %q, %v; want cached tok-1", tok, err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("token endpoint called %d times, want 1 (cached)", hits.Load())
	}

	// A token about to expire (within 30s) is replaced at the next call.
	expiresIn.Store(10)
	cc2 := &auth.ClientCredentials{TokenURL: srv.URL, ClientID: "svc-billing", ClientSecret: "s3cret",
		Scopes: []string{"ops:read", "ops:write"}, Audience: "accrue"}
	first, _ := cc2.Token(context.Background())
	second, err := cc2.Token(context.Background())
	if err != nil || first == second {
		t.Fatalf("short-lived token reused: %q then %q (%v)", first, second, err)
	}

	bad := &auth.ClientCredentials{TokenURL: srv.URL, ClientID: "svc-billing", ClientSecret: "wrong"}
	if _, err := bad.Token(context.Background()); err == nil {
		t.Fatal("Token succeeded with a refused client secret")
	}
}
