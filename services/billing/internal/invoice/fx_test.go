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

// A foreign retainer's advance of 1,000.00 EUR posted at 1.1111 (1,111.10 USD) drawn in three
// invoices at 1.20 (333.33, 333.33, 333.34 EUR): the applied lines debit 1200 at the advance's
// carrying rate, 370.36, 370.36 and the rest, 370.38, so exactly 1,111.10 is relieved. The first
// drawdown invoice (with 333.33 EUR of time carrying 373.33) posts Cr 1200 373.33 / Dr 1200 370.36
// / Dr 5900 2.97 (receivable 0.00: a 26.67 gain on the time, 400.00 − 373.33, and a 29.64 loss
// on the applied line, 400.00 − 370.36, netted). A credit note of its applied line by 111.11 EUR
// puts back 123.45 (pro rata of 370.36), the rest 246.91. A USD invoice of 400.00 of time and
// −333.33 applied is untouched: no WIP on its applied part, Dr 1100 66.67 / Cr 1200 66.67 as before.
func TestRetainerAppliedRelievesTheAdvanceAtItsCarryingRate(t *testing.T) {
	advances := map[string]Carrying{"L1": {Quantity: d("1000.00"), Amount: d("1000.00"), WIP: d("1111.10")}}
	draw := func(id, amt string) Invoice {
		item := RetainerAppliedItem(id)
		return Invoice{ID: id, Kind: KindInvoice, Currency: "EUR", Lines: []Line{
			{No: 1, ProjectID: "P", LineKey: "L1", CandidateID: "c" + id, Quantity: d("1"), Amount: eur(amt),
				Parts: []Part{{CandidateID: "c" + id, Quantity: d("1"), Amount: eur(amt)}}},
			{No: 2, ProjectID: "P", LineKey: "L1", Item: item, Quantity: d("1"), Amount: eur("-" + amt),
				Parts: []Part{{Item: item, Quantity: d("1"), Amount: eur("-" + amt)}}}}}
	}
	var got []string
	var first Invoice
	for i, amt := range []string{"333.33", "333.33", "333.34"} {
		inv := draw(string(rune('A'+i)), amt)
		SetWIP(&inv, "USD", map[string]Carrying{"c" + inv.ID: {Quantity: d("1"), Amount: d(amt), WIP: d("373.33")}})
		SetRetainerWIP(&inv, "USD", d("1.20"), advances, nil)
		got = append(got, inv.Lines[1].Parts[0].WIP.StringFixed(2))
		if i == 0 {
			first = inv
		}
	}
	if want := []string{"-370.36", "-370.36", "-370.38"}; !slices.Equal(got, want) || !advances["L1"].TakenWIP.Equal(d("1111.10")) {
		t.Fatalf("applied WIP %v (taken %s), want %v (1111.10)", got, advances["L1"].TakenWIP, want)
	}
	e := Entry(first, "E", "USD", d("1.20"))
	if want := []string{"Cr 1200 373.33", "Dr 1200 370.36", "Dr 5900 2.97"}; !e.Balanced() || !slices.Equal(describe(e), want) {
		t.Fatalf("first drawdown entry %v, want %v", describe(e), want)
	}

	item := RetainerAppliedItem("A")
	cn := Invoice{ID: "CN", Kind: KindCreditNote, Currency: "EUR", Lines: []Line{{No: 1, ProjectID: "P", LineKey: "L1", Item: item,
		Quantity: d("-0.3333"), Amount: eur("111.11"), Parts: []Part{{Item: item, Quantity: d("-0.3333"), Amount: eur("111.11")}}}}}
	carrying := map[string]Carrying{"item:" + item: {Quantity: d("1"), Amount: d("333.33"), WIP: d("370.36")}}
	SetRetainerWIP(&cn, "USD", d("1.20"), nil, carrying)
	rest := cn
	rest.Lines = []Line{{No: 1, ProjectID: "P", LineKey: "L1", Item: item, Quantity: d("-0.6667"), Amount: eur("222.22"),
		Parts: []Part{{Item: item, Quantity: d("-0.6667"), Amount: eur("222.22")}}}}
	SetRetainerWIP(&rest, "USD", d("1.20"), nil, carrying)
	if a, b := cn.Lines[0].Parts[0].WIP.StringFixed(2), rest.Lines[0].Parts[0].WIP.StringFixed(2); a != "123.45" || b != "246.91" {
		t.Fatalf("credited applied WIP %s then %s, want 123.45 then 246.91", a, b)
	}

	same := draw("S", "333.33")
	same.Currency = "USD"
	for i := range same.Lines {
		same.Lines[i].Amount.Currency, same.Lines[i].Parts[0].Amount.Currency = "USD", "USD"
	}
	same.Lines[0].Amount.Value, same.Lines[0].Parts[0].Amount.Value = d("400.00"), d("400.00")
	SetWIP(&same, "USD", nil)
	SetRetainerWIP(&same, "USD", d("1"), map[string]Carrying{"L1": {Amount: d("1000.00"), WIP: d("999.00")}}, nil)
	if w := same.Lines[1].Parts[0].WIP; !w.IsZero() {
		t.Fatalf("same-currency applied part got WIP %s, want none", w)
	}
	if want := []string{"Dr 1100 66.67", "Cr 1200 66.67"}; !slices.Equal(describe(Entry(same, "E", "USD", d("1"))), want) {
		t.Fatalf("same-currency drawdown entry %v, want %v", describe(Entry(same, "E", "USD", d("1"))), want)
	}
}
