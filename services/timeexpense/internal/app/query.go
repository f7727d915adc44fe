package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
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

// ClosedPeriodKPIs counts the entries refused for a closed period, split by where: at record
// time (recorded, imported or corrected into a closed period of a REJECT legal entity) and at
// posting (rejected by the ledger), with their timesheets (distinct resource and ISO week) and
// hours; of the caller's legal entities only (every entity without a caller: the metrics).
func (s *Service) ClosedPeriodKPIs(ctx context.Context) (te.ClosedPeriodKPIs, error) {
	return s.store.ClosedPeriodKPIs(ctx, auth.EntitiesOf(ctx).Filter())
}

// ApprovedEntries returns the approved entries of a legal entity worked in a month (from..to),
// for reconciliation with the ledger, from the page's position on (page.Fetch() of them). The
// caller must act for the legal entity.
func (s *Service) ApprovedEntries(ctx context.Context, legalEntityID string, from, to civil.Date, page paging.Request) ([]te.Entry, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	return s.store.ApprovedEntries(ctx, legalEntityID, from, to, page)
}
