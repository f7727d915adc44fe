package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// openSupplierCandidates is the amount of the open supplier-cost candidate of each project.
func (e env) openSupplierCandidates() map[string]string {
	e.T.Helper()
	rows, err := e.DB.Pool.Query(e.Ctx, `SELECT project_id::text, amount::text, unit_price::text, quantity::text FROM invoice_candidates
		WHERE source_type = $1 AND status = 'OPEN'`, suppliercost.SourceCost)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var p, amount, price, qty string
		if err := rows.Scan(&p, &amount, &price, &qty); err != nil {
			e.T.Fatal(err)
		}
		if _, dup := out[p]; dup {
			e.T.Errorf("two open candidates on %s", p)
		}
		if !decimal.RequireFromString(qty).Equal(decimal.NewFromInt(1)) {
			e.T.Errorf("candidate on %s has quantity %s, want 1", p, qty)
		}
		out[p] = amount + " at " + price
	}
	return out
}

// lineBalance is the balance (debit side positive for 1200, credit side for 4100) the entries of
// a supplier line leave on an account.
func (e env) lineBalance(lineID, account string) string {
	sign := "debit - credit"
	if account == ledger.ReimbursableExpenseSales {
		sign = "credit - debit"
	}
	return billingtest.Scalar[string](e.Env, `SELECT COALESCE(sum(`+sign+`), 0)::numeric(18,2)::text FROM journal_lines l
		JOIN journal_entries j ON j.id = l.entry_id WHERE l.account_code = $1 AND j.source_id = $2`, account, lineID)
}

func (e env) wantCandidates(want map[string]string) {
	e.T.Helper()
	got := e.openSupplierCandidates()
	if len(got) != len(want) {
		e.T.Errorf("open supplier candidates = %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			e.T.Errorf("candidate on %s = %q, want %q", p, got[p], w)
		}
	}
}

// A billable 1,000.00 split 10/20/30 h on the fixture's contract (10 % expense markup): parts
// 166.67/333.33/500.00 become candidates of 183.34/366.66/550.00 (each part × 1.10, rounded half
// away from zero per part, as expense candidates are), WIP Dr 1200 / Cr 4100 1,100.00. Posted once
// however often asked. Hours on P2 going 20 → 30 re-split to 142.86/428.57/428.57: the old
// candidates are reversed, new ones 157.15/471.43/471.43 (1,100.01: per-part rounding), WIP
// and revenue follow, the ledger stays balanced.
func TestBillableSupplierLineBecomesCandidatesWithMarkup(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.work(map[string]string{p1: "10", p2: "20", p3: "30"})
	e.rule("by-hours", suppliercost.ByHours, p1, p2, p3)
	passThrough := func(lineID string) (wip, sales string) {
		return e.lineBalance(lineID, ledger.UnbilledReceivables), e.lineBalance(lineID, ledger.ReimbursableExpenseSales)
	}

	b := bill(billingtest.USD("1000.00"), "by-hours")
	b.Billable = true
	l, _ := e.record(b)
	for i := 0; i < 3; i++ {
		e.allocate(l)
	}
	e.wantCosts(map[string]string{p1: "166.67", p2: "333.33", p3: "500.00"})
	e.wantCandidates(map[string]string{p1: "183.34 at 166.67", p2: "366.66 at 333.33", p3: "550.00 at 500.00"})
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM outbox WHERE event_type = $1 AND subject LIKE $2`,
		billingv1.EventTypePostingsRecorded, l.ID+"/%"); n != 1 {
		t.Errorf("postings.recorded events of the line's parts = %d, want 1", n)
	}
	if w, s := passThrough(l.ID); w != "1100.00" || s != "1100.00" {
		t.Errorf("pass-through WIP %s, revenue %s; want 1100.00 both", w, s)
	}
	e.wantBalanced()

	rev := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-R", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(-20), Billable: true, ReversesID: "te-" + p2 + "-20"}
	fix := ledger.Source{Type: ledger.SourceTime, ID: "te-p2-30", Version: 1, ResourceID: billingtest.Consult, ProjectID: p2, TaskID: taskP2,
		Date: billingtest.Day("2026-03-10"), Hours: decimal.NewFromInt(30), Billable: true}
	e.post(rev, fix)
	for i := 0; i < 2; i++ {
		if err := e.UC.AllocateSupplierLines(e.Ctx, []app.AllocationRequest{{LineID: l.ID, Version: l.Version, Reallocate: true}}); err != nil {
			t.Fatal(err)
		}
	}
	e.wantCosts(map[string]string{p1: "142.86", p2: "428.57", p3: "428.57"})
	e.wantCandidates(map[string]string{p1: "157.15 at 142.86", p2: "471.43 at 428.57", p3: "471.43 at 428.57"})
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_candidates WHERE source_type = $1 AND status = 'REVERSED'`,
		suppliercost.SourceCost); n != 3 {
		t.Errorf("reversed supplier candidates = %d, want 3", n)
	}
	if w, s := passThrough(l.ID); w != "1100.01" || s != "1100.01" {
		t.Errorf("pass-through WIP %s, revenue %s after re-allocation; want 1100.01 both", w, s)
	}
	e.wantBalanced()
}

// A line that is not billable posts cost only: no candidate, no WIP.
func TestNonBillableSupplierLineMakesNoCandidate(t *testing.T) {
	e := supplierEnv(t, legalentity.Reject)
	e.rule("direct", suppliercost.Direct, p1)
	l, _ := e.record(bill(billingtest.USD("250.00"), "direct"))
	e.allocate(l)
	e.wantCosts(map[string]string{p1: "250.00"})
	e.wantCandidates(map[string]string{})
	e.wantBalanced()
}
