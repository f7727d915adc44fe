package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// laborCostOf is the labor cost an entry carries (original plus adjustments).
func laborCostOf(f *billingtest.Env, id string) string {
	return billingtest.Scalar[string](f, `SELECT COALESCE(sum(l.debit - l.credit), 0)::text FROM journal_entries e
		JOIN journal_lines l ON l.entry_id = e.id WHERE e.source_id = $1 AND l.account_code = '5000'`, id)
}

// An approval and a cost-rate change in flight at the same time, in both orders of who holds the
// resource first: the time always ends at the new rate (Read Committed alone would let the
// approval commit at the old rate after the change looked for posted time to re-cost).
func TestConcurrentApprovalAndRateChangeEndAtTheNewRate(t *testing.T) {
	newRates := []ledger.CostRate{{Rate: billingtest.USD("61.30"), From: billingtest.Day("2026-01-01"), To: billingtest.Day("2026-05-31")},
		{Rate: billingtest.USD("70.00"), From: billingtest.Day("2026-06-01")}}
	src := func(id string) ledger.Source {
		return ledger.Source{Type: ledger.SourceTime, ID: id, Version: 1, ResourceID: newcomer, ProjectID: projectID, TaskID: taskBill,
			Date: billingtest.Day("2026-06-10"), Hours: decimal.RequireFromString("7.25"), Billable: true}
	}
	for _, first := range []string{"rate change", "approval"} {
		t.Run(first+" first", func(t *testing.T) {
			t.Parallel()
			f := setup(t, legalentity.Reject)
			ctx := context.Background()
			apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
			tx, err := f.DB.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			inTx := pg.WithTx(ctx, tx)
			done := make(chan error, 1)
			if first == "rate change" {
				if err := f.UC.ApplyCostRates(inTx, newcomer, "CONSULTANT", 2, newRates); err != nil {
					t.Fatal(err)
				}
				go func() { _, err := f.UC.PostBatch(ctx, []ledger.Source{src("T-70")}); done <- err }()
			} else {
				if _, err := f.UC.PostBatch(inTx, []ledger.Source{src("T-70")}); err != nil {
					t.Fatal(err)
				}
				go func() { done <- f.UC.ApplyCostRates(ctx, newcomer, "CONSULTANT", 2, newRates) }()
			}
			time.Sleep(300 * time.Millisecond) // the other side runs (or waits for the resource)
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := laborCostOf(f, "T-70"); got != "507.50" {
				t.Fatalf("T-70 labor cost = %s, want 507.50 at the new rate", got)
			}
			trialBalanceZero(t, f)
		})
	}
}
