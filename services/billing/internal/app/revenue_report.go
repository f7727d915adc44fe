package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// RevenueReport reports a legal entity's periods from..to (YYYY-MM, inclusive): project and
// contract P&L from the ledger, each contract's WIP roll-forward, and revenue recognized by
// method.
func (s *Service) RevenueReport(ctx context.Context, legalEntityID, from, to string) (revenue.Report, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return revenue.Report{}, err
	}
	start, err1 := civil.Parse(from + "-01")
	last, err2 := civil.Parse(to + "-01")
	if err1 != nil || err2 != nil || last.Before(start) {
		return revenue.Report{}, fault.Invalidf(contract.ReasonInvalidPeriod, "to_period", "%s..%s is not a range of periods", from, to)
	}
	end := civil.Of(last.Time().AddDate(0, 1, -1))
	le, err := s.store.LegalEntity(ctx, legalEntityID)
	if err != nil {
		return revenue.Report{}, err
	}
	r := revenue.Report{LegalEntityID: legalEntityID, From: from, To: to, Currency: le.FunctionalCurrency}
	slices, err := s.store.LedgerSlices(ctx, legalEntityID, start, end)
	if err != nil {
		return r, err
	}
	r = revenue.BuildReport(r, slices)
	if r.WIP, err = s.store.WIPRollForward(ctx, legalEntityID, start, end); err != nil {
		return r, err
	}
	r.ByMethod, err = s.store.RevenueByMethod(ctx, legalEntityID, from, to)
	return r, err
}
