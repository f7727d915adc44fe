package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/paging"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Entry returns one entry. It can return te.ErrEntryNotFound.
func (s *Service) Entry(ctx context.Context, id string) (te.Entry, error) {
	e, err := s.store.Entry(ctx, id)
	if err == nil {
		err = s.checkEntries(ctx, e)
	}
	if err != nil {
		return te.Entry{}, err
	}
	return e, nil
}

// Entries returns the entries matching f from the page's position on (page.Fetch() of them, by
// id, for paging.Page to trim) and how many match in all, of the caller's legal entities only.
func (s *Service) Entries(ctx context.Context, f te.EntryFilter, page paging.Request) ([]te.Entry, int64, error) {
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	list, err := s.store.ListEntries(ctx, f, page)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.store.CountEntries(ctx, f)
	return list, total, err
}

// TimesheetsRejectedClosedPeriod counts the (resource, week) pairs with entries the ledger
// rejected for a closed period (the KPI).
func (s *Service) TimesheetsRejectedClosedPeriod(ctx context.Context) (int64, error) {
	return s.store.CountTimesheetsRejectedClosedPeriod(ctx)
}
