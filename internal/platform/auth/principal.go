package auth

import (
	"context"
	"slices"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Principal is the verified caller: a client (service account) acting with a set of scopes.
type Principal struct {
	// Subject is the token's "sub": the client or user the token was issued to.
	Subject string
	// ClientID is the OAuth2 client ("client_id" or "azp"), the Subject when absent.
	ClientID string
	// Scopes granted to the token ("scope", space separated, or "scp").
	Scopes []string
	// LegalEntities are the legal entities the caller may act for (claim accrue_legal_entities).
	LegalEntities Entities
	// Token is the raw bearer token, kept so calls made on the caller's behalf can relay it.
	Token string
}

// HasScope reports whether the principal was granted scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal carried by ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Actor names who acted, for audit records: the principal's subject, or "system" for work that
// no caller started (consumers, schedulers).
func Actor(ctx context.Context) string {
	if p, ok := FromContext(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return "system"
}

// Granted reports whether the work ctx carries may use scope: the verified caller holds it, or no
// caller started the work (consumers, schedulers).
func Granted(ctx context.Context, scope string) bool {
	p, ok := FromContext(ctx)
	return !ok || p.HasScope(scope)
}

// RequireScope returns a PermissionDenied fault (SCOPE_MISSING, metadata required_scope) unless
// Granted(ctx, scope): for calls whose content, not only their method, needs a further scope.
func RequireScope(ctx context.Context, scope string) error {
	if Granted(ctx, scope) {
		return nil
	}
	fe := fault.New(fault.PermissionDenied, ReasonScopeMissing, "this request needs the %q scope", scope)
	fe.Metadata = map[string]string{"required_scope": scope}
	return fe
}
