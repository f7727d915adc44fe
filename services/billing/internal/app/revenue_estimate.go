package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// SetRevenueEstimate records the estimate to complete of a contract line from a period on (the
// percent-complete rule and the loss-contract rule read the latest one effective at a period).
// The line must exist (CONTRACT_LINE_NOT_FOUND) and the estimate be in the contract currency and
// not negative. Setting the same again changes nothing but the time; every change is audited.
func (s *Service) SetRevenueEstimate(ctx context.Context, e revenue.Estimate) (out revenue.Estimate, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.Contract(ctx, e.ContractID, 0)
		if err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, c.LegalEntityID); err != nil {
			return err
		}
		found := false
		for _, l := range c.Lines {
			found = found || l.Key == e.LineKey
		}
		if !found {
			return revenue.ErrLineNotFound.With("contract "+c.ID+" has no line "+e.LineKey, "line_key", e.LineKey)
		}
		if e.EstimateToComplete.Currency != c.Currency {
			return fault.Invalidf(contract.ReasonCurrencyMismatch, "estimate_to_complete.currency_code", "the contract is in %s, not %s",
				c.Currency, e.EstimateToComplete.Currency)
		}
		if e.EstimateToComplete.Value.IsNegative() {
			return fault.Invalidf(revenue.ReasonNegativeAmount, "estimate_to_complete.amount", "an estimate to complete cannot be negative")
		}
		e.EstimateToComplete = money.Amount{Value: e.EstimateToComplete.Value, Currency: c.Currency}.Round()
		e.SetBy = auth.Actor(ctx)
		if out, err = s.store.SetEstimate(ctx, e); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "revenue.estimate_set", EntityType: "contract_line", EntityID: c.ID + "/" + e.LineKey,
			Details: map[string]any{"effective_period": e.EffectivePeriod, "estimate_to_complete": e.EstimateToComplete.String(), "note": e.Note}})
	})
	return out, err
}
