package invoice

import (
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

var d = decimal.RequireFromString

func eur(s string) money.Amount { return money.Amount{Value: d(s), Currency: "EUR"} }

// A candidate of 1,000.00 EUR carrying 1,111.10 USD billed in three parts (333.33, 333.33,
// 333.34): the first two relieve 370.36 each (pro rata, rounded), the last the rest, 370.38, so
// exactly 1,111.10 is relieved (pro rata alone would give 370.37 and leave a cent).
func TestCarryingTakeRelievesExactlyTheCarryingAmount(t *testing.T) {
	c := Carrying{Quantity: d("10"), Amount: d("1000.00"), WIP: d("1111.10")}
	var got []string
	for _, p := range [][2]string{{"3.3333", "333.33"}, {"3.3333", "333.33"}, {"3.3334", "333.34"}} {
		var w decimal.Decimal
		w, c = c.Take(d(p[0]), d(p[1]), "USD")
		got = append(got, w.StringFixed(2))
	}
	if want := []string{"370.36", "370.36", "370.38"}; !slices.Equal(got, want) || !c.TakenWIP.Equal(d("1111.10")) {
		t.Fatalf("relief %v (total %s), want %v (1111.10)", got, c.TakenWIP, want)
	}
}

// An EUR invoice of a USD entity at 1.20 with a time line (400.00 EUR, carrying 440.00 USD), a
// milestone line (500.00 EUR: no candidate, credited to WIP at the issue rate, 600.00) and 19 %
// tax (171.00 EUR → 205.20): Dr 1100 1,285.20 / Cr 1200 440.00 + 600.00 / Cr 4900 40.00 / Cr
// 2200 205.20. Its credit note at the same rate swaps every line (4900 debited back).
func TestForeignEntryReliefAtCarryingFeesAndTaxAtTheIssueRate(t *testing.T) {
	inv := Invoice{ID: "I", Kind: KindInvoice, Currency: "EUR", Lines: []Line{
		{No: 1, ProjectID: "P", CandidateID: "c1", Quantity: d("4"), Amount: eur("400.00"), Tax: eur("76.00"),
			Parts: []Part{{CandidateID: "c1", Quantity: d("4"), Amount: eur("400.00")}}},
		{No: 2, ProjectID: "P", Item: "milestone:M1", Quantity: d("1"), Amount: eur("500.00"), Tax: eur("95.00"),
			Parts: []Part{{Item: "milestone:M1", Quantity: d("1"), Amount: eur("500.00")}}},
	}}
	SetWIP(&inv, "USD", map[string]Carrying{"c1": {Quantity: d("10"), Amount: d("1000.00"), WIP: d("1100.00"),
		TakenQty: d("6"), TakenAmt: d("600.00"), TakenWIP: d("660.00")}})
	e := Entry(inv, "E", "USD", d("1.20"))
	if !e.Balanced() {
		t.Fatalf("entry does not balance: %+v", e.Lines)
	}
	want := []string{"Dr 1100 1080.00", "Cr 1200 600.00", "Cr 1200 440.00", "Cr 4900 40.00", "Dr 1100 205.20", "Cr 2200 205.20"}
	if got := describe(e); !slices.Equal(got, want) {
		t.Fatalf("entry %v, want %v", got, want)
	}
	cn := inv
	cn.Kind, cn.Lines = KindCreditNote, nil
	for _, l := range inv.Lines {
		l.Amount.Value, l.Tax.Value, l.Quantity = l.Amount.Value.Neg(), l.Tax.Value.Neg(), l.Quantity.Neg()
		l.Parts = []Part{{CandidateID: l.Parts[0].CandidateID, Item: l.Parts[0].Item, Quantity: l.Quantity, Amount: l.Amount}}
		cn.Lines = append(cn.Lines, l)
	}
	SetWIP(&cn, "USD", map[string]Carrying{"c1": {Quantity: d("4"), Amount: d("400.00"), WIP: d("440.00")}})
	want = []string{"Cr 1100 1080.00", "Dr 1200 600.00", "Dr 1200 440.00", "Dr 4900 40.00", "Cr 1100 205.20", "Dr 2200 205.20"}
	if got := describe(Entry(cn, "E2", "USD", d("1.20"))); !slices.Equal(got, want) {
		t.Fatalf("credit note entry %v, want %v", got, want)
	}
}

func describe(e ledger.Entry) []string {
	var out []string
	for _, l := range e.Lines {
		if l.Debit.IsPositive() {
			out = append(out, "Dr "+l.Account+" "+l.Debit.StringFixed(2))
		}
		if l.Credit.IsPositive() {
			out = append(out, "Cr "+l.Account+" "+l.Credit.StringFixed(2))
		}
	}
	return out
}
