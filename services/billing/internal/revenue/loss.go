package revenue

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
)

// LossInput is what the loss-contract rule needs of one contract (or line).
type LossInput struct {
	Price                money.Amount // transaction price
	EstimateAtCompletion money.Amount // total expected cost
	CostToDate           money.Amount
	RecognizedToDate     money.Amount // revenue recognized to date, this period included
	ProvisionBefore      money.Amount // loss provision carried before this period
}

// Loss is the outcome of the loss-contract rule.
type Loss struct {
	// LossContract flags a contract whose estimate at completion exceeds its price (KPI and
	// exception).
	LossContract bool
	// Expected is the whole expected loss: estimate at completion − price (zero if none).
	Expected money.Amount
	// Provision is the provision required at the period end: the part of the expected loss not
	// already in profit and loss through recognized revenue and incurred costs, i.e. remaining
	// costs − remaining revenue, never below zero. With nothing incurred or recognized yet it is
	// the whole expected loss, recognized at once.
	Provision money.Amount
	// Period is this period's provision entry: Provision − ProvisionBefore (negative releases).
	Period money.Amount
}

// ExpectedLoss applies the loss-contract rule: when the estimate at completion exceeds the
// price, the expected loss is recognized at once (as a provision) and flagged.
func ExpectedLoss(in LossInput) (Loss, error) {
	if err := sameCurrency("estimate_at_completion", in.Price, in.EstimateAtCompletion, in.CostToDate, in.RecognizedToDate, in.ProvisionBefore); err != nil {
		return Loss{}, err
	}
	if err := nonNegative("estimate_at_completion", in.Price, in.EstimateAtCompletion, in.CostToDate, in.RecognizedToDate, in.ProvisionBefore); err != nil {
		return Loss{}, err
	}
	cur := in.Price.Currency
	zero := money.Zero(cur)
	expected := in.EstimateAtCompletion.Value.Sub(in.Price.Value)
	out := Loss{Expected: zero, Provision: zero}
	if expected.IsPositive() {
		out.LossContract = true
		out.Expected = money.Amount{Value: expected, Currency: cur}.Round()
		remainingCost := decimal.Max(decimal.Zero, in.EstimateAtCompletion.Value.Sub(in.CostToDate.Value))
		remainingRevenue := decimal.Max(decimal.Zero, in.Price.Value.Sub(in.RecognizedToDate.Value))
		provision := decimal.Max(decimal.Zero, remainingCost.Sub(remainingRevenue))
		out.Provision = money.Amount{Value: decimal.Min(provision, expected), Currency: cur}.Round()
	}
	out.Period = money.Amount{Value: out.Provision.Value.Sub(in.ProvisionBefore.Round().Value), Currency: cur}
	return out, nil
}
