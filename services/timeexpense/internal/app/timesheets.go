package app

import (
	"context"
	"time"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

var zeroTime time.Time

// decide runs a status change of a timesheet: it locks it, applies change, moves its entries to
// the new approval (and posting) status, saves it, runs after and writes the audit record.
func (s *Service) decide(ctx context.Context, id string, action, reason string, posting te.PostingStatus,
	change func(t *te.Timesheet, now time.Time) error, after func(ctx context.Context, t te.Timesheet) error,
) (out te.Timesheet, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.store.LockTimesheet(ctx, id)
		if err == nil {
			err = s.checkEntries(ctx, t.Entries...) // a timesheet spans its entries' entities
		}
		if err != nil {
			return err
		}
		now := s.now()
		if err := change(&t, now); err != nil {
			return err
		}
		approvedAt := zeroTime
		if t.Status == te.Approved {
			approvedAt = now
		}
		if t.Entries, err = s.store.SetApproval(ctx, t.ID, t.Status, posting, approvedAt); err != nil {
			return err
		}
		if err := s.store.SaveTimesheet(ctx, t); err != nil {
			return err
		}
		if after != nil {
			if err := after(ctx, t); err != nil {
				return err
			}
		}
		out = t
		return s.store.Audit(ctx, audit.Record{Action: action, EntityType: "timesheet", EntityID: t.ID, Reason: reason,
			Details: map[string]any{"resource_id": t.ResourceID, "week_start": t.WeekStart.String(), "status": string(t.Status),
				"version": t.Version, "entries": len(t.Entries)}})
	})
	return out, err
}

// Submit moves a DRAFT or REJECTED timesheet with at least one entry to SUBMITTED. It can return
// te.ErrTimesheetNotFound, te.ErrTimesheetEmpty and te.ErrInvalidTransition.
func (s *Service) Submit(ctx context.Context, id string) (te.Timesheet, error) {
	return s.decide(ctx, id, "timesheet.submitted", "", te.PostingNotApproved,
		func(t *te.Timesheet, now time.Time) error { return t.Submit(len(t.Entries), now) }, nil)
}

// Approve moves a SUBMITTED timesheet to APPROVED on behalf of the caller: its entries become
// pending posting and are published in one time_entries.approved event. It can return
// te.ErrTimesheetNotFound and te.ErrInvalidTransition.
func (s *Service) Approve(ctx context.Context, id string) (te.Timesheet, error) {
	return s.decide(ctx, id, "timesheet.approved", "", te.PostingPending,
		func(t *te.Timesheet, now time.Time) error { return t.Approve(auth.Actor(ctx), now) },
		func(ctx context.Context, t te.Timesheet) error {
			return s.store.Publish(ctx, wire.EntriesApproved(t.ID, t.Entries))
		})
}

// Reject moves a SUBMITTED timesheet to REJECTED with the caller's reason. It can return
// te.ErrTimesheetNotFound and te.ErrInvalidTransition.
func (s *Service) Reject(ctx context.Context, id, reason string) (te.Timesheet, error) {
	return s.decide(ctx, id, "timesheet.rejected", reason, te.PostingNotApproved,
		func(t *te.Timesheet, now time.Time) error { return t.Reject(reason, auth.Actor(ctx), now) }, nil)
}

// Timesheet returns a timesheet with its entries. It can return te.ErrTimesheetNotFound.
func (s *Service) Timesheet(ctx context.Context, id string) (te.Timesheet, error) {
	t, err := s.store.Timesheet(ctx, id)
	if err == nil {
		err = s.checkEntries(ctx, t.Entries...)
	}
	if err != nil {
		return te.Timesheet{}, err
	}
	return t, nil
}
