package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Approved is a time entry or expense item time & expense holds approved (reversal rows left out).
type Approved struct {
	ID       string
	Expense  bool
	Hours    decimal.Decimal
	Amount   decimal.Decimal
	Currency string
	Billable bool
	// Reversed: a correction cancelled it, the ledger should hold no net posting of it.
	Reversed bool
	// PostingStatus is what time & expense last heard from the ledger (e.g. "POSTED", "PENDING").
	PostingStatus string
	ApprovedAt    time.Time
}

// Posted is what billing holds for one source (time entry or expense) id.
type Posted struct {
	ID      string
	Expense bool
	// Postings are the journal entries of the source; Reversals those that reverse them.
	Postings, Reversals int
	// Outcome of the latest posting result ("POSTED", "PARKED_RATE_MISSING",
	// "REJECTED_CLOSED_PERIOD", "REVERSED"; "" when billing never saw the source).
	Outcome string
	// Hours posted (time entries).
	Hours decimal.Decimal
	// Amount and currency of the cost posted (expenses, transaction currency).
	Amount   decimal.Decimal
	Currency string
	// WIP: posted as billable work (an unbilled receivables line), so it needs an invoice candidate.
	WIP bool
	// Candidates open or invoiced for the source, their hours, and how many hours are billed
	// (INVOICED) or unbilled (OPEN).
	Candidates       int
	Billed, Unbilled decimal.Decimal
}

// Net is the number of live postings: postings minus reversals.
func (p Posted) Net() int { return p.Postings - p.Reversals }

// Outcomes under which billing rightly holds no posting of an approved entry (visible elsewhere:
// the closed-period and parked KPIs and their exceptions).
var notPostable = []string{"PARKED_RATE_MISSING", "REJECTED_CLOSED_PERIOD"}

// CompareTime checks approved = posted = billed + unbilled entry by entry and returns the
// findings and the period's totals. Entries approved after settled (still in flight between the
// services) are counted apart ("time.entries_in_flight") and not judged.
func CompareTime(approved []Approved, posted map[string]Posted, settled time.Time) ([]Finding, Totals) {
	t := Totals{}
	for _, n := range []string{"time.entries_approved", "time.hours_approved", "ledger.hours_posted",
		"candidates.hours_billed", "candidates.hours_unbilled", "ledger.hours_billable_posted"} {
		t.Ensure(n)
	}
	var out []Finding
	add := func(code, id, format string, args ...any) {
		out = append(out, Finding{Check: CheckTime, Code: code, EntityType: "time_entry", EntityIDs: []string{id},
			Detail: fmt.Sprintf(format, args...)})
	}
	seen := make(map[string]bool, len(approved))
	list := slices.Clone(approved)
	slices.SortFunc(list, func(a, b Approved) int { return compare(a.ID, b.ID) })
	for _, a := range list {
		seen[a.ID] = true
		p := posted[a.ID]
		if a.Reversed {
			if p.Net() > 0 {
				add(ReversalNotPosted, a.ID, "time & expense reversed the entry; the ledger still holds %d live posting(s) of it", p.Net())
			}
			continue
		}
		t.Add("time.entries_approved", "", decimal.NewFromInt(1))
		if a.Expense {
			t.Add("expense.amount_approved", a.Currency, a.Amount)
		} else {
			t.Add("time.hours_approved", "", a.Hours)
		}
		if !a.ApprovedAt.IsZero() && a.ApprovedAt.After(settled) && p.Net() == 0 {
			t.Add("time.entries_in_flight", "", decimal.NewFromInt(1))
			continue
		}
		switch {
		case p.Net() == 0 && (slices.Contains(notPostable, p.Outcome) || slices.Contains(notPostable, a.PostingStatus)):
			t.Add("time.entries_not_postable", "", decimal.NewFromInt(1))
			continue
		case p.Net() == 0:
			add(ApprovedNotPosted, a.ID, "approved in time & expense (%s), no posting in the ledger", describe(a))
			continue
		case p.Net() > 1:
			add(PostedTwice, a.ID, "approved once, posted %d times in the ledger", p.Net())
		}
		if a.Expense {
			t.Add("ledger.expense_amount_posted", p.Currency, p.Amount)
			if !p.Amount.Equal(a.Amount) || p.Currency != a.Currency {
				add(AmountDiffers, a.ID, "approved %s %s, posted %s %s", a.Amount, a.Currency, p.Amount, p.Currency)
			}
			continue
		}
		t.Add("ledger.hours_posted", "", p.Hours)
		if !p.Hours.Equal(a.Hours) {
			add(HoursDiffer, a.ID, "approved %s h, posted %s h", a.Hours, p.Hours)
		}
		if !p.WIP {
			continue
		}
		t.Add("ledger.hours_billable_posted", "", p.Hours)
		t.Add("candidates.hours_billed", "", p.Billed)
		t.Add("candidates.hours_unbilled", "", p.Unbilled)
		switch got := p.Billed.Add(p.Unbilled); {
		case p.Candidates == 0:
			add(CandidateMissing, a.ID, "posted as billable (%s h), no invoice candidate (billed or unbilled)", p.Hours)
		case !got.Equal(p.Hours):
			add(CandidateHoursDiffer, a.ID, "posted %s billable h, billed %s h + unbilled %s h", p.Hours, p.Billed, p.Unbilled)
		}
	}
	ids := make([]string, 0, len(posted))
	for id := range posted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if p := posted[id]; !seen[id] && p.Net() > 0 {
			add(PostedNotApproved, id, "the ledger holds %d live posting(s); time & expense has no approved entry %s in this legal entity and period", p.Net(), id)
		}
	}
	return out, t
}

func describe(a Approved) string {
	if a.Expense {
		return a.Amount.String() + " " + a.Currency
	}
	return a.Hours.String() + " h"
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
