package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/accrue/accrue/internal/platform/auth"
)

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
