package app_test

import (
	"testing"

	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// A line whose bill date's period closes before the worker allocates it follows the legal
// entity's policy: REJECT parks it (PERIOD_CLOSED, an open exception, nothing posted); ROLL_FORWARD
// posts it on the first day of the next open period, its bill date kept as the source date.
func TestSupplierLineInAClosedPeriodFollowsThePolicy(t *testing.T) {
	for _, c := range []struct {
		policy legalentity.ClosedPeriodPolicy
		status string
		posted string
	}{
		{legalentity.Reject, "PARKED/PERIOD_CLOSED", ""},
		{legalentity.RollForward, "ALLOCATED/", "2026-04-01"},
	} {
		t.Run(string(c.policy), func(t *testing.T) {
			e := supplierEnv(t, c.policy)
			l := bill(billingtest.USD("250.00"), "")
			l.ProjectID = p1
			l, _ = e.record(l)
			if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-03", true); err != nil {
				t.Fatal(err)
			}
			e.allocate(l)
			if st := billingtest.Scalar[string](e.Env, `SELECT status || '/' || status_reason FROM supplier_bill_lines WHERE id = $1`, l.ID); st != c.status {
				t.Fatalf("line = %s, want %s", st, c.status)
			}
			got := billingtest.Scalar[string](e.Env, `SELECT COALESCE(string_agg(posting_date::text || ' ' || source_date::text, ','), '')
				FROM journal_entries WHERE source_id = $1`, l.ID)
			if c.posted == "" {
				if got != "" || e.openSupplierExceptions() != 1 {
					t.Fatalf("entries %q and %d open exceptions, want none and 1", got, e.openSupplierExceptions())
				}
				e.wantCosts(map[string]string{p1: "0.00"})
				return
			}
			if got != c.posted+" 2026-03-31" {
				t.Fatalf("entry posted on / dated %q, want %s 2026-03-31", got, c.posted)
			}
			e.wantCosts(map[string]string{p1: "250.00"})
			e.wantBalanced()
		})
	}
}

// The KPI of supplier cost awaiting allocation (API and metric): count, amount per currency and
// the oldest line's age, until the worker allocates.
func TestSupplierCostAwaitingKPIs(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	usd := bill(billingtest.USD("100.00"), "")
	usd.ProjectID = p1
	usd, _ = e.record(usd)
	eur := bill(billingtest.EUR("50.00"), "")
	eur.ProjectID, eur.LineNo = p2, 2
	e.record(eur)
	k, err := e.UC.SupplierCostKPIs(e.Ctx, e.LE.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Awaiting != 2 || k.Parked != 0 || len(k.Amounts) != 2 || k.Amounts[0].String() != billingtest.EUR("50.00").String() ||
		k.Amounts[1].String() != billingtest.USD("100.00").String() || k.OldestAge <= 0 {
		t.Fatalf("KPIs = %+v, want 2 awaiting (EUR 50.00, USD 100.00), none parked, an oldest age", k)
	}
	if n, err := e.UC.SupplierCostAwaiting(e.Ctx); err != nil || n != 2 {
		t.Fatalf("metric = %d (%v), want 2", n, err)
	}
	e.allocate(usd)
	if k, _ = e.UC.SupplierCostKPIs(e.Ctx, e.LE.ID); k.Awaiting != 1 || len(k.Amounts) != 1 || k.Amounts[0].Currency != "EUR" {
		t.Fatalf("after allocating the USD line KPIs = %+v, want only the EUR line awaiting", k)
	}
}
