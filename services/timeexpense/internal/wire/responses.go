package wire

import (
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// The requests and responses of the gRPC API, one per use case's input and result.

// RecordTimeInput converts a RecordTimeEntry request.
func RecordTimeInput(req *timeexpensev1.RecordTimeEntryRequest) (te.Input, error) {
	return TimeInput(req.GetEntry(), "entry")
}

// RecordTimeResponse answers RecordTimeEntry.
func RecordTimeResponse(e te.Entry) *timeexpensev1.RecordTimeEntryResponse {
	return &timeexpensev1.RecordTimeEntryResponse{Entry: Entry(e)}
}

// RecordExpenseInput converts a RecordExpense request.
func RecordExpenseInput(req *timeexpensev1.RecordExpenseRequest) (te.Input, error) {
	return ExpenseInput(req.GetExpense(), "expense")
}

// RecordExpenseResponse answers RecordExpense.
func RecordExpenseResponse(e te.Entry) *timeexpensev1.RecordExpenseResponse {
	return &timeexpensev1.RecordExpenseResponse{Entry: Entry(e)}
}

// SubmitResponse answers SubmitTimesheet.
func SubmitResponse(t te.Timesheet) *timeexpensev1.SubmitTimesheetResponse {
	return &timeexpensev1.SubmitTimesheetResponse{Timesheet: Timesheet(t)}
}

// ApproveResponse answers ApproveTimesheet.
func ApproveResponse(t te.Timesheet) *timeexpensev1.ApproveTimesheetResponse {
	return &timeexpensev1.ApproveTimesheetResponse{Timesheet: Timesheet(t)}
}

// RejectResponse answers RejectTimesheet.
func RejectResponse(t te.Timesheet) *timeexpensev1.RejectTimesheetResponse {
	return &timeexpensev1.RejectTimesheetResponse{Timesheet: Timesheet(t)}
}

// TimesheetResponse answers GetTimesheet.
func TimesheetResponse(t te.Timesheet) *timeexpensev1.GetTimesheetResponse {
	return &timeexpensev1.GetTimesheetResponse{Timesheet: Timesheet(t)}
}

// EntryResponse answers GetTimeEntry.
func EntryResponse(e te.Entry) *timeexpensev1.GetTimeEntryResponse {
	return &timeexpensev1.GetTimeEntryResponse{Entry: Entry(e)}
}

// KPIsResponse answers GetTimeExpenseKpis.
func KPIsResponse(k te.ClosedPeriodKPIs) *timeexpensev1.GetTimeExpenseKpisResponse {
	count := func(c te.ClosedPeriodCount) *timeexpensev1.ClosedPeriodRefusals {
		return &timeexpensev1.ClosedPeriodRefusals{Entries: c.Entries, Timesheets: c.Timesheets, Hours: c.Hours.String()}
	}
	return &timeexpensev1.GetTimeExpenseKpisResponse{ClosedPeriodRefusedAtRecordTime: count(k.RecordTime),
		ClosedPeriodRejectedAtPosting: count(k.Posting), ClosedPeriodTotal: count(k.Total)}
}
