package ledger

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// ReasonInvalidRate is returned for an exchange rate that is not a positive decimal.
const ReasonInvalidRate = "INVALID_RATE"

// ExchangeRate converts From into To from Date on (until a later rate of the pair).
type ExchangeRate struct {
	From, To string
	Date     civil.Date
	Rate     decimal.Decimal
}

// Validate checks the currencies and the rate.
func (r ExchangeRate) Validate() error {
	if !money.KnownCurrency(r.From) || !money.KnownCurrency(r.To) {
		return fault.Invalidf(money.ReasonUnknownCurrency, "from_currency", "both currencies must be ISO 4217 codes")
	}
	if !r.Rate.IsPositive() {
		return fault.Invalidf(ReasonInvalidRate, "rate", "the rate must be a positive decimal")
	}
	return nil
}
