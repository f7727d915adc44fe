// Package money does exact arithmetic on amounts, hours and rates with shopspring/decimal (never
// floats). An Amount always carries its currency; rounding to the currency's minor unit happens
// once per line, half away from zero ("half-up" for positive amounts), and totals are sums of
// rounded lines.
package money

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Reasons of money parsing failures.
const (
	ReasonInvalidAmount    = "INVALID_AMOUNT"
	ReasonUnknownCurrency  = "UNKNOWN_CURRENCY"
	ReasonCurrencyMismatch = "CURRENCY_MISMATCH"
)

// Amount is an exact amount of one currency.
type Amount struct {
	Value    decimal.Decimal
	Currency string
}

// Parse reads a decimal string and an ISO 4217 code. field names the request field in errors.
func Parse(amount, currency, field string) (Amount, error) {
	if !KnownCurrency(currency) {
		return Amount{}, fault.Invalidf(ReasonUnknownCurrency, field+".currency_code", "%q is not an ISO 4217 currency", currency)
	}
	d, err := ParseDecimal(amount, field+".amount")
	if err != nil {
		return Amount{}, err
	}
	return Amount{Value: d, Currency: currency}, nil
}

// ParseDecimal reads a decimal string (hours, rates, amounts).
func ParseDecimal(s, field string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fault.Invalidf(ReasonInvalidAmount, field, "%q is not a decimal number", s)
	}
	return d, nil
}

// Zero returns 0 in currency.
func Zero(currency string) Amount { return Amount{Value: decimal.Zero, Currency: currency} }

// Round rounds a to its currency's minor unit, half away from zero.
func (a Amount) Round() Amount {
	exp, ok := Exponent(a.Currency)
	if !ok {
		exp = 2
	}
	return Amount{Value: a.Value.Round(exp), Currency: a.Currency}
}

// Add returns a + b; both must be of the same currency.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fault.New(fault.Invalid, ReasonCurrencyMismatch, "cannot add %s to %s", b.Currency, a.Currency)
	}
	return Amount{Value: a.Value.Add(b.Value), Currency: a.Currency}, nil
}

// Mul returns a × q, rounded to the minor unit (one line: quantity × rate).
func (a Amount) Mul(q decimal.Decimal) Amount {
	return Amount{Value: a.Value.Mul(q), Currency: a.Currency}.Round()
}

// String formats the amount with exactly its currency's minor-unit digits, e.g. "1250.00 USD".
func (a Amount) String() string { return a.Format() + " " + a.Currency }

// Format returns the decimal string with the currency's minor-unit digits, e.g. "1250.00".
func (a Amount) Format() string {
	exp, ok := Exponent(a.Currency)
	if !ok {
		exp = 2
	}
	return a.Value.StringFixed(exp)
}

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.Value.IsZero() }

// Equal reports whether a and b have the same currency and value.
func (a Amount) Equal(b Amount) bool { return a.Currency == b.Currency && a.Value.Equal(b.Value) }

// GoString helps test failure messages.
func (a Amount) GoString() string { return fmt.Sprintf("money.Amount(%s)", a) }

// ReasonPrecision is returned for amounts with more decimals than their currency has.
const ReasonPrecision = "INVALID_AMOUNT_PRECISION"

// ParseExact is Parse for amounts that must fit the currency's minor unit (line amounts,
// milestones, caps): "10.005 USD" is refused rather than silently rounded.
func ParseExact(amount, currency, field string) (Amount, error) {
	a, err := Parse(amount, currency, field)
	if err != nil {
		return a, err
	}
	if !a.Round().Value.Equal(a.Value) {
		exp, _ := Exponent(currency)
		return a, fault.Invalidf(ReasonPrecision, field+".amount", "%s amounts have at most %d decimals", currency, exp)
	}
	return a, nil
}
