package suppliercost

import (
	"sort"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// ErrNoBasis is returned when the weights of a split sum to zero (no approved hours, no labor
// cost in the service period): there is nothing to split by.
var ErrNoBasis = fault.New(fault.FailedPrecondition, "ALLOCATION_BASIS_EMPTY", "the allocation basis is zero")

// Split divides total among weights (non-negative, not all zero) to the currency's minor unit
// with the largest-remainder method: each part gets the floor of its exact quota, and the minor
// units left go one each to the parts with the largest remainders (the earlier part on a tie).
// The parts always sum to total exactly; a negative total splits like its absolute value.
func Split(total money.Amount, weights []decimal.Decimal) ([]money.Amount, error) {
	exp, ok := money.Exponent(total.Currency)
	if !ok {
		return nil, ErrUnknownCurrency.With("unknown currency " + total.Currency)
	}
	sum := decimal.Zero
	for _, w := range weights {
		if w.IsNegative() {
			return nil, ErrNoBasis.With("negative allocation weight")
		}
		sum = sum.Add(w)
	}
	if len(weights) == 0 || sum.IsZero() {
		return nil, ErrNoBasis
	}
	units := total.Value.Shift(exp)
	if !units.Equal(units.Truncate(0)) {
		return nil, ErrAmountPrecision.With("amount has more decimals than " + total.Currency + " allows")
	}
	neg := units.IsNegative()
	units = units.Abs()
	parts := make([]decimal.Decimal, len(weights))
	rems := make([]decimal.Decimal, len(weights))
	left := units
	for i, w := range weights {
		// Exact: quota = units·w / sum = q + r/sum with 0 ≤ r < sum.
		q, r := units.Mul(w).QuoRem(sum, 0)
		parts[i], rems[i] = q, r
		left = left.Sub(q)
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].GreaterThan(rems[order[b]]) })
	for k := 0; left.IsPositive(); k++ {
		i := order[k%len(order)]
		parts[i] = parts[i].Add(decimal.NewFromInt(1))
		left = left.Sub(decimal.NewFromInt(1))
	}
	out := make([]money.Amount, len(parts))
	for i, p := range parts {
		if neg {
			p = p.Neg()
		}
		out[i] = money.Amount{Value: p.Shift(-exp), Currency: total.Currency}
	}
	return out, nil
}
