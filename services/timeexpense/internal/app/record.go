package app

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Record adds a time entry or an expense to its resource's timesheet of the date's week (created
// DRAFT when missing; a REJECTED one goes back to DRAFT). An input whose external reference is
// already stored with the same content returns the stored entry and writes nothing.
//
// It can return the input errors of te.Input.Check, the rule errors of te.Replica.Check,
// te.ErrDailyHoursExceeded, te.ErrDuplicateExternalID and te.ErrTimesheetNotEditable; a refused
// entry writes nothing.
func (s *Service) Record(ctx context.Context, in te.Input) (out te.Entry, err error) {
	defer func() { refused(err) }()
	if err := in.Check(); err != nil {
		return out, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out, err = s.record(ctx, tx, in)
		return err
	})
	return out, err
}

func (s *Service) record(ctx context.Context, tx pgx.Tx, in te.Input) (te.Entry, error) {
	if err := store.LockResources(ctx, tx, []string{in.ResourceID}); err != nil {
		return te.Entry{}, err
	}
	if in.Ref != nil {
		existing, found, err := store.EntryByRef(ctx, tx, *in.Ref)
		if err != nil {
			return te.Entry{}, err
		}
		if found {
			return sameOrDuplicate(existing, in)
		}
	}
	if err := checkAgainstReplica(ctx, tx, in, ""); err != nil {
		return te.Entry{}, err
	}
	sheet, err := store.OpenTimesheet(ctx, tx, s.newID(), in.ResourceID, in.Date.StartOfISOWeek())
	if err != nil {
		return te.Entry{}, err
	}
	reopened, err := sheet.Edit()
	if err != nil {
		return te.Entry{}, err
	}
	e := te.NewDraft(s.newID(), in, sheet.ID, s.now())
	inserted, err := store.InsertEntry(ctx, tx, e)
	if err != nil {
		return te.Entry{}, err
	}
	if !inserted {
		// Another entry (of another resource) took the reference since we looked.
		existing, found, err := store.EntryByRef(ctx, tx, *in.Ref)
		if err == nil && !found {
			err = errors.New("app: external reference taken but not found")
		}
		if err != nil {
			return te.Entry{}, err
		}
		return sameOrDuplicate(existing, in)
	}
	if reopened {
		if _, err := store.SetApproval(ctx, tx, sheet.ID, te.Draft, te.PostingNotApproved, zeroTime); err != nil {
			return te.Entry{}, err
		}
	}
	return e, store.SaveTimesheet(ctx, tx, sheet)
}
