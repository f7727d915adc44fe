package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Reasons of authentication failures.
const (
	ReasonTokenMissing = "TOKEN_MISSING"
	ReasonTokenInvalid = "TOKEN_INVALID"
	ReasonTokenExpired = "TOKEN_EXPIRED"
	ReasonScopeMissing = "SCOPE_MISSING"
)

// Config configures a Verifier.
type Config struct {
	// Issuer the token's "iss" must equal.
	Issuer string
	// Audience the token's "aud" must contain.
	Audience string
	// JWKSFile is a path to a JWKS document; JWKSURL an https (or local http) URL serving one.
	// Exactly one must be set.
	JWKSFile string
	JWKSURL  string
	// Algorithms allowed; EdDSA, ES256 and RS256 when empty. "none" and HMAC are never allowed.
	Algorithms []string
	// Leeway tolerated on exp/nbf/iat for clock skew; 30s when zero.
	Leeway time.Duration
	// RefreshInterval re-reads the JWKS (key rotation); 5 minutes when zero.
	RefreshInterval time.Duration
	// HTTPClient fetches JWKSURL; a client with a 5s timeout when nil.
	HTTPClient *http.Client
}

// Validate reports configuration mistakes.
func (c Config) Validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("auth: issuer is required"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("auth: audience is required"))
	}
	if (c.JWKSFile == "") == (c.JWKSURL == "") {
		errs = append(errs, errors.New("auth: set exactly one of JWKS file or JWKS URL"))
	}
	for _, a := range c.Algorithms {
		if strings.HasPrefix(a, "HS") || strings.EqualFold(a, "none") {
			errs = append(errs, fmt.Errorf("auth: algorithm %q is not allowed", a))
		}
	}
	return errors.Join(errs...)
}

// Verifier checks bearer tokens.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser

	mu      sync.RWMutex
	keys    map[string]crypto.PublicKey // by kid
	loaded  time.Time
	lastTry time.Time
	// verified holds the principals of tokens verified with the current keys, until the token
	// expires or verifiedFor passes, whichever comes first. It is emptied whenever the keys are
	// re-read, so that a withdrawn key stops verifying as soon as it would without the cache.
	verified map[string]verifiedToken
}

// verifiedToken is a cached verification.
type verifiedToken struct {
	p     Principal
	until time.Time
}

// A token is verified again (signature, claims, key set) at least this often, and at most this
// many verified tokens are kept. Every hop of a request verifies the same tokens: the cache
// spares the signature check and the claims decoding on the hot path.
const (
	verifiedFor = 30 * time.Second
	maxVerified = 4096
)

// NewVerifier loads the key set and returns a Verifier.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"EdDSA", "ES256", "RS256"}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 5 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	v := &Verifier{cfg: cfg, parser: jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	)}
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

type claims struct {
	jwt.RegisteredClaims
	Scope    string   `json:"scope,omitempty"`
	Scp      []string `json:"scp,omitempty"`
	ClientID string   `json:"client_id,omitempty"`
	Azp      string   `json:"azp,omitempty"`
	// LegalEntities is the accrue_legal_entities claim (see LegalEntitiesClaim).
	LegalEntities []string `json:"accrue_legal_entities,omitempty"`
}

// Verify checks raw (the token without "Bearer ") and returns its principal. Failures are
// fault.Unauthenticated with reason TOKEN_MISSING, TOKEN_EXPIRED or TOKEN_INVALID; the cause
// says why, for logs only.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, fault.New(fault.Unauthenticated, ReasonTokenMissing, "a bearer token is required")
	}
	v.refreshIfDue(ctx)
	v.mu.RLock()
	hit, ok := v.verified[raw]
	v.mu.RUnlock()
	if ok && time.Now().Before(hit.until) {
		return hit.p, nil
	}
	var c claims
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Principal{}, fault.New(fault.Unauthenticated, ReasonTokenExpired, "the bearer token has expired").Wrap(err)
		}
		return Principal{}, fault.New(fault.Unauthenticated, ReasonTokenInvalid, "the bearer token is not valid").Wrap(err)
	}
	p := Principal{Subject: c.Subject, ClientID: c.ClientID, Token: raw}
	if p.ClientID == "" {
		p.ClientID = c.Azp
	}
	if p.ClientID == "" {
		p.ClientID = c.Subject
	}
	if p.Subject == "" {
		p.Subject = p.ClientID
	}
	if p.Subject == "" {
		return Principal{}, fault.New(fault.Unauthenticated, ReasonTokenInvalid, "the bearer token names no subject")
	}
	p.Scopes = append(strings.Fields(c.Scope), c.Scp...)
	p.LegalEntities = entitiesOfClaim(c.LegalEntities)
	v.remember(raw, p, c.ExpiresAt)
	return p, nil
}

// remember caches p, verified from raw, until exp or verifiedFor from now.
func (v *Verifier) remember(raw string, p Principal, exp *jwt.NumericDate) {
	until := time.Now().Add(verifiedFor)
	if exp != nil && exp.Before(until) {
		until = exp.Time
	}
	if !time.Now().Before(until) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verified == nil || len(v.verified) >= maxVerified {
		v.verified = make(map[string]verifiedToken)
	}
	v.verified[raw] = verifiedToken{p: p, until: until}
}

// BearerToken extracts the token from an Authorization header value ("Bearer <token>").
func BearerToken(header string) string {
	const prefix = "bearer "
	if len(header) > len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):])
	}
	return ""
}

func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	// Unknown kid: the provider may have rotated keys. Re-read, at most once every 10 seconds.
	v.mu.Lock()
	stale := time.Since(v.lastTry) > 10*time.Second
	v.mu.Unlock()
	if stale || time.Since(v.loadedAt()) > v.cfg.RefreshInterval {
		_ = v.refresh(ctx)
		if k, ok := v.lookup(kid); ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no key with kid %q", kid)
}

// refreshIfDue re-reads the key set once RefreshInterval has passed since it was loaded, so that
// keys withdrawn from the set (revoked or rotated out) stop verifying even when no unknown kid
// ever arrives. One caller per interval does the read; a failed read keeps the loaded keys.
func (v *Verifier) refreshIfDue(ctx context.Context) {
	v.mu.Lock()
	due := time.Since(v.loaded) > v.cfg.RefreshInterval && time.Since(v.lastTry) > v.cfg.RefreshInterval
	if due {
		v.lastTry = time.Now()
	}
	v.mu.Unlock()
	if due {
		_ = v.refresh(ctx)
	}
}

func (v *Verifier) lookup(kid string) (crypto.PublicKey, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if kid == "" && len(v.keys) == 1 {
		for _, k := range v.keys {
			return k, true
		}
	}
	k, ok := v.keys[kid]
	return k, ok
}

func (v *Verifier) loadedAt() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.loaded
}

func (v *Verifier) refresh(ctx context.Context) error {
	v.mu.Lock()
	v.lastTry = time.Now()
	v.mu.Unlock()
	var data []byte
	var err error
	if v.cfg.JWKSFile != "" {
		data, err = os.ReadFile(v.cfg.JWKSFile)
	} else {
		data, err = v.fetch(ctx)
	}
	if err != nil {
		return fmt.Errorf("auth: read JWKS: %w", err)
	}
	keys, err := ParseJWKS(data)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.keys, v.loaded, v.verified = keys, time.Now(), nil
	v.mu.Unlock()
	return nil
}

func (v *Verifier) fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", v.cfg.JWKSURL, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// ParseJWKS parses a JWKS document into public keys by kid. Private key material in the document
// is refused: a verifier must never hold signing keys.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("auth: parse JWKS: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("auth: JWKS key %q holds private material", k.KeyID)
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		keys[k.KeyID] = k.Key
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: JWKS holds no signing keys")
	}
	return keys, nil
}
