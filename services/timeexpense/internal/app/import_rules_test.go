package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// TestImportPublishesAcceptedEntriesInChunksOfAThousand: 2,500 accepted entries are announced in
// three time_entries.approved events of 1,000, 1,000 and 500, every entry once, in request
// order; a call that accepts nothing publishes nothing.
func TestImportPublishesAcceptedEntriesInChunksOfAThousand(t *testing.T) {
	e, ctx := start(t)
	items := month("CHUNK", 2500, 0)
	sum, err := e.uc.Import(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 2500 || sum.Events != 3 {
		t.Fatalf("accepted %d in %d events, want 2500 in 3", sum.Accepted, sum.Events)
	}
	events := published(t, e, timeexpensev1.EventTypeTimeEntriesApproved, func() *timeexpensev1.EntriesApproved { return &timeexpensev1.EntriesApproved{} })
	var ids []string
	for i, want := range []int{wire.MaxEntriesPerEvent, wire.MaxEntriesPerEvent, 500} {
		if got := len(events[i].GetEntries()); got != want {
			t.Errorf("event %d carries %d entries, want %d", i, got, want)
		}
		for _, en := range events[i].GetEntries() {
			ids = append(ids, en.GetEntryId())
		}
	}
	for i, r := range sum.Results {
		if r.Outcome != te.ImportAccepted || ids[i] != r.EntryID {
			t.Fatalf("item %d: %+v, published as %s", i, r, ids[i])
		}
	}

	again, err := e.uc.Import(ctx, items[:1000])
	if err != nil || again.Duplicates != 1000 || again.Events != 0 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox`); n != 3 {
		t.Fatalf("events = %d after a re-import, want 3", n)
	}
}

// TestImportJudgesEachItem: each item is accepted, a duplicate or rejected with its reason, on
// its own; the rejected ones write nothing.
func TestImportJudgesEachItem(t *testing.T) {
	e, ctx := start(t)
	if _, err := e.uc.Import(ctx, month("OLD", 1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.uc.ApplyLedger(ctx, app.LedgerChanges{Periods: []te.Period{{Key: te.PeriodKey{LegalEntityID: legalEntity, Period: "2025-12"},
		Status: te.PeriodClosed, ChangedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}}}); err != nil {
		t.Fatal(err)
	}
	items := month("NEW", 9, 0)
	items[0] = month("OLD", 1, 0)[0]      // stored by the earlier import, same content
	items[1].Input.Ref = nil              // no reference
	items[2].Err = errors.New("bad date") // unreadable
	items[3].Input.Date = workDay(-1)     // 31 December: closed
	items[5].Input = items[4].Input       // the same item twice
	items[6].Input = items[4].Input       // the same reference, other content
	items[6].Input.Description = "other"
	items[7].Input.Hours = decimal.NewFromInt(12)
	items[8].Input = items[7].Input // 12.5 more hours the same day: 24.5
	items[8].Input.Hours = decimal.RequireFromString("12.5")
	items[8].Input.Ref = &te.ExternalRef{System: "harvest", ObjectType: "TimeEntry", ExternalID: "NEW-8"}
	sum, err := e.uc.Import(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome te.ImportOutcome
		reason  string
	}{
		{te.ImportDuplicate, ""}, {te.ImportRejected, "EXTERNAL_REFERENCE_REQUIRED"}, {te.ImportRejected, "INVALID_ITEM"},
		{te.ImportRejected, "PERIOD_CLOSED"}, {te.ImportAccepted, ""}, {te.ImportDuplicate, ""},
		{te.ImportRejected, "DUPLICATE_EXTERNAL_ID"}, {te.ImportAccepted, ""}, {te.ImportRejected, "DAILY_HOURS_EXCEEDED"},
	}
	for i, w := range want {
		if r := sum.Results[i]; r.Outcome != w.outcome || r.Reason != w.reason || r.Index != i {
			t.Errorf("item %d: %+v, want outcome %d reason %q", i, r, w.outcome, w.reason)
		}
	}
	if sum.Results[5].EntryID != sum.Results[4].EntryID {
		t.Errorf("the repeated item points to %s, want %s", sum.Results[5].EntryID, sum.Results[4].EntryID)
	}
	if sum.Accepted != 2 || sum.Duplicates != 2 || sum.Rejected != 5 || sum.Events != 1 {
		t.Errorf("summary: %d/%d/%d in %d events", sum.Accepted, sum.Duplicates, sum.Rejected, sum.Events)
	}
	e.wantEntries(t, 3) // 1 + 2
}
