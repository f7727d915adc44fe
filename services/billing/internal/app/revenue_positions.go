package app

import (
	"context"

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
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
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
		out = append(out, revenue.ContractPosition{ContractID: id, LegalEntityID: legalEntityID, Period: period, AsOf: asOf, Currency: c.Currency,
			Recognized: recognized, Billed: billed, Asset: pos.Asset.Value, Liability: pos.Liability.Value,
			LedgerUnbilled: unbilled, LedgerDeferred: deferred})
	}
	return out, nil
}

// LossContractCount is the KPI "loss contracts" of every legal entity (the metric gauge).
func (s *Service) LossContractCount(ctx context.Context) (int64, error) {
	return s.store.CountLossContracts(ctx, "")
}
