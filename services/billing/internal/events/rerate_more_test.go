package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// rebills lists the rebill decisions of every contract as "source_id invoiced → rerated (delta) vN".
func rebills(t *testing.T, f *billingtest.Env) []string {
	t.Helper()
	page, err := paging.ByID(0, "")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.UC.RebillDecisions(f.Ctx, ledger.RebillFilter{}, page)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list {
		out = append(out, r.SourceID+" "+r.Invoiced.String()+" → "+r.Rerated.String()+" ("+r.Delta.String()+") v"+decimal.NewFromInt(r.ContractVersion).String())
	}
	return out
}

// An invoiced candidate is left untouched by a rate change (no WIP adjustment, same amount) and
// listed with the delta a credit note / rebill would need; an amendment that brings the rate
// back to what was invoiced takes it off the list.
func TestInvoicedCandidatesAreListedForARebill(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Postings(f.UC), approved(t, entry("B-10", architect, taskBill, "2026-06-10", "10.5", true),
		entry("B-11", architect, taskBill, "2026-06-11", "2", true)))
	// No invoice module yet: invoicing is the candidate's status.
	if _, err := f.DB.Pool.Exec(f.Ctx, `UPDATE invoice_candidates SET status = 'INVOICED' WHERE source_id = 'B-10'`); err != nil {
		t.Fatal(err)
	}
	amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))
	if got := candidate(f, "B-10"); got != "INVOICED 10.5 × 90.00 = 945.00" {
		t.Fatalf("invoiced candidate = %q, want it untouched", got)
	}
	if got := wipOf(f, "B-10"); got != "945.00" {
		t.Fatalf("WIP of the invoiced entry = %s, want 945.00 untouched", got)
	}
	if got := candidate(f, "B-11"); got != "OPEN 2 × 100.00 = 200.00" {
		t.Fatalf("open candidate = %q, want re-rated to 200.00", got)
	}
	if got := rebills(t, f); len(got) != 1 || got[0] != "B-10 945.00 USD → 1050.00 USD (105.00 USD) v2" {
		t.Fatalf("rebill decisions = %v, want B-10 with +105.00", got)
	}
	if n, err := f.Queue.CountOpen(f.Ctx, app.KindRebillNeeded, ""); err != nil || n != 1 {
		t.Fatalf("open rebill exceptions = %d (%v), want 1", n, err)
	}
	amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", "")) // again: listed once
	if got := rebills(t, f); len(got) != 1 {
		t.Fatalf("rebill decisions after the same amendment again = %v", got)
	}
	amend(t, f, 3, consultant50, billingtest.Rate("ARCHITECT", "90.00", "2026-01-01", ""))
	if got := rebills(t, f); len(got) != 0 {
		t.Fatalf("rebill decisions after the rate went back = %v, want none", got)
	}
	if got := candidate(f, "B-11"); got != "OPEN 2 × 90.00 = 180.00" {
		t.Fatalf("open candidate after the rate went back = %q", got)
	}
	trialBalanceZero(t, f)
}

// The posted time's period closed: ROLL_FORWARD dates the WIP delta on the first day of the
// first open period (linked to the original by its source id and work date); REJECT posts
// nothing, keeps the candidate at its rate and lists the entry in an exception.
func TestBillRerateInAClosedPeriod(t *testing.T) {
	for _, c := range []struct {
		policy           legalentity.ClosedPeriodPolicy
		wip, cand, dated string
	}{{legalentity.RollForward, "1050.00", "OPEN 10.5 × 100.00 = 1050.00", "2026-07-01"}, {legalentity.Reject, "945.00", "OPEN 10.5 × 90.00 = 945.00", ""}} {
		t.Run(string(c.policy), func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.policy)
			apply(t, f, events.Postings(f.UC), approved(t, entry("B-20", architect, taskBill, "2026-06-10", "10.5", true)))
			if _, err := f.UC.SetPeriod(f.Ctx, f.LE.ID, "2026-06", true); err != nil {
				t.Fatal(err)
			}
			amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-06-01", ""))
			if got := wipOf(f, "B-20"); got != c.wip {
				t.Fatalf("WIP = %s, want %s", got, c.wip)
			}
			if got := candidate(f, "B-20"); got != c.cand {
				t.Fatalf("candidate = %q, want %q", got, c.cand)
			}
			trialBalanceZero(t, f)
			if c.dated != "" {
				if got := billingtest.Scalar[string](f, `SELECT posting_date::text || ' ' || source_date::text || ' ' || source_id FROM journal_entries WHERE source_type = 'bill_adjustment'`); got != c.dated+" 2026-06-10 B-20" {
					t.Fatalf("adjustment dated %q, want posting %s for B-20 of 2026-06-10", got, c.dated)
				}
				return
			}
			if n, err := f.Queue.CountOpen(f.Ctx, app.KindRerateRejected, "PERIOD_CLOSED"); err != nil || n != 1 {
				t.Fatalf("open re-rate exceptions = %d (%v), want 1", n, err)
			}
		})
	}
}

// A re-rated entry's reversal reverses the WIP as it stands (original and delta) and cancels the
// candidate; a later amendment does not re-rate it.
func TestReversalOfAReratedEntryReversesTheDelta(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Postings(f.UC), approved(t, entry("B-30", architect, taskBill, "2026-06-10", "10.5", true)))
	amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))
	rev := entry("B-30-R", architect, taskBill, "2026-06-10", "-10.5", true)
	rev.ReversesEntryId = "B-30"
	apply(t, f, events.Postings(f.UC), envelope(t, timeexpensev1.EventTypeTimeEntriesReversed, &timeexpensev1.EntriesReversed{Entries: []*timeexpensev1.TimeEntry{rev}}))
	if got := account(f, "1200"); got != "0.00" {
		t.Fatalf("WIP after the reversal = %s, want 0.00 (945.00 + 105.00 reversed)", got)
	}
	amend(t, f, 3, consultant50, billingtest.Rate("ARCHITECT", "110.00", "2026-01-01", ""))
	if got := account(f, "1200"); got != "0.00" {
		t.Fatalf("WIP after a later amendment = %s, want 0.00: a reversed entry is not re-rated", got)
	}
	if got := candidate(f, "B-30"); got != "REVERSED 10.5 × 100.00 = 1050.00" {
		t.Fatalf("candidate = %q", got)
	}
	trialBalanceZero(t, f)
}

// An approval and an amendment of the bill rates in flight at the same time, in both orders of
// who holds the contract first: the candidate and WIP always end at the new rate.
func TestConcurrentApprovalAndAmendmentEndAtTheNewRate(t *testing.T) {
	src := ledger.Source{Type: ledger.SourceTime, ID: "B-40", Version: 1, ResourceID: architect, ProjectID: projectID, TaskID: taskBill,
		Date: billingtest.Day("2026-06-10"), Hours: decimal.RequireFromString("10.5"), Billable: true}
	for _, first := range []string{"amendment", "approval"} {
		t.Run(first+" first", func(t *testing.T) {
			t.Parallel()
			f := setup(t, legalentity.Reject)
			ctx := context.Background()
			card := f.Terms(consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))
			tx, err := f.DB.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			inTx := pg.WithTx(ctx, tx)
			done := make(chan error, 1)
			if first == "amendment" {
				if _, _, err := f.UC.UpsertContract(inTx, o1, 2, card, false); err != nil {
					t.Fatal(err)
				}
				go func() { _, err := f.UC.PostBatch(ctx, []ledger.Source{src}); done <- err }()
			} else {
				if _, err := f.UC.PostBatch(inTx, []ledger.Source{src}); err != nil {
					t.Fatal(err)
				}
				go func() { _, _, err := f.UC.UpsertContract(ctx, o1, 2, card, false); done <- err }()
			}
			time.Sleep(300 * time.Millisecond) // the other side runs (or waits for the contract)
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := wipOf(f, "B-40"); got != "1050.00" {
				t.Fatalf("B-40 WIP = %s, want 1050.00 at the new rate", got)
			}
			if got := candidate(f, "B-40"); got != "OPEN 10.5 × 100.00 = 1050.00" {
				t.Fatalf("candidate = %q", got)
			}
			trialBalanceZero(t, f)
		})
	}
}
