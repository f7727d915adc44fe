package timeexpense

import (
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// Errors of timesheets.
var (
	ErrTimesheetNotFound    = fault.New(fault.NotFound, "TIMESHEET_NOT_FOUND", "no such timesheet")
	ErrTimesheetNotEditable = fault.New(fault.FailedPrecondition, "TIMESHEET_NOT_EDITABLE", "the timesheet is submitted or approved")
	ErrInvalidTransition    = fault.New(fault.FailedPrecondition, "INVALID_STATUS_TRANSITION", "the timesheet cannot move to that status")
	ErrTimesheetEmpty       = fault.New(fault.FailedPrecondition, "TIMESHEET_EMPTY", "a timesheet needs at least one entry to be submitted")
)

// Timesheet is a resource's ISO week (Monday start).
type Timesheet struct {
	ID              string
	ResourceID      string
	WeekStart       civil.Date
	Status          Status
	RejectionReason string
	DecidedBy       string
	SubmittedAt     time.Time
	DecidedAt       time.Time
	Version         int64
	Entries         []Entry
}

// NewTimesheet returns the DRAFT timesheet of resourceID's week containing d.
func NewTimesheet(id, resourceID string, d civil.Date) Timesheet {
	return Timesheet{ID: id, ResourceID: resourceID, WeekStart: d.StartOfISOWeek(), Status: Draft, Version: 1}
}

func (t *Timesheet) transition(to Status, allowed ...Status) error {
	for _, from := range allowed {
		if t.Status == from {
			t.Status = to
			t.Version++
			return nil
		}
	}
	return ErrInvalidTransition.With("timesheet "+t.ID+" is "+string(t.Status)+"; it cannot become "+string(to),
		"status", string(t.Status))
}

// Edit admits a new entry: a DRAFT takes it, a REJECTED timesheet goes back to DRAFT (reopened),
// a SUBMITTED or APPROVED one refuses it.
func (t *Timesheet) Edit() (reopened bool, err error) {
	switch t.Status {
	case Draft:
		t.Version++
		return false, nil
	case Rejected:
		t.Status = Draft
		t.Version++
		return true, nil
	}
	return false, ErrTimesheetNotEditable.With("timesheet "+t.ID+" is "+string(t.Status), "status", string(t.Status))
}

// Submit moves a DRAFT or REJECTED timesheet with entries to SUBMITTED.
func (t *Timesheet) Submit(entries int, at time.Time) error {
	if t.Status == Draft || t.Status == Rejected {
		if entries == 0 {
			return ErrTimesheetEmpty.With("timesheet " + t.ID + " has no entries")
		}
	}
	if err := t.transition(Submitted, Draft, Rejected); err != nil {
		return err
	}
	t.SubmittedAt = at
	return nil
}

// Approve moves a SUBMITTED timesheet to APPROVED, stamping the approver.
func (t *Timesheet) Approve(by string, at time.Time) error {
	if err := t.transition(Approved, Submitted); err != nil {
		return err
	}
	t.DecidedBy, t.DecidedAt, t.RejectionReason = by, at, ""
	return nil
}

// Reject moves a SUBMITTED timesheet to REJECTED with the approver's reason.
func (t *Timesheet) Reject(reason, by string, at time.Time) error {
	if err := t.transition(Rejected, Submitted); err != nil {
		return err
	}
	t.DecidedBy, t.DecidedAt, t.RejectionReason = by, at, reason
	return nil
}
