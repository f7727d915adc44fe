package revenue

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Part is one calendar month's share of a straight-line schedule.
type Part struct {
	Period string     // YYYY-MM, the ledger period
	From   civil.Date // first service day in the month
	To     civil.Date // last service day in the month
	Days   int
	Amount money.Amount
}

// StraightLine spreads price by days over the service period start..end (both inclusive), one
// part per calendar month; partial first and last months count their days. Each part is rounded
// half-up to the minor unit and the last part takes the rounding residual, so the parts sum to
// the price exactly. No part is negative: a part is cut to what is left of the price.
func StraightLine(price money.Amount, start, end civil.Date) ([]Part, error) {
	if err := nonNegative("amount", price); err != nil {
		return nil, err
	}
	if !start.Valid() || !end.Valid() || end.Before(start) {
		return nil, fault.Invalidf(ReasonServicePeriod, "service_end", "service period %s..%s is not a valid range", start, end)
	}
	price = price.Round()
	total := days(start, end)
	var parts []Part
	left := price.Value
	for from := start; !from.After(end); {
		to := monthEnd(from)
		if to.After(end) {
			to = end
		}
		n := days(from, to)
		p := Part{Period: from.String()[:7], From: from, To: to, Days: n}
		if to == end {
			p.Amount = money.Amount{Value: left, Currency: price.Currency}
		} else {
			// The exact share, rounded once to the minor unit (DivRound keeps 16 digits, far
			// beyond any half-unit boundary a day count can reach).
			exact := price.Value.Mul(decimal.NewFromInt(int64(n))).DivRound(decimal.NewFromInt(int64(total)), 16)
			amt := money.Amount{Value: exact, Currency: price.Currency}.Round().Value
			amt = decimal.Min(amt, left)
			p.Amount = money.Amount{Value: amt, Currency: price.Currency}
		}
		left = left.Sub(p.Amount.Value)
		parts = append(parts, p)
		from = to.AddDays(1)
	}
	return parts, nil
}

// InPeriod is the schedule's amount for a ledger period (YYYY-MM); zero outside the schedule.
func InPeriod(parts []Part, currency, period string) money.Amount {
	for _, p := range parts {
		if p.Period == period {
			return p.Amount
		}
	}
	return money.Zero(currency)
}

// ToDate is the schedule's amount for the periods up to and including period (YYYY-MM).
func ToDate(parts []Part, currency, period string) money.Amount {
	sum := money.Zero(currency)
	for _, p := range parts {
		if p.Period <= period {
			sum.Value = sum.Value.Add(p.Amount.Value)
		}
	}
	return sum
}

func days(from, to civil.Date) int {
	return int(to.Time().Sub(from.Time())/(24*time.Hour)) + 1
}

func monthEnd(d civil.Date) civil.Date {
	return civil.Of(civil.Date{Year: d.Year, Month: d.Month, Day: 1}.Time().AddDate(0, 1, -1))
}
