package app

import (
	"context"

	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Entry returns one entry. It can return te.ErrEntryNotFound.
func (s *Service) Entry(ctx context.Context, id string) (te.Entry, error) {
	return store.GetEntry(ctx, s.Pool, id, false)
}

// Entries returns a page of entries matching f and how many match in all.
func (s *Service) Entries(ctx context.Context, f store.EntryFilter) ([]te.Entry, int64, error) {
	list, err := store.ListEntries(ctx, s.Pool, f)
	if err != nil {
		return nil, 0, err
	}
	total, err := store.CountEntries(ctx, s.Pool, f)
	return list, total, err
}

// TimesheetsRejectedClosedPeriod counts the (resource, week) pairs with entries the ledger
// rejected for a closed period (the KPI).
func (s *Service) TimesheetsRejectedClosedPeriod(ctx context.Context) (int64, error) {
	return store.CountTimesheetsRejectedClosedPeriod(ctx, s.Pool)
}
