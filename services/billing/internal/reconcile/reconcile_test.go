package reconcile_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/services/billing/internal/reconcile"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func codes(fs []reconcile.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.EntityIDs[0]] = f.Code
	}
	return out
}

// The time check reads like the reconciliation a controller does by hand: each approved entry
// posted once with its hours, each billable posting billed or unbilled with the same hours.
func TestCompareTimeNamesEachOffendingEntry(t *testing.T) {
	settled := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	approved := []reconcile.Approved{
		{ID: "ok", Hours: d("8"), Billable: true},
		{ID: "unposted", Hours: d("6")},
		{ID: "twice", Hours: d("2")},
		{ID: "hours", Hours: d("4")},
		{ID: "nocandidate", Hours: d("3"), Billable: true},
		{ID: "parked", Hours: d("1"), PostingStatus: "PARKED_RATE_MISSING"},
		{ID: "inflight", Hours: d("5"), ApprovedAt: settled.Add(time.Second)},
		{ID: "reversed", Hours: d("7"), Reversed: true},
		{ID: "expense", Expense: true, Amount: d("12.50"), Currency: "USD"},
	}
	posted := map[string]reconcile.Posted{
		"ok":          {ID: "ok", Postings: 1, Hours: d("8"), WIP: true, Candidates: 1, Billed: d("5"), Unbilled: d("3")},
		"twice":       {ID: "twice", Postings: 2, Hours: d("2")},
		"hours":       {ID: "hours", Postings: 1, Hours: d("4.5")},
		"nocandidate": {ID: "nocandidate", Postings: 1, Hours: d("3"), WIP: true},
		"parked":      {ID: "parked", Outcome: "PARKED_RATE_MISSING"},
		"reversed":    {ID: "reversed", Postings: 1, Reversals: 1, Hours: d("7")},
		"expense":     {ID: "expense", Expense: true, Postings: 1, Amount: d("12.00"), Currency: "USD"},
		"stray":       {ID: "stray", Postings: 1, Hours: d("9")},
	}
	findings, totals := reconcile.CompareTime(approved, posted, settled)
	want := map[string]string{"unposted": reconcile.ApprovedNotPosted, "twice": reconcile.PostedTwice, "hours": reconcile.HoursDiffer,
		"nocandidate": reconcile.CandidateMissing, "expense": reconcile.AmountDiffers, "stray": reconcile.PostedNotApproved}
	got := codes(findings)
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for id, c := range want {
		if got[id] != c {
			t.Errorf("entry %s: %q, want %s", id, got[id], c)
		}
	}
	figures := map[string]string{}
	for _, x := range totals.List() {
		figures[x.Name+x.Currency] = x.Value.String()
	}
	for k, v := range map[string]string{"time.hours_approved": "29", "ledger.hours_posted": "17.5", "candidates.hours_billed": "5",
		"candidates.hours_unbilled": "3", "ledger.hours_billable_posted": "11", "time.entries_in_flight": "1",
		"time.entries_not_postable": "1", "expense.amount_approvedUSD": "12.5", "ledger.expense_amount_postedUSD": "12"} {
		if figures[k] != v {
			t.Errorf("total %s = %q, want %s", k, figures[k], v)
		}
	}
}

func TestUnbalancedAllocationsAndEvents(t *testing.T) {
	u := reconcile.Unbalanced([]reconcile.Imbalance{{EntryID: "e1", Debit: d("101"), Credit: d("100")}, {EntryID: "e1", Currency: "EUR"}})
	if len(u) != 1 || u[0].Code != reconcile.EntryUnbalanced || u[0].EntityIDs[0] != "e1" {
		t.Errorf("unbalanced: %v, want one finding about e1", u)
	}
	a, totals := reconcile.CompareAllocations([]reconcile.Allocation{
		{LineID: "l1", Amount: d("1250"), Currency: "USD", Allocated: d("1250")},
		{LineID: "l2", Amount: d("1300"), Currency: "USD", Allocated: d("1250")}})
	if len(a) != 1 || a[0].EntityIDs[0] != "l2" || a[0].Code != reconcile.AllocationDiffers {
		t.Errorf("allocations: %v, want l2 only", a)
	}
	if got := totals.List(); len(got) != 3 || got[0].Name != "supplier.allocated_amount" || got[0].Value.String() != "2500" {
		t.Errorf("totals %v", got)
	}
	ev := reconcile.Unconsumed([]reconcile.Event{{ID: "ev1", Producer: "timeexpense", Consumers: []string{"billing", "resource"}}},
		map[string]map[string]bool{"resource": {"ev1": true}})
	if len(ev) != 1 || ev[0].Consumer != "billing" || ev[0].EntityIDs[0] != "ev1" {
		t.Errorf("unconsumed: %v, want ev1 missed by billing", ev)
	}
	if k1, k2 := ev[0].Key(), (reconcile.Finding{Check: "events", Code: reconcile.EventNotConsumed, EntityIDs: []string{"ev1"}, Consumer: "resource"}).Key(); k1 == k2 {
		t.Errorf("two consumers missing one event share a key %q", k1)
	}
	run := reconcile.Run{Findings: ev}
	run.Settle()
	if run.Status != reconcile.Drift || run.FindingCount != 1 {
		t.Errorf("settled %v %d, want DRIFT 1", run.Status, run.FindingCount)
	}
}
