package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// ContractPositions reports each contract of a legal entity (or only contractID) as of a date:
// revenue recognized to date (the lines' recognition at the date's period, plus billable
// expenses delivered), billed to date (posted invoices and credit notes issued by then), the
// contract asset or liability, and the contract's ledger balances of unbilled receivables and
// deferred revenue. Once the period's run is done they tie: unbilled = asset, deferred =
// −liability.
func (s *Service) ContractPositions(ctx context.Context, legalEntityID, contractID string, asOf civil.Date) ([]revenue.ContractPosition, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	le, err := s.store.LegalEntity(ctx, legalEntityID)
	if err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = civil.Of(s.now())
	}
	ids := []string{contractID}
	if contractID == "" {
		var err error
		if ids, err = s.store.ContractIDs(ctx, legalEntityID); err != nil {
			return nil, err
		}
	}
	period := ledger.PeriodOf(asOf)
	var out []revenue.ContractPosition
	for _, id := range ids {
		c, err := s.store.Contract(ctx, id, 0)
		if err != nil {
			return nil, err
		}
		if c.LegalEntityID != legalEntityID {
			continue
		}
		recognized, err := s.store.RecognizedToDate(ctx, id, period)
		if err != nil {
			return nil, err
		}
		_, expenses, err := s.store.DeliveredToDate(ctx, id, asOf)
		if err != nil {
			return nil, err
		}
		recognized = recognized.Add(expenses)
		billed, err := s.store.BilledToDate(ctx, id, asOf)
		if err != nil {
			return nil, err
		}
		pos, err := revenue.PositionOf(money.Amount{Value: recognized, Currency: c.Currency}, money.Amount{Value: billed, Currency: c.Currency})
		if err != nil {
			return nil, err
		}
		unbilled, deferred, err := s.store.ContractBalances(ctx, id, asOf)
		if err != nil {
			return nil, err
		}
		// A foreign-currency contract's figures in the functional currency at the as-of date's
		// rate, beside the ledger's.
		fx, err := s.periodEndRate(ctx, c.Currency, le.FunctionalCurrency, asOf)
		if err != nil {
			return nil, err
		}
		conv := func(v decimal.Decimal) decimal.Decimal {
			if c.Currency == le.FunctionalCurrency {
				return v
			}
			return money.Amount{Value: v.Mul(fx), Currency: le.FunctionalCurrency}.Round().Value
		}
		out = append(out, revenue.ContractPosition{ContractID: id, LegalEntityID: legalEntityID, Period: period, AsOf: asOf,
			Currency: le.FunctionalCurrency, Recognized: conv(recognized), Billed: conv(billed), Asset: conv(pos.Asset.Value),
			Liability: conv(pos.Liability.Value), LedgerUnbilled: unbilled, LedgerDeferred: deferred})
	}
	return out, nil
}

// LossContractCount is the KPI "loss contracts" of every legal entity (the metric gauge).
func (s *Service) LossContractCount(ctx context.Context) (int64, error) {
	return s.store.CountLossContracts(ctx, "")
}
