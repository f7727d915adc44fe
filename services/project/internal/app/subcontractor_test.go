package app_test

import (
	"context"
	"testing"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// Allocated supplier cost reaches a project's actuals beside labor cost: 10 h posted at 400.00
// cost and 1,000.00 revenue (margin 600.00, 60.00 %), then a 166.67 part of a supplier bill
// (not billable) → actual cost 566.67 of which subcontractor 166.67, margin 433.33 (43.33 %); its
// reversal by a re-allocation and a new part of 142.86 → cost 542.86, margin 457.14 (45.71 %).
func TestSubcontractorCostCountsInActualCostAndMargin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conv, err := e.uc.Convert(ctx, opportunity("006S", 1))
	if err != nil {
		t.Fatal(err)
	}
	pid := conv.Project.ID
	usd := func(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }
	apply := func(results ...*billingv1.PostingResult) {
		t.Helper()
		ps, err := wire.Postings(&billingv1.PostingsRecorded{Results: results})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.uc.AddActuals(ctx, ps); err != nil {
			t.Fatal(err)
		}
	}
	want := func(cost, sub, margin, pct string) {
		t.Helper()
		f := economics(t, e, pid)
		m, p := f.ActualMargin()
		if !f.ActualCost.Equal(dec(cost)) || !f.ActualSubcontractorCost.Equal(dec(sub)) || !m.Equal(dec(margin)) || p == nil || p.StringFixed(2) != pct {
			t.Fatalf("actual cost %s (subcontractor %s), margin %s (%v %%); want %s (%s), %s (%s %%)", f.ActualCost, f.ActualSubcontractorCost, m, p,
				cost, sub, margin, pct)
		}
	}
	posted, reversed := billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED
	apply(&billingv1.PostingResult{SourceType: "time_entry", SourceId: "T-1", SourceVersion: 1, ProjectId: pid, Outcome: posted, Hours: "10",
		Cost: usd("400.00"), Revenue: usd("1000.00")})
	want("400", "0", "600", "60.00")

	apply(&billingv1.PostingResult{SourceType: "supplier_cost", SourceId: "L-1/" + pid, SourceVersion: 1, ProjectId: pid, Outcome: posted,
		Hours: "0", Cost: usd("166.67"), Revenue: usd("0.00"), SubcontractorCost: usd("166.67")})
	want("566.67", "166.67", "433.33", "43.33")

	apply(&billingv1.PostingResult{SourceType: "supplier_cost_reversal", SourceId: "L-1/" + pid, SourceVersion: 1, ProjectId: pid, Outcome: reversed,
		Hours: "0", Cost: usd("-166.67"), Revenue: usd("0.00"), SubcontractorCost: usd("-166.67")},
		&billingv1.PostingResult{SourceType: "supplier_cost", SourceId: "L-1/" + pid, SourceVersion: 2, ProjectId: pid, Outcome: posted,
			Hours: "0", Cost: usd("142.86"), Revenue: usd("0.00"), SubcontractorCost: usd("142.86")})
	want("542.86", "142.86", "457.14", "45.71")
}
