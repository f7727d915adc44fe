package app_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/early"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// legalEntities is billing's legal-entity service as the owner lookup sees it.
type legalEntities struct {
	billingv1.LegalEntityServiceClient
	codes []string
	calls int
}

func (l *legalEntities) ListLegalEntities(context.Context, *billingv1.ListLegalEntitiesRequest, ...grpc.CallOption) (*billingv1.ListLegalEntitiesResponse, error) {
	l.calls++
	resp := &billingv1.ListLegalEntitiesResponse{}
	for _, c := range l.codes {
		resp.LegalEntities = append(resp.LegalEntities, &billingv1.LegalEntity{Code: c})
	}
	return resp, nil
}

// A legal entity billing has but whose event has not reached the project service yet is early,
// not wrong: REFERENCE_NOT_YET_KNOWN (retry), naming the field, writing nothing and opening no
// exception. One billing does not have either is UNKNOWN_LEGAL_ENTITY.
func TestLegalEntityInFlightIsNotYetKnown(t *testing.T) {
	e := newEnv(t)
	les := &legalEntities{codes: []string{"US01", "DE01", "FR01"}}
	st := store.New(pgstore.New(e.db.Pool, outbox.Writer{Producer: "project"}, e.queue))
	uc := app.New(st, app.Deps{Customers: e.customers, Contracts: e.billing, LegalEntities: les, Log: e.log})

	opp := opportunity("006E1", 1)
	opp.LegalEntityCode = "FR01"
	_, err := uc.Convert(context.Background(), opp)
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Conflict || fe.Reason != early.ReasonReferenceNotYetKnown ||
		fe.Metadata["not_found_reason"] != project.ReasonUnknownLegalEntity || !hasField(err, "opportunity.legal_entity_code") {
		t.Fatalf("conversion with a legal entity in flight: %v, want Conflict / REFERENCE_NOT_YET_KNOWN naming opportunity.legal_entity_code", err)
	}
	if n := e.count(t, `SELECT count(*) FROM projects`) + e.count(t, `SELECT count(*) FROM opportunity_conversions`) +
		e.count(t, `SELECT count(*) FROM exceptions`); n != 0 || e.billing.calls != 0 {
		t.Fatalf("%d rows written, %d contract calls; want none", n, e.billing.calls)
	}

	opp = opportunity("006E2", 1)
	opp.LegalEntityCode = "XX99"
	if _, err := uc.Convert(context.Background(), opp); fault.ReasonOf(err) != project.ReasonUnknownLegalEntity {
		t.Fatalf("conversion with a legal entity no one has: %v, want UNKNOWN_LEGAL_ENTITY", err)
	}
	if les.calls != 2 {
		t.Errorf("billing asked %d times, want once per refused conversion (2)", les.calls)
	}
}
