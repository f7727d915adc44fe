package invoice

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/services/billing/internal/contract"
)

// The balance is the advance less earlier applied lines (a voided draft's are not in billed);
// the drawdown stops at it, and T&M of other lines is never drawn.
func TestRetainerDrawdownStopsAtTheBalance(t *testing.T) {
	terms := contract.Terms{Currency: "USD", Lines: []contract.Line{{Key: "R", Billing: contract.Retainer, Amount: usd("5000.00")},
		{Key: "T", Billing: contract.TimeAndMaterials}}}
	billed := map[string]ItemBilled{"R\x00" + RetainerAdvanceItem: {Net: decimal.RequireFromString("5000.00"), Live: 1},
		"R\x00" + RetainerAppliedItem("inv-1"): {Net: decimal.RequireFromString("-4200.00"), Live: 1}}
	lines := []Line{{No: 1, LineKey: "R", Amount: usd("1000.00")}, {No: 2, LineKey: "T", Amount: usd("500.00")}}
	out, applied := RetainerDrawdown(terms, lines, billed, "inv-2", "p")
	if len(out) != 3 || applied.Value.StringFixed(2) != "-800.00" || out[2].Item != RetainerAppliedItem("inv-2") || out[2].No != 3 ||
		out[2].Parts[0].Amount.Value.StringFixed(2) != "-800.00" {
		t.Fatalf("applied %s, lines %+v; want one applied line of -800.00", applied, out)
	}
	delete(billed, "R\x00"+RetainerAppliedItem("inv-1")) // its invoice was voided
	if _, applied := RetainerDrawdown(terms, lines, billed, "inv-3", "p"); applied.Value.StringFixed(2) != "-1000.00" {
		t.Fatalf("applied %s after the void, want -1000.00", applied)
	}
	billed["R\x00"+RetainerAppliedItem("inv-1")] = ItemBilled{Net: decimal.RequireFromString("-5000.00")}
	if out, applied := RetainerDrawdown(terms, lines, billed, "inv-4", "p"); len(out) != 2 || !applied.Value.IsZero() {
		t.Fatalf("exhausted retainer drew %s", applied)
	}
}

// An invoice that drew 30 h × 100.00 = 3,000.00 down against a retainer (net 0.00): crediting 10 h
// credits 1,000.00 of time and gives 1,000.00 back on the applied line (0.3333 of it), net 0.00;
// crediting the other 20 h later gives back the last 2,000.00 (the rest of its quantity, 0.6667);
// crediting the applied line alone would raise the invoice and is refused. On an invoice of
// 3,500.00 of time drawing 3,000.00, crediting 5 h credits the billed 500.00 only.
func TestCreditGivesTheDrawdownOfCreditedTimeBack(t *testing.T) {
	applied := RetainerAppliedItem("inv")
	one := decimal.NewFromInt(1)
	inv := Invoice{ID: "inv", Number: "US01-2026-000002", Currency: "USD", Lines: []Line{
		{No: 1, LineKey: "R", CandidateID: "c1", Quantity: decimal.NewFromInt(30), UnitPrice: usd("100.00"), Amount: usd("3000.00"),
			Parts: []Part{{CandidateID: "c1", Quantity: decimal.NewFromInt(30), Amount: usd("3000.00")}}},
		{No: 2, LineKey: "R", Item: applied, Quantity: one, UnitPrice: usd("-3000.00"), Amount: usd("-3000.00"),
			Parts: []Part{{Item: applied, Quantity: one, Amount: usd("-3000.00")}}}}}
	lines, total, err := Credit(inv, nil, []CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(10)}})
	if err != nil || !total.Value.IsZero() || len(lines) != 2 || lines[0].Amount.String() != "-1000.00 USD" ||
		lines[1].Amount.String() != "1000.00 USD" || lines[1].Item != applied || lines[1].Quantity.String() != "-0.3333" {
		t.Fatalf("credit of 10 h: %v %s %+v; want -1000.00 of time, +1000.00 applied (-0.3333), net 0.00", err, total, lines)
	}
	credited := map[string][2]decimal.Decimal{"c1": {decimal.NewFromInt(10), decimal.RequireFromString("1000")},
		"item:" + applied: {decimal.RequireFromString("0.3333"), decimal.RequireFromString("-1000")}}
	lines, total, err = Credit(inv, credited, []CreditRequest{{LineNo: 1}})
	if err != nil || !total.Value.IsZero() || len(lines) != 2 || lines[1].Amount.String() != "2000.00 USD" || lines[1].Quantity.String() != "-0.6667" {
		t.Fatalf("credit of the other 20 h: %v %s %+v; want +2000.00 applied for the rest (-0.6667)", err, total, lines)
	}
	if _, _, err := Credit(inv, nil, []CreditRequest{{LineNo: 2}}); err == nil {
		t.Fatal("crediting the applied line alone: accepted, want CREDIT_EXCEEDS_INVOICED")
	}
	inv.Lines[0].Quantity, inv.Lines[0].Amount = decimal.NewFromInt(35), usd("3500.00")
	inv.Lines[0].Parts[0].Quantity, inv.Lines[0].Parts[0].Amount = decimal.NewFromInt(35), usd("3500.00")
	lines, total, err = Credit(inv, nil, []CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(5)}})
	if err != nil || total.String() != "-500.00 USD" || len(lines) != 1 {
		t.Fatalf("credit of 5 h of a partly billed drawdown: %v %s %+v; want -500.00 of time only", err, total, lines)
	}
}
