package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// A code taken by a concurrent writer is reported as legalentity.ErrCodeTaken (the create then
// compares with the winner); a new legal entity gets the default chart of accounts.
func TestLegalEntityCodesAreUnique(t *testing.T) {
	t.Parallel()
	e := billingtest.New(t, legalentity.Reject) // holds US01
	second := legalentity.LegalEntity{ID: "01a22400-0000-7000-8000-0000000000e2", Version: 1, CreatedAt: time.Now().UTC(),
		Details: legalentity.Details{Code: "US01", Name: "Other", FunctionalCurrency: "USD", CountryCode: "US", Policy: legalentity.RollForward}}
	if err := e.Store.CreateLegalEntity(e.Ctx, second); !errors.Is(err, legalentity.ErrCodeTaken) {
		t.Fatalf("second create of US01: %v, want LEGAL_ENTITY_CODE_TAKEN", err)
	}
	got, err := e.Store.LegalEntityByCode(e.Ctx, "US01")
	if err != nil || got.ID != e.LE.ID || got.Policy != legalentity.Reject {
		t.Fatalf("US01 = %+v (%v), want the first one", got, err)
	}
	if accounts, err := e.Store.ListAccounts(e.Ctx, e.LE.ID); err != nil || len(accounts) != len(ledger.DefaultChart) {
		t.Fatalf("chart: %d accounts (%v), want %d", len(accounts), err, len(ledger.DefaultChart))
	}
	if _, err := e.Store.LegalEntity(e.Ctx, "01a22400-0000-7000-8000-0000000000ff"); !errors.Is(err, legalentity.ErrNotFound) {
		t.Fatalf("unknown id: %v, want LEGAL_ENTITY_NOT_FOUND", err)
	}
}

// Setting a period reports a change only when its status changes (a first explicit opening is
// one), and keeps who changed it last.
func TestPeriodChangesAreReportedOnce(t *testing.T) {
	t.Parallel()
	e := billingtest.New(t, legalentity.Reject)
	for i, step := range []struct {
		status  ledger.PeriodStatus
		actor   string
		changed bool
		by      string
	}{
		{ledger.PeriodOpen, "ann", true, "ann"},
		{ledger.PeriodOpen, "bob", false, "ann"},
		{ledger.PeriodClosed, "bob", true, "bob"},
		{ledger.PeriodClosed, "cid", false, "bob"},
	} {
		p, changed, err := e.Store.SetPeriod(e.Ctx, e.LE.ID, "2026-05", step.status, step.actor)
		if err != nil || changed != step.changed || p.Status != step.status || p.ChangedBy != step.by {
			t.Fatalf("step %d: %+v changed %v (%v), want %s by %s changed %v", i, p, changed, err, step.status, step.by, step.changed)
		}
	}
	periods, err := e.Store.ListPeriods(e.Ctx, e.LE.ID)
	if err != nil || len(periods) != 1 || periods[0].Status != ledger.PeriodClosed {
		t.Fatalf("periods %+v (%v)", periods, err)
	}
	if start, end := periods[0].Dates(); start.String() != "2026-05-01" || end.String() != "2026-05-31" {
		t.Fatalf("May runs %s..%s", start, end)
	}
}
