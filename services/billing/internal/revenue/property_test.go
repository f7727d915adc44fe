package revenue

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

func cents(r *rand.Rand, max int64) money.Amount {
	return money.Amount{Value: decimal.New(r.Int64N(max), -2), Currency: "USD"}
}

// Straight-line parts always sum to the price exactly, none is negative, and the days add up.
func TestPropertyStraightLineSumsToPrice(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	base := civil.Date{Year: 2024, Month: 1, Day: 1}
	for i := 0; i < 3000; i++ {
		price := cents(r, 100_000_000)
		if i%5 == 0 {
			price = cents(r, 50) // tiny prices over long periods
		}
		start := base.AddDays(r.IntN(1500))
		end := start.AddDays(r.IntN(1200))
		parts, err := StraightLine(price, start, end)
		if err != nil {
			t.Fatal(err)
		}
		sum, daysSum := decimal.Zero, 0
		for _, p := range parts {
			if p.Amount.Value.IsNegative() {
				t.Fatalf("%s over %s..%s: negative part %+v", price, start, end, p)
			}
			sum = sum.Add(p.Amount.Value)
			daysSum += p.Days
		}
		if !sum.Equal(price.Value) || daysSum != days(start, end) {
			t.Fatalf("%s over %s..%s: parts sum to %s over %d days", price, start, end, sum, daysSum)
		}
	}
}

// Percent-complete recognized to date never exceeds the price nor falls below zero, whatever
// the sequence of costs and estimates; the period entries sum to the recognized to date.
func TestPropertyPercentCompleteWithinPrice(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2))
	for i := 0; i < 500; i++ {
		price := cents(r, 100_000_000)
		before, posted := money.Zero("USD"), decimal.Zero
		cost := money.Zero("USD")
		for period := 0; period < 12; period++ {
			cost.Value = cost.Value.Add(cents(r, 5_000_000).Value)
			est := money.Amount{Value: cost.Value.Add(cents(r, 20_000_000).Value), Currency: "USD"}
			if r.IntN(4) == 0 { // an estimate below costs (overrun not yet re-estimated)
				est = money.Amount{Value: cost.Value.Div(decimal.NewFromInt(2)).Add(decimal.New(1, -2)), Currency: "USD"}
			}
			rec, _, err := PercentComplete(Progress{Price: price, CostToDate: cost, EstimatedTotalCost: est, RecognizedBefore: before})
			if err != nil {
				t.Fatal(err)
			}
			if rec.ToDate.Value.GreaterThan(price.Value) || rec.ToDate.Value.IsNegative() {
				t.Fatalf("price %s: recognized to date %s", price, rec.ToDate)
			}
			posted = posted.Add(rec.Period.Value)
			if !posted.Equal(rec.ToDate.Value) {
				t.Fatalf("period entries sum to %s, to date %s", posted, rec.ToDate)
			}
			before = rec.ToDate
		}
	}
}
