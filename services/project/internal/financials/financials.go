// Package financials prices staffing plans at the contract's bill rates and sums a project's
// economics: budget, planned cost, forecast revenue and margin, and actuals. No I/O here.
package financials

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// BillRate is a rate card entry of a contract line.
type BillRate struct {
	Role     string
	Rate     decimal.Decimal
	From, To civil.Date
}

// Day is a planned working day.
type Day struct {
	Date  civil.Date
	Hours decimal.Decimal
}

// Revenue prices the billable days of an assignment with role at the rate effective on each day,
// exactly, and rounds once to currency. Hours on days without a rate are returned as missing.
func Revenue(days []Day, role string, rates []BillRate, currency string) (revenue money.Amount, missing decimal.Decimal) {
	sum := decimal.Zero
	missing = decimal.Zero
	for _, d := range days {
		r, ok := rateOn(rates, role, d.Date)
		if !ok {
			missing = missing.Add(d.Hours)
			continue
		}
		sum = sum.Add(d.Hours.Mul(r))
	}
	return money.Amount{Value: sum, Currency: currency}.Round(), missing
}

func rateOn(rates []BillRate, role string, d civil.Date) (decimal.Decimal, bool) {
	for _, r := range rates {
		if r.Role == role && !d.Before(r.From) && (r.To.IsZero() || !d.After(r.To)) {
			return r.Rate, true
		}
	}
	return decimal.Zero, false
}

// Margin returns revenue − cost and the margin in percent of revenue (two decimals; nil when
// there is no revenue).
func Margin(revenue, cost decimal.Decimal) (decimal.Decimal, *decimal.Decimal) {
	m := revenue.Sub(cost)
	if revenue.IsZero() {
		return m, nil
	}
	pct := m.Div(revenue).Mul(decimal.NewFromInt(100)).Round(2)
	return m, &pct
}
