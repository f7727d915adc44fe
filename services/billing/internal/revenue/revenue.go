// Package revenue holds the revenue recognition rules of billing (issue 16): how much revenue a
// contract line recognizes by its method (as delivered, percent complete, milestone, straight
// line), the expected loss of a loss contract, and the contract asset or liability from
// recognized against billed to date. It is pure domain: no I/O; the recognition run (app) reads
// the inputs, calls these rules and posts the result.
//
// Every amount is a money.Amount rounded half-up to its currency's minor unit. Rules that work
// cumulatively (percent complete, milestone) return the recognized-to-date figure and the
// period's entry as "to date less recognized before", so a change of estimate catches up in the
// current period and re-running a period with the same inputs yields the same figures.
package revenue

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Reasons of refused inputs.
const (
	ReasonNegativeAmount   = "REVENUE_NEGATIVE_AMOUNT"
	ReasonNoEstimate       = "REVENUE_ESTIMATE_REQUIRED"
	ReasonServicePeriod    = "REVENUE_SERVICE_PERIOD_INVALID"
	ReasonCurrencyMismatch = money.ReasonCurrencyMismatch
)

// Recognition is what one contract line recognizes as of a period end.
type Recognition struct {
	// ToDate is the revenue recognized from the start of the contract to the period end.
	ToDate money.Amount
	// Period is this period's entry: ToDate less what was recognized before. It may be
	// negative (a downward change of estimate catches up in the current period).
	Period money.Amount
}

func sameCurrency(field string, base money.Amount, others ...money.Amount) error {
	for _, o := range others {
		if o.Currency != base.Currency {
			return fault.Invalidf(ReasonCurrencyMismatch, field, "%s amount against a %s price", o.Currency, base.Currency)
		}
	}
	return nil
}

func nonNegative(field string, amounts ...money.Amount) error {
	for _, a := range amounts {
		if a.Value.IsNegative() {
			return fault.Invalidf(ReasonNegativeAmount, field, "%s must not be negative", a)
		}
	}
	return nil
}

// AsDelivered recognizes the billable value delivered in the period (time and materials): the
// sum of the delivered lines, each rounded to the minor unit, all in currency.
func AsDelivered(currency string, delivered []money.Amount) (money.Amount, error) {
	total := money.Zero(currency)
	for _, d := range delivered {
		var err error
		if total, err = total.Add(d.Round()); err != nil {
			return money.Amount{}, err
		}
	}
	return total, nil
}

// Milestone is a milestone of a line recognized in full on completion.
type Milestone struct {
	Amount money.Amount
	// Completed reports whether the milestone was completed by the period end.
	Completed bool
}

// Milestones recognizes the amounts of the milestones completed by the period end, less what
// was recognized before.
func Milestones(price money.Amount, ms []Milestone, recognizedBefore money.Amount) (Recognition, error) {
	toDate := money.Zero(price.Currency)
	for _, m := range ms {
		if err := sameCurrency("milestones.amount", price, m.Amount); err != nil {
			return Recognition{}, err
		}
		if m.Completed {
			toDate.Value = toDate.Value.Add(m.Amount.Round().Value)
		}
	}
	if toDate.Value.GreaterThan(price.Value) {
		toDate = price.Round()
	}
	return recognition(toDate, recognizedBefore)
}

func recognition(toDate, before money.Amount) (Recognition, error) {
	if err := sameCurrency("recognized_before", toDate, before); err != nil {
		return Recognition{}, err
	}
	return Recognition{ToDate: toDate, Period: money.Amount{Value: toDate.Value.Sub(before.Round().Value), Currency: toDate.Currency}}, nil
}

// Progress is the input of the cost-to-cost (percent complete) rule for one line.
type Progress struct {
	Price              money.Amount // transaction price of the line
	CostToDate         money.Amount // costs incurred to the period end
	EstimatedTotalCost money.Amount // estimate at completion: cost to date + estimate to complete
	RecognizedBefore   money.Amount
}

// PercentComplete recognizes costs to date ÷ estimated total cost × price, less what was
// recognized before. Progress is capped at 100 % (never beyond the price) and is never below
// zero; a changed estimate catches up cumulatively in this period.
func PercentComplete(p Progress) (Recognition, decimal.Decimal, error) {
	if err := sameCurrency("cost", p.Price, p.CostToDate, p.EstimatedTotalCost, p.RecognizedBefore); err != nil {
		return Recognition{}, decimal.Zero, err
	}
	if err := nonNegative("cost", p.Price, p.CostToDate, p.EstimatedTotalCost); err != nil {
		return Recognition{}, decimal.Zero, err
	}
	if !p.EstimatedTotalCost.Value.IsPositive() {
		return Recognition{}, decimal.Zero, fault.Invalidf(ReasonNoEstimate, "estimated_total_cost", "percent complete needs a positive estimate at completion")
	}
	// Divide with generous precision; the only rounding is the final one to the minor unit.
	progress := p.CostToDate.Value.DivRound(p.EstimatedTotalCost.Value, 16)
	if progress.GreaterThan(decimal.NewFromInt(1)) {
		progress = decimal.NewFromInt(1)
	}
	toDate := p.Price.Mul(progress)
	if toDate.Value.GreaterThan(p.Price.Value) {
		toDate = p.Price.Round()
	}
	r, err := recognition(toDate, p.RecognizedBefore)
	return r, progress, err
}
