package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// ListAccounts returns a legal entity's chart of accounts.
func (s *Service) ListAccounts(ctx context.Context, legalEntityID string) ([]ledger.Account, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	return s.store.ListAccounts(ctx, legalEntityID)
}

// TrialBalance returns the debit and credit totals per account of a legal entity, for one period
// ("YYYY-MM") or all ("").
func (s *Service) TrialBalance(ctx context.Context, legalEntityID, period string) (ledger.TrialBalance, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return ledger.TrialBalance{}, err
	}
	le, err := s.store.LegalEntity(ctx, legalEntityID)
	if err != nil {
		return ledger.TrialBalance{}, err
	}
	lines, err := s.store.TrialBalance(ctx, legalEntityID, period)
	return ledger.TrialBalance{Currency: le.FunctionalCurrency, Lines: lines}, err
}

// JournalEntries returns a page of journal entries (page.Fetch() of them), of the caller's legal
// entities only.
func (s *Service) JournalEntries(ctx context.Context, f ledger.EntryFilter, page paging.Request) ([]ledger.Entry, error) {
	if f.LegalEntityID != "" {
		if err := auth.CheckLegalEntity(ctx, f.LegalEntityID); err != nil {
			return nil, err
		}
	}
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	return s.store.ListJournalEntries(ctx, f, page)
}

// Candidates returns a page of invoice candidates (page.Fetch() of them), of projects of the
// caller's legal entities only.
func (s *Service) Candidates(ctx context.Context, f ledger.CandidateFilter, page paging.Request) ([]ledger.Candidate, error) {
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	return s.store.ListCandidates(ctx, f, page)
}

// KPIs returns billing's business KPIs over the caller's legal entities. Parked postings are
// counted firm-wide, for callers acting for every entity only (a parked posting records no
// entity until it is costed).
func (s *Service) KPIs(ctx context.Context) (ledger.KPIs, error) {
	return s.store.ReadKPIs(ctx, auth.EntitiesOf(ctx).Filter())
}

// GaugeKPIs returns the KPIs cheap enough to sample every few seconds: entries rejected for
// closed periods and parked postings.
func (s *Service) GaugeKPIs(ctx context.Context) (rejected, parked int64, err error) {
	if rejected, err = s.store.CountRejectedClosedPeriod(ctx); err != nil {
		return 0, 0, err
	}
	parked, err = s.store.ParkedCount(ctx, "", "")
	return rejected, parked, err
}
