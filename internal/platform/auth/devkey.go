package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// GenerateDevKey returns a new Ed25519 signing key as a private JWK and the matching public JWKS.
func GenerateDevKey() (privateJWK, publicJWKS []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	// The kid must differ between keys generated close together (rotation): the leading digits of
	// a UUIDv7 are a timestamp that changes only every ~65s, so take random digits instead.
	kid := "dev-" + uuid.NewString()[:8]
	privateJWK, err = json.MarshalIndent(jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: "EdDSA", Use: "sig"}, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	publicJWKS, err = json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: "EdDSA", Use: "sig"}}}, "", "  ")
	return privateJWK, publicJWKS, err
}

// TokenRequest describes a token to sign.
type TokenRequest struct {
	Issuer   string
	Audience string
	Subject  string
	Scopes   []string
	TTL      time.Duration
	// LegalEntities fills the accrue_legal_entities claim (ids, or "*"); omitted when nil, and
	// the token then acts for no legal entity.
	LegalEntities []string
}

// SignToken signs a token with a private JWK produced by GenerateDevKey.
func SignToken(privateJWK []byte, r TokenRequest) (string, error) {
	var k jose.JSONWebKey
	if err := json.Unmarshal(privateJWK, &k); err != nil {
		return "", fmt.Errorf("auth: parse signing key: %w", err)
	}
	priv, ok := k.Key.(ed25519.PrivateKey)
	if !ok {
		return "", fmt.Errorf("auth: signing key is %T, want an Ed25519 private key", k.Key)
	}
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    r.Issuer,
			Subject:   r.Subject,
			Audience:  jwt.ClaimStrings{r.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(r.TTL)),
			ID:        uuid.Must(uuid.NewV7()).String(),
		},
		Scope:         strings.Join(r.Scopes, " "),
		ClientID:      r.Subject,
		LegalEntities: r.LegalEntities,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = k.KeyID
	return t.SignedString(priv)
}
