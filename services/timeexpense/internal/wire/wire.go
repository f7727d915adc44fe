// Package wire converts between the time & expense domain and the protobuf contracts: its gRPC
// API (wire.go, imports.go), the events it publishes, and the project and billing events it
// consumes (events.go). It is the only place that knows both.
package wire

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

var statuses = map[te.Status]timeexpensev1.TimesheetStatus{
	te.Draft:     timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT,
	te.Submitted: timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_SUBMITTED,
	te.Approved:  timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED,
	te.Rejected:  timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_REJECTED,
}

var postings = map[te.PostingStatus]timeexpensev1.PostingStatus{
	te.PostingNotApproved:          timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED,
	te.PostingPending:              timeexpensev1.PostingStatus_POSTING_STATUS_PENDING,
	te.PostingPosted:               timeexpensev1.PostingStatus_POSTING_STATUS_POSTED,
	te.PostingRejectedClosedPeriod: timeexpensev1.PostingStatus_POSTING_STATUS_REJECTED_CLOSED_PERIOD,
	te.PostingParkedRateMissing:    timeexpensev1.PostingStatus_POSTING_STATUS_PARKED_RATE_MISSING,
	te.PostingReversed:             timeexpensev1.PostingStatus_POSTING_STATUS_REVERSED,
}

// Posting converts a contract posting status ("" for UNSPECIFIED).
func Posting(p timeexpensev1.PostingStatus) te.PostingStatus {
	for k, v := range postings {
		if v == p {
			return k
		}
	}
	return ""
}

// EntryFilter converts the filter of a list request.
func EntryFilter(req *timeexpensev1.ListTimeEntriesRequest) te.EntryFilter {
	return te.EntryFilter{ResourceID: ID(req.GetResourceId()), ProjectID: ID(req.GetProjectId()), Posting: Posting(req.GetPostingStatus())}
}

// EntryPosition is an entry's position in a list (see paging.Page).
func EntryPosition(e te.Entry) (id, key string) { return e.ID, "" }

// ID normalises a canonical id (the contract accepts upper-case UUIDs; the database returns
// lower case).
func ID(s string) string { return strings.ToLower(s) }

func ref(r *commonv1.ExternalReference) *te.ExternalRef {
	if r == nil {
		return nil
	}
	return &te.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()}
}

func date(p *commonv1.Date, field string) (civil.Date, error) {
	d, err := civilpb.From(p, field)
	if err == nil && d.IsZero() {
		err = fault.Invalidf(civil.ReasonInvalidDate, field, "the date is required")
	}
	return d, err
}

// TimeInput converts a time entry input; field prefixes the names of fields in errors.
func TimeInput(in *timeexpensev1.TimeEntryInput, field string) (te.Input, error) {
	out := te.Input{Kind: te.Time, ResourceID: ID(in.GetResourceId()), ProjectID: ID(in.GetProjectId()), TaskID: ID(in.GetTaskId()),
		Billable: in.GetBillable(), Description: in.GetDescription(), Ref: ref(in.GetExternalReference())}
	var err error
	if out.Date, err = date(in.GetWorkDate(), field+".work_date"); err != nil {
		return out, err
	}
	if out.Hours, err = decimal.NewFromString(in.GetHours()); err != nil {
		return out, te.ErrInvalidHours.With(field + ".hours is not a decimal number of hours").At(field + ".hours")
	}
	return out, nil
}

// ExpenseInput converts an expense input; field prefixes the names of fields in errors.
func ExpenseInput(in *timeexpensev1.ExpenseInput, field string) (te.Input, error) {
	out := te.Input{Kind: te.Expense, ResourceID: ID(in.GetResourceId()), ProjectID: ID(in.GetProjectId()), TaskID: ID(in.GetTaskId()),
		Category: in.GetCategory(), Receipt: in.GetReceiptReference(), Billable: in.GetBillable(), Description: in.GetDescription(),
		Ref: ref(in.GetExternalReference())}
	var err error
	if out.Date, err = date(in.GetExpenseDate(), field+".expense_date"); err != nil {
		return out, err
	}
	out.Amount.Currency = in.GetAmount().GetCurrencyCode()
	if out.Amount.Value, err = money.ParseDecimal(in.GetAmount().GetAmount(), field+".amount.amount"); err != nil {
		return out, err
	}
	return out, nil
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Entry converts a stored entry.
func Entry(e te.Entry) *timeexpensev1.TimeEntry {
	out := &timeexpensev1.TimeEntry{
		EntryId: e.ID, TimesheetId: e.TimesheetID, ResourceId: e.ResourceID, ProjectId: e.ProjectID, TaskId: e.TaskID,
		WorkDate: civilpb.To(e.Date), Billable: e.Billable, Description: e.Description, ApprovalStatus: statuses[e.Approval],
		PostingStatus: postings[e.Posting], PostingReason: e.PostingReason, ReversesEntryId: e.ReversesID,
		ReplacedByEntryId: e.ReplacedByID, Version: e.Version,
		CreateTime: stamp(e.CreatedAt), ApproveTime: stamp(e.ApprovedAt),
	}
	if e.Kind == te.Expense {
		out.Kind = timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE
		out.Amount = &commonv1.Money{Amount: e.Amount.Format(), CurrencyCode: e.Amount.Currency}
		out.Category, out.ReceiptReference = e.Category, e.Receipt
	} else {
		out.Kind = timeexpensev1.EntryKind_ENTRY_KIND_TIME
		out.Hours = e.Hours.StringFixed(2)
	}
	if e.Ref != nil {
		out.ExternalReference = &commonv1.ExternalReference{System: e.Ref.System, ObjectType: e.Ref.ObjectType, ExternalId: e.Ref.ExternalID}
	}
	return out
}

// Entries converts stored entries.
func Entries(list []te.Entry) []*timeexpensev1.TimeEntry {
	out := make([]*timeexpensev1.TimeEntry, len(list))
	for i, e := range list {
		out[i] = Entry(e)
	}
	return out
}

// Timesheet converts a timesheet with its entries.
func Timesheet(t te.Timesheet) *timeexpensev1.Timesheet {
	return &timeexpensev1.Timesheet{TimesheetId: t.ID, ResourceId: t.ResourceID, WeekStart: civilpb.To(t.WeekStart),
		Status: statuses[t.Status], RejectionReason: t.RejectionReason, DecidedBy: t.DecidedBy, Entries: Entries(t.Entries),
		Version: t.Version}
}

// ApprovedEntries converts approved entries for reconciliation: hours of time entries, amounts
// of expenses, and whether a correction reversed them.
func ApprovedEntries(list []te.Entry) []*timeexpensev1.ApprovedEntry {
	out := make([]*timeexpensev1.ApprovedEntry, len(list))
	for i, e := range list {
		a := &timeexpensev1.ApprovedEntry{EntryId: e.ID, ProjectId: e.ProjectID, WorkDate: civilpb.To(e.Date), Billable: e.Billable,
			Reversed: e.ReplacedByID != "" || e.Posting == te.PostingReversed, PostingStatus: postings[e.Posting], ApproveTime: stamp(e.ApprovedAt)}
		if e.Kind == te.Expense {
			a.Kind = timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE
			a.Amount = &commonv1.Money{Amount: e.Amount.Format(), CurrencyCode: e.Amount.Currency}
			a.Hours = "0"
		} else {
			a.Kind = timeexpensev1.EntryKind_ENTRY_KIND_TIME
			a.Hours = e.Hours.String()
		}
		out[i] = a
	}
	return out
}

// MonthRange returns the first and last day of a "YYYY-MM" period (the contract checked its
// form).
func MonthRange(period string) (from, to civil.Date, err error) {
	from, err = civil.Parse(period + "-01")
	if err != nil {
		return civil.Date{}, civil.Date{}, err // the contract's pattern refused it already
	}
	return from, civil.Of(from.Time().AddDate(0, 1, -1)), nil
}
