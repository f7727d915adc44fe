package app

import (
	"context"
	"errors"

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
	if err := s.checkProjects(ctx, in.ProjectID); err != nil {
		return out, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		out, err = s.record(ctx, in)
		return err
	})
	return out, err
}

func (s *Service) record(ctx context.Context, in te.Input) (te.Entry, error) {
	if err := s.store.LockResources(ctx, []string{in.ResourceID}); err != nil {
		return te.Entry{}, err
	}
	if in.Ref != nil {
		existing, found, err := s.store.EntryByRef(ctx, *in.Ref)
		if err != nil {
			return te.Entry{}, err
		}
		if found {
			return sameOrDuplicate(existing, in)
		}
	}
	if err := s.checkAgainstReplica(ctx, in, ""); err != nil {
		return te.Entry{}, err
	}
	sheet, err := s.store.OpenTimesheet(ctx, s.newID(), in.ResourceID, in.Date.StartOfISOWeek())
	if err != nil {
		return te.Entry{}, err
	}
	reopened, err := sheet.Edit()
	if err != nil {
		return te.Entry{}, err
	}
	e := te.NewDraft(s.newID(), in, sheet.ID, s.now())
	inserted, err := s.store.InsertEntry(ctx, e)
	if err != nil {
		return te.Entry{}, err
	}
	if !inserted {
		// Another entry (of another resource) took the reference since we looked.
		existing, found, err := s.store.EntryByRef(ctx, *in.Ref)
		if err == nil && !found {
			err = errors.New("app: external reference taken but not found")
		}
		if err != nil {
			return te.Entry{}, err
		}
		return sameOrDuplicate(existing, in)
	}
	if reopened {
		if _, err := s.store.SetApproval(ctx, sheet.ID, te.Draft, te.PostingNotApproved, zeroTime); err != nil {
			return te.Entry{}, err
		}
	}
	return e, s.store.SaveTimesheet(ctx, sheet)
}
