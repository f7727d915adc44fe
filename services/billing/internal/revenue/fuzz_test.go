package revenue

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// FuzzStraightLine checks the schedule's invariants on any price, currency and service period:
// parts sum to the price, none is negative, each is in the currency's minor unit.
func FuzzStraightLine(f *testing.F) {
	f.Add(int64(1000000), "USD", 0, 91)
	f.Add(int64(1), "JPY", 30, 3000)
	f.Add(int64(6), "USD", 0, 365)
	f.Add(int64(12345), "BHD", 59, 0)
	f.Fuzz(func(t *testing.T, minor int64, cur string, offset, length int) {
		exp, ok := money.Exponent(cur)
		if !ok || minor < 0 || offset < 0 || offset > 20000 || length < 0 || length > 20000 {
			t.Skip()
		}
		price := money.Amount{Value: decimal.New(minor, -exp), Currency: cur}
		start := civil.Date{Year: 2020, Month: 1, Day: 1}.AddDays(offset)
		parts, err := StraightLine(price, start, start.AddDays(length))
		if err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		for _, p := range parts {
			if p.Amount.Value.IsNegative() || !p.Amount.Round().Value.Equal(p.Amount.Value) || p.Amount.Currency != cur {
				t.Fatalf("part %+v of %s", p, price)
			}
			sum = sum.Add(p.Amount.Value)
		}
		if !sum.Equal(price.Value) {
			t.Fatalf("parts of %s sum to %s", price, sum)
		}
	})
}
