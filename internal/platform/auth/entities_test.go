package auth_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
)

const (
	leUS = "0190a3f2-0000-7000-8000-000000000001"
	leDE = "0190a3f2-0000-7000-8000-000000000002"
)

func TestLegalEntitiesClaim(t *testing.T) {
	t.Parallel()
	k := newDevKey(t)
	v := fileVerifier(t, k)
	verify := func(tok string) auth.Principal {
		t.Helper()
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return p
	}

	// Listed ids: those only (case-insensitive), duplicates folded.
	p := verify(sign(t, k, auth.TokenRequest{Subject: "a", LegalEntities: []string{leUS, leUS, " " + leDE}}))
	if e := p.LegalEntities; e.All || len(e.IDs) != 2 || !e.Allows(leUS) || !e.Allows(leDE) || e.Allows("other") || e.Allows("") {
		t.Errorf("listed: %+v", e)
	}
	// "*": every entity.
	p = verify(sign(t, k, auth.TokenRequest{Subject: "b", LegalEntities: []string{auth.AllLegalEntities}}))
	if !p.LegalEntities.All || !p.LegalEntities.Allows(leDE) {
		t.Errorf("star: %+v", p.LegalEntities)
	}
	// No claim, or an empty one: none.
	for _, les := range [][]string{nil, {}} {
		p = verify(sign(t, k, auth.TokenRequest{Subject: "c", LegalEntities: les}))
		if !p.LegalEntities.None() || p.LegalEntities.Allows(leUS) {
			t.Errorf("claim %v: %+v, want none", les, p.LegalEntities)
		}
	}
	// The claim must be an array: a string is an invalid token.
	c := validClaims()
	c[auth.LegalEntitiesClaim] = leUS
	if _, err := v.Verify(context.Background(), signClaims(t, k, k.kid, jwt.MapClaims(c))); err == nil {
		t.Errorf("a string claim was accepted")
	}
}

func TestCheckLegalEntity(t *testing.T) {
	t.Parallel()
	// Work no caller started (consumers) acts on the entity its event records.
	if err := auth.CheckLegalEntity(context.Background(), leUS); err != nil {
		t.Errorf("system work refused: %v", err)
	}
	if err := auth.RequireAllLegalEntities(context.Background()); err != nil {
		t.Errorf("system work refused: %v", err)
	}
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "x", LegalEntities: auth.Entities{IDs: []string{leUS}}})
	if err := auth.CheckLegalEntity(ctx, leUS); err != nil {
		t.Errorf("own entity refused: %v", err)
	}
	for _, err := range []error{auth.CheckLegalEntity(ctx, leUS, leDE), auth.RequireAllLegalEntities(ctx)} {
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.PermissionDenied || fe.Reason != auth.ReasonLegalEntityForbidden {
			t.Errorf("err = %v, want PermissionDenied %s", err, auth.ReasonLegalEntityForbidden)
		}
	}
}
