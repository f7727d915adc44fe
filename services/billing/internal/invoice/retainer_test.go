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
