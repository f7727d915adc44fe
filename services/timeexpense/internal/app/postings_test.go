package app_test

import (
	"testing"

	"github.com/accrue/accrue/services/timeexpense/internal/app"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// TestLedgerAnswersOnlyMoveForward: the ledger's answers arrive out of order; per entry the most
// settled one of a batch wins, a late PARKED never replaces a final status, and a posted reversal
// marks its original REVERSED.
func TestLedgerAnswersOnlyMoveForward(t *testing.T) {
	e, ctx := start(t)
	orig := approved(t, e, work(1, workDay(12), "8"))
	other := approved(t, e, work(2, workDay(12), "8"))
	answer := func(want int64, answers ...te.PostingAnswer) {
		t.Helper()
		n, err := e.uc.ApplyLedger(ctx, app.LedgerChanges{Postings: answers})
		if err != nil || n != want {
			t.Fatalf("apply %v: changed %d (%v), want %d", answers, n, err, want)
		}
	}
	status := func(id string) te.PostingStatus {
		t.Helper()
		en, err := e.uc.Entry(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return en.Posting
	}

	answer(2, te.PostingAnswer{EntryID: orig.ID, Status: te.PostingPosted},
		te.PostingAnswer{EntryID: orig.ID, Status: te.PostingParkedRateMissing, Reason: "RATE_MISSING"},
		te.PostingAnswer{EntryID: other.ID, Status: te.PostingParkedRateMissing, Reason: "RATE_MISSING"})
	if status(orig.ID) != te.PostingPosted || status(other.ID) != te.PostingParkedRateMissing {
		t.Fatalf("after the first batch: %s, %s", status(orig.ID), status(other.ID))
	}
	answer(0, te.PostingAnswer{EntryID: orig.ID, Status: te.PostingParkedRateMissing})
	answer(0, te.PostingAnswer{EntryID: orig.ID, Status: te.PostingRejectedClosedPeriod})
	answer(1, te.PostingAnswer{EntryID: other.ID, Status: te.PostingPosted})
	if status(orig.ID) != te.PostingPosted || status(other.ID) != te.PostingPosted {
		t.Fatalf("after late answers: %s, %s", status(orig.ID), status(other.ID))
	}

	c, err := e.uc.Correct(ctx, orig.ID, work(1, workDay(12), "6"), "fewer hours")
	if err != nil {
		t.Fatal(err)
	}
	answer(2, te.PostingAnswer{EntryID: c.Reversal.ID, Status: te.PostingReversed})
	if status(orig.ID) != te.PostingReversed || status(c.Reversal.ID) != te.PostingReversed || status(c.Replacement.ID) != te.PostingPending {
		t.Fatalf("after the reversal posted: original %s, reversal %s, replacement %s",
			status(orig.ID), status(c.Reversal.ID), status(c.Replacement.ID))
	}
}
