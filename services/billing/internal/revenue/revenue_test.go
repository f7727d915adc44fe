package revenue

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

func usd(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func date(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func eq(t *testing.T, what string, got, want money.Amount) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func reason(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

func TestPercentCompleteMustShow(t *testing.T) {
	// Period 1: costs 60,000.00 of an estimate of 100,000.00 (60 %), 80,000.00 recognized before.
	r, progress, err := PercentComplete(Progress{Price: usd("200000.00"), CostToDate: usd("60000.00"),
		EstimatedTotalCost: usd("100000.00"), RecognizedBefore: usd("80000.00")})
	if err != nil {
		t.Fatal(err)
	}
	if !progress.Equal(decimal.RequireFromString("0.6")) {
		t.Errorf("progress = %s, want 0.6", progress)
	}
	eq(t, "to date", r.ToDate, usd("120000.00"))
	eq(t, "period", r.Period, usd("40000.00"))

	// Period 2: the estimate is raised to 140,000.00 with costs 70,000.00: progress falls to 50 %.
	r2, progress, err := PercentComplete(Progress{Price: usd("200000.00"), CostToDate: usd("70000.00"),
		EstimatedTotalCost: usd("140000.00"), RecognizedBefore: r.ToDate})
	if err != nil {
		t.Fatal(err)
	}
	if !progress.Equal(decimal.RequireFromString("0.5")) {
		t.Errorf("progress = %s, want 0.5", progress)
	}
	eq(t, "to date", r2.ToDate, usd("100000.00"))
	eq(t, "catch-up", r2.Period, usd("-20000.00"))

	// Re-running period 2 after it was posted recognizes nothing more.
	r3, _, _ := PercentComplete(Progress{Price: usd("200000.00"), CostToDate: usd("70000.00"),
		EstimatedTotalCost: usd("140000.00"), RecognizedBefore: r2.ToDate})
	eq(t, "rerun", r3.Period, usd("0.00"))
}

func TestPercentCompleteBounds(t *testing.T) {
	cases := []struct {
		name               string
		cost, est, before  string
		wantToDate, wantPd string
	}{
		{"costs overrun the estimate: capped at the price", "150.00", "100.00", "900.00", "1000.00", "100.00"},
		{"nothing incurred yet", "0.00", "100.00", "0.00", "0.00", "0.00"},
		{"rounding half-up to the cent", "1.00", "3.00", "0.00", "333.33", "333.33"},
		{"half a cent rounds up", "1.00", "200000.00", "0.00", "0.01", "0.01"},
		{"complete", "100.00", "100.00", "999.99", "1000.00", "0.01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _, err := PercentComplete(Progress{Price: usd("1000.00"), CostToDate: usd(c.cost), EstimatedTotalCost: usd(c.est), RecognizedBefore: usd(c.before)})
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "to date", r.ToDate, usd(c.wantToDate))
			eq(t, "period", r.Period, usd(c.wantPd))
		})
	}
}

func TestPercentCompleteRefusals(t *testing.T) {
	cases := []struct {
		name   string
		p      Progress
		reason string
	}{
		{"no estimate", Progress{Price: usd("1.00"), CostToDate: usd("0"), EstimatedTotalCost: usd("0"), RecognizedBefore: usd("0")}, ReasonNoEstimate},
		{"negative cost", Progress{Price: usd("1.00"), CostToDate: usd("-1"), EstimatedTotalCost: usd("5"), RecognizedBefore: usd("0")}, ReasonNegativeAmount},
		{"currency mismatch", Progress{Price: usd("1.00"), CostToDate: money.Amount{Value: decimal.Zero, Currency: "EUR"}, EstimatedTotalCost: usd("5"), RecognizedBefore: usd("0")}, ReasonCurrencyMismatch},
	}
	for _, c := range cases {
		if _, _, err := PercentComplete(c.p); reason(err) != c.reason {
			t.Errorf("%s: err = %v, want reason %s", c.name, err, c.reason)
		}
	}
}

func TestAsDelivered(t *testing.T) {
	got, err := AsDelivered("USD", []money.Amount{usd("1250.00"), usd("0.125"), usd("99.994")})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "delivered", got, usd("1350.12")) // 1250.00 + 0.13 + 99.99, each line rounded
	if _, err := AsDelivered("USD", []money.Amount{{Value: decimal.NewFromInt(1), Currency: "EUR"}}); reason(err) != ReasonCurrencyMismatch {
		t.Errorf("mixed currency: err = %v", err)
	}
	empty, _ := AsDelivered("USD", nil)
	eq(t, "nothing delivered", empty, usd("0"))
}

func TestMilestones(t *testing.T) {
	ms := []Milestone{{Amount: usd("3000.00"), Completed: true}, {Amount: usd("7000.00")}}
	r, err := Milestones(usd("10000.00"), ms, usd("0"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "on first completion", r.Period, usd("3000.00"))
	ms[1].Completed = true
	r, _ = Milestones(usd("10000.00"), ms, r.ToDate)
	eq(t, "on second completion", r.Period, usd("7000.00"))
	eq(t, "to date", r.ToDate, usd("10000.00"))
	r, _ = Milestones(usd("10000.00"), ms, r.ToDate)
	eq(t, "nothing new completed", r.Period, usd("0"))
	if _, err := Milestones(usd("1.00"), []Milestone{{Amount: money.Amount{Value: decimal.NewFromInt(1), Currency: "EUR"}}}, usd("0")); reason(err) != ReasonCurrencyMismatch {
		t.Errorf("mixed currency: err = %v", err)
	}
}
