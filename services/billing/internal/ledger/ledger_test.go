package ledger

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func usd(s string) money.Amount  { return money.Amount{Value: d(s), Currency: "USD"} }
func day(s string) civil.Date {
	x, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return x
}

// book is one USD legal entity, one project on a T&M line (bill rate 50.00 for CONSULTANT, 90.00
// for ARCHITECT, expense markup 10 %), a billable and a non-billable task, and resources costing
// 20.00/h (consultant) and 70.00/h (architect).
func book(closed ...string) Book {
	markup := d("10")
	n := 0
	b := Book{
		Projects: map[string]Project{"P": {ID: "P", LegalEntityID: "LE", ContractID: "C",
			Tasks: map[string]Task{"T-BILL": {Billable: true, LineKey: "L1"}, "T-PM": {Billable: false, LineKey: "L1"}}}},
		Entities: map[string]LegalEntity{"LE": {ID: "LE", FunctionalCurrency: "USD", Closed: map[string]bool{}}},
		Lines: map[string]ContractLine{"C/L1": {ContractID: "C", Key: "L1", Currency: "USD", TimeAndMat: true, AsDelivered: true,
			ExpenseMarkup: &markup, Rates: contract.RateCard{{Role: "CONSULTANT", Rate: usd("50.00"), From: day("2026-01-01")},
				{Role: "ARCHITECT", Rate: usd("90.00"), From: day("2026-01-01")}}}},
		CostRates: map[string][]CostRate{"R-CONS": {{Rate: usd("20.00"), From: day("2026-01-01")}},
			"R-ARCH": {{Rate: usd("70.00"), From: day("2026-01-01")}}},
		Roles:        map[string]string{"R-CONS": "CONSULTANT", "R-ARCH": "ARCHITECT"},
		NewID:        func() string { n++; return fmt.Sprint("id", n) },
		PostedBefore: map[string]Prior{},
	}
	for _, p := range closed {
		b.Entities["LE"].Closed[p] = true
	}
	return b
}

func timeEntry(id, resource, task, hours string, billable bool) Source {
	return Source{Type: SourceTime, ID: id, Version: 1, ResourceID: resource, ProjectID: "P", TaskID: task,
		Date: day("2026-06-10"), Hours: d(hours), Billable: billable}
}

// amounts returns the entry's debits per account (credits negative).
func amounts(e *Entry) map[string]string {
	out := map[string]string{}
	for _, l := range e.Lines {
		v := d("0")
		if prev, ok := out[l.Account]; ok {
			v = d(prev)
		}
		out[l.Account] = v.Add(l.Debit).Sub(l.Credit).StringFixed(2)
	}
	return out
}

func TestBillableTimeBooksCostAndWIP(t *testing.T) {
	// 2 h × cost 20.00 = labor cost 40.00; 2 h × bill rate 50.00 = WIP 100.00.
	r := book().Post(timeEntry("E1", "R-CONS", "T-BILL", "2", true))
	if r.Outcome != Posted || !r.Entry.Balanced() {
		t.Fatalf("outcome %s balanced %v", r.Outcome, r.Entry.Balanced())
	}
	want := map[string]string{LaborCost: "40.00", LaborCostClearing: "-40.00", UnbilledReceivables: "100.00", ServiceRevenue: "-100.00"}
	if got := amounts(r.Entry); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines = %v, want %v", got, want)
	}
	if !r.Candidate.Amount.Equal(usd("100.00")) || !r.Candidate.Quantity.Equal(d("2")) || !r.Candidate.UnitPrice.Value.Equal(d("50")) {
		t.Fatalf("candidate = %+v", r.Candidate)
	}
	if !r.Cost.Equal(usd("40.00")) || !r.Revenue.Equal(usd("100.00")) {
		t.Fatalf("cost %s revenue %s", r.Cost, r.Revenue)
	}
}

func TestWIPIsHoursTimesBillRateRoundedOnce(t *testing.T) {
	// 10.5 h × 90.00 = 945.00 (and 10.5 h × cost 70.00 = 735.00).
	r := book().Post(timeEntry("E2", "R-ARCH", "T-BILL", "10.5", true))
	if got := amounts(r.Entry); got[UnbilledReceivables] != "945.00" || got[LaborCost] != "735.00" {
		t.Fatalf("lines = %v", got)
	}
	if !r.Candidate.Amount.Equal(usd("945.00")) {
		t.Fatalf("candidate %s", r.Candidate.Amount)
	}
}

func TestNonBillableTimePostsCostOnly(t *testing.T) {
	for _, e := range []Source{timeEntry("E3", "R-CONS", "T-PM", "3", false), timeEntry("E4", "R-CONS", "T-PM", "3", true),
		timeEntry("E5", "R-CONS", "T-BILL", "3", false)} {
		r := book().Post(e)
		want := map[string]string{LaborCost: "60.00", LaborCostClearing: "-60.00"}
		if got := amounts(r.Entry); fmt.Sprint(got) != fmt.Sprint(want) || r.Candidate != nil {
			t.Errorf("%s: lines %v candidate %v, want cost only", e.ID, got, r.Candidate)
		}
	}
}

func TestBillableExpenseWithMarkup(t *testing.T) {
	// 120.00 expense, billable, contract markup 10 % → candidate 132.00.
	e := Source{Type: SourceExpense, ID: "X1", Version: 1, ResourceID: "R-CONS", ProjectID: "P", TaskID: "T-BILL",
		Date: day("2026-06-11"), Amount: usd("120.00"), Billable: true}
	r := book().Post(e)
	want := map[string]string{ExpenseCost: "120.00", ReimbursementsPayable: "-120.00", UnbilledReceivables: "132.00", ReimbursableExpenseSales: "-132.00"}
	if got := amounts(r.Entry); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines = %v, want %v", got, want)
	}
	if !r.Candidate.Amount.Equal(usd("132.00")) || !r.Candidate.Markup.Equal(d("10")) {
		t.Fatalf("candidate %+v", r.Candidate)
	}
}

func TestForeignExpenseKeepsRateAndRateDate(t *testing.T) {
	b := book()
	b.FX = func(from, to string, on civil.Date) (decimal.Decimal, bool) {
		return d("1.10"), from == "EUR" && to == "USD" && on == day("2026-06-11")
	}
	e := Source{Type: SourceExpense, ID: "X2", Version: 1, ResourceID: "R-CONS", ProjectID: "P", TaskID: "T-PM",
		Date: day("2026-06-11"), Amount: money.Amount{Value: d("100.00"), Currency: "EUR"}}
	r := b.Post(e)
	if r.Outcome != Posted {
		t.Fatalf("outcome %s %s", r.Outcome, r.Reason)
	}
	l := r.Entry.Lines[0]
	if !l.Debit.Equal(d("110.00")) || l.TxnAmount.Currency != "EUR" || !l.TxnAmount.Value.Equal(d("100")) || !l.FXRate.Equal(d("1.10")) || l.RateDate != day("2026-06-11") {
		t.Fatalf("line %+v", l)
	}
	e.Date = day("2026-06-12")
	if r := b.Post(e); r.Outcome != Parked || r.Reason != ReasonFXMissing {
		t.Fatalf("no rate for the date: %s %s", r.Outcome, r.Reason)
	}
}

func TestClosedPeriodPolicies(t *testing.T) {
	e := timeEntry("E6", "R-CONS", "T-BILL", "1", true)
	if r := book("2026-06").Post(e); r.Outcome != RejectedClosedPeriod || r.Entry != nil {
		t.Fatalf("REJECT policy: %s", r.Outcome)
	}
	b := book("2026-06", "2026-07")
	le := b.Entities["LE"]
	le.RollForward = true
	b.Entities["LE"] = le
	r := b.Post(e)
	if r.Outcome != Posted || r.Entry.PostingDate != day("2026-08-01") || r.Entry.SourceDate != day("2026-06-10") {
		t.Fatalf("ROLL_FORWARD: %s posted %v source %v", r.Outcome, r.Entry.PostingDate, r.Entry.SourceDate)
	}
}

func TestMissingRatesPark(t *testing.T) {
	b := book()
	e := timeEntry("E7", "R-NEW", "T-BILL", "1", true)
	if r := b.Post(e); r.Outcome != Parked || r.Reason != ReasonRateMissing || r.Missing.Kind != "cost_rate" || r.Missing.Key != "R-NEW" {
		t.Fatalf("no cost rate: %+v", r)
	}
	b.CostRates["R-NEW"] = []CostRate{{Rate: usd("30"), From: day("2026-01-01")}}
	b.Roles["R-NEW"] = "DESIGNER"
	if r := b.Post(e); r.Outcome != Parked || r.Missing.Kind != "bill_rate" || r.Missing.Key != "C/L1/DESIGNER" {
		t.Fatalf("no bill rate: %+v", r)
	}
	e.ProjectID = "UNKNOWN"
	if r := b.Post(e); r.Outcome != Parked || r.Reason != ReasonProjectUnknown {
		t.Fatalf("unknown project: %+v", r)
	}
}

func TestReversalSwapsTheOriginalLines(t *testing.T) {
	b := book()
	orig := b.Post(timeEntry("E8", "R-CONS", "T-BILL", "2", true))
	b.PostedBefore["E8"] = Prior{Outcome: Posted, Entry: orig.Entry}
	rev := timeEntry("E8-R", "R-CONS", "T-BILL", "-2", true)
	rev.ReversesID = "E8"
	r := b.Post(rev)
	if r.Outcome != Reversed || r.Entry.ReversesID != orig.Entry.ID || !r.Entry.Balanced() {
		t.Fatalf("reversal %+v", r)
	}
	want := map[string]string{LaborCost: "-40.00", LaborCostClearing: "40.00", UnbilledReceivables: "-100.00", ServiceRevenue: "100.00"}
	if got := amounts(r.Entry); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines %v want %v", got, want)
	}
	if !r.Cost.Equal(usd("-40.00")) || !r.Revenue.Equal(usd("-100.00")) || !r.BillableHrs.Equal(d("-2")) {
		t.Fatalf("cost %s revenue %s hours %s", r.Cost, r.Revenue, r.BillableHrs)
	}
	// A reversal in a closed period rolls forward even under REJECT: it cannot be refused.
	b.Entities["LE"].Closed["2026-06"] = true
	if r := b.Post(rev); r.Entry.PostingDate != day("2026-07-01") {
		t.Fatalf("reversal in a closed period posted on %v", r.Entry.PostingDate)
	}
	rev2 := timeEntry("E9-R", "R-CONS", "T-BILL", "-2", true)
	rev2.ReversesID = "E9"
	if r := book().Post(rev2); r.Outcome != Reversed || r.Entry != nil {
		t.Fatalf("reversing an unposted entry only cancels it: %+v", r)
	}
}
