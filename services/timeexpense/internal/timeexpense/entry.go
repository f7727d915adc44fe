package timeexpense

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Kind tells time from expense.
type Kind string

const (
	Time    Kind = "TIME"
	Expense Kind = "EXPENSE"
)

// Status is where a timesheet stands; an entry carries the status of its approval.
type Status string

const (
	Draft     Status = "DRAFT"
	Submitted Status = "SUBMITTED"
	Approved  Status = "APPROVED"
	Rejected  Status = "REJECTED"
)

// MaxDailyHours bounds one entry and the sum of a resource's entries of one day.
var MaxDailyHours = decimal.NewFromInt(24)

// Errors of entries (match with errors.Is).
var (
	ErrInvalidHours         = fault.New(fault.Invalid, "INVALID_HOURS", "hours must be more than 0 and at most 24")
	ErrInvalidAmount        = fault.New(fault.Invalid, money.ReasonInvalidAmount, "an expense amount must be more than 0")
	ErrUnknownCurrency      = fault.New(fault.Invalid, money.ReasonUnknownCurrency, "the currency is not an ISO 4217 currency")
	ErrAmountPrecision      = fault.New(fault.Invalid, money.ReasonPrecision, "the amount has more decimals than its currency")
	ErrExternalRefRequired  = fault.New(fault.Invalid, "EXTERNAL_REFERENCE_REQUIRED", "an imported item needs an external reference")
	ErrDailyHoursExceeded   = fault.New(fault.FailedPrecondition, "DAILY_HOURS_EXCEEDED", "the resource's hours of the day would exceed 24")
	ErrDuplicateExternalID  = fault.New(fault.AlreadyExists, "DUPLICATE_EXTERNAL_ID", "the external reference is already used by an entry with different content")
	ErrEntryNotFound        = fault.New(fault.NotFound, "TIME_ENTRY_NOT_FOUND", "no such time entry or expense")
	ErrEntryNotApproved     = fault.New(fault.FailedPrecondition, "ENTRY_NOT_APPROVED", "only approved entries can be corrected")
	ErrEntryAlreadyReversed = fault.New(fault.FailedPrecondition, "ENTRY_ALREADY_CORRECTED", "the entry was already corrected (reversed)")
	ErrEntryIsReversal      = fault.New(fault.FailedPrecondition, "ENTRY_NOT_CORRECTABLE", "a reversal cannot be corrected; correct its replacement")
)

// ExternalRef is an entry's id in the T&E tool it came from.
type ExternalRef struct {
	System, ObjectType, ExternalID string
}

// Input is a time entry or an expense item as a caller sends it.
type Input struct {
	Kind       Kind
	ResourceID string
	ProjectID  string
	TaskID     string
	// Date is the work date (time) or the expense date.
	Date civil.Date
	// Hours of a time entry (zero for an expense).
	Hours decimal.Decimal
	// Amount of an expense (zero value for a time entry), its category and receipt.
	Amount      money.Amount
	Category    string
	Receipt     string
	Billable    bool
	Description string
	// Ref is the entry's id in the T&E tool, nil when entered in Accrue.
	Ref *ExternalRef
}

// Check applies the rules that need no state: hours within (0, 24] for time, a positive amount in
// a known currency with at most its minor-unit decimals for expenses.
func (in Input) Check() error {
	switch in.Kind {
	case Time:
		if !in.Hours.IsPositive() || in.Hours.GreaterThan(MaxDailyHours) {
			return ErrInvalidHours.With("hours must be more than 0 and at most 24, got " + in.Hours.String())
		}
	case Expense:
		if !money.KnownCurrency(in.Amount.Currency) {
			return ErrUnknownCurrency.With("currency " + quote(in.Amount.Currency) + " is not an ISO 4217 currency")
		}
		if !in.Amount.Value.IsPositive() {
			return ErrInvalidAmount.With("an expense amount must be more than 0, got " + in.Amount.Value.String())
		}
		if !in.Amount.Round().Value.Equal(in.Amount.Value) {
			return ErrAmountPrecision.With(in.Amount.Currency + " amounts have fewer decimals than " + in.Amount.Value.String())
		}
	default:
		return fault.New(fault.Invalid, "INVALID_KIND", "an entry is a time entry or an expense")
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// Same reports whether two inputs describe the same entry (the idempotency test of external
// references): every field equal, decimals compared by value.
func (in Input) Same(o Input) bool {
	return in.Kind == o.Kind && in.ResourceID == o.ResourceID && in.ProjectID == o.ProjectID && in.TaskID == o.TaskID &&
		in.Date == o.Date && in.Hours.Equal(o.Hours) && in.Amount.Currency == o.Amount.Currency &&
		in.Amount.Value.Equal(o.Amount.Value) && in.Category == o.Category && in.Receipt == o.Receipt &&
		in.Billable == o.Billable && in.Description == o.Description && sameRef(in.Ref, o.Ref)
}

func sameRef(a, b *ExternalRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Entry is a stored time entry or expense item.
type Entry struct {
	ID string
	Input
	// TimesheetID is empty for imported entries and reversals of imported entries.
	TimesheetID   string
	Approval      Status
	Posting       PostingStatus
	PostingReason string
	// ReversesID is set on a reversal; ReplacedByID on a corrected original.
	ReversesID   string
	ReplacedByID string
	// Version increases with every change of approval or correction; postings are unique per
	// (entry, version).
	Version    int64
	CreatedAt  time.Time
	ApprovedAt time.Time
}

// NewApproved returns an entry accepted already approved (an import, a correction's replacement):
// posting PENDING, version 1.
func NewApproved(id string, in Input, timesheetID string, now time.Time) Entry {
	return Entry{ID: id, Input: in, TimesheetID: timesheetID, Approval: Approved, Posting: PostingPending, Version: 1,
		CreatedAt: now, ApprovedAt: now}
}

// NewDraft returns an entry recorded on a timesheet, waiting for approval.
func NewDraft(id string, in Input, timesheetID string, now time.Time) Entry {
	return Entry{ID: id, Input: in, TimesheetID: timesheetID, Approval: Draft, Posting: PostingNotApproved, Version: 1, CreatedAt: now}
}

// Counts reports whether the entry's hours count in its resource's daily total: time entries that
// were neither corrected nor are reversals (a correction nets to its replacement).
func (e Entry) Counts() bool {
	return e.Kind == Time && e.ReversesID == "" && e.ReplacedByID == "" && e.Posting != PostingReversed
}

// CheckCorrectable says whether e may be corrected: approved, not a reversal, not corrected yet.
func (e Entry) CheckCorrectable() error {
	switch {
	case e.ReversesID != "":
		return ErrEntryIsReversal.With("entry "+e.ID+" reverses "+e.ReversesID, "entry_id", e.ID)
	case e.ReplacedByID != "" || e.Posting == PostingReversed:
		return ErrEntryAlreadyReversed.With("entry "+e.ID+" was already corrected", "entry_id", e.ID)
	case e.Approval != Approved:
		return ErrEntryNotApproved.With("entry "+e.ID+" is "+string(e.Approval)+", not APPROVED", "entry_id", e.ID)
	}
	return nil
}

// Reversal returns the entry that cancels e: the same fields with hours (or the amount) negated,
// approved and pending posting. It carries no external reference (the original keeps it).
func (e Entry) Reversal(id string, now time.Time) Entry {
	in := e.Input
	in.Ref = nil
	in.Hours = in.Hours.Neg()
	in.Amount.Value = in.Amount.Value.Neg()
	r := NewApproved(id, in, e.TimesheetID, now)
	r.ReversesID = e.ID
	return r
}

// Replacement returns the input of the entry that replaces e after a correction. Time entries
// take the corrected input as it is. An expense keeps its amount, currency, category and receipt
// (the correction moves it to another project, task, date or billability); hours do not apply.
// The external reference stays with the original when the input repeats it.
func (e Entry) Replacement(corrected Input) Input {
	if e.Kind == Expense {
		corrected.Kind = Expense
		corrected.Hours = decimal.Zero
		corrected.Amount, corrected.Category, corrected.Receipt = e.Amount, e.Category, e.Receipt
	} else {
		corrected.Kind = Time
	}
	if corrected.Ref != nil && e.Ref != nil && *corrected.Ref == *e.Ref {
		corrected.Ref = nil
	}
	return corrected
}

// EntryFilter selects entries for listing; empty fields select all.
type EntryFilter struct {
	ResourceID, ProjectID string
	Posting               PostingStatus
	// LegalEntities restricts the entries to projects of these legal entities; nil means any.
	LegalEntities []string
}
