// Package grpcapi is the time & expense service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"
	"strconv"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// Server implements TimeExpenseService.
type Server struct {
	timeexpensev1.UnimplementedTimeExpenseServiceServer
	app *app.Service
}

// New returns the gRPC server over the use cases.
func New(a *app.Service) *Server {
	if a == nil {
		panic("grpcapi: New needs the use cases")
	}
	return &Server{app: a}
}

func (s *Server) RecordTimeEntry(ctx context.Context, req *timeexpensev1.RecordTimeEntryRequest) (*timeexpensev1.RecordTimeEntryResponse, error) {
	in, err := wire.TimeInput(req.GetEntry(), "entry")
	if err != nil {
		return nil, err
	}
	e, err := s.app.Record(ctx, in)
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.RecordTimeEntryResponse{Entry: wire.Entry(e)}, nil
}

func (s *Server) RecordExpense(ctx context.Context, req *timeexpensev1.RecordExpenseRequest) (*timeexpensev1.RecordExpenseResponse, error) {
	in, err := wire.ExpenseInput(req.GetExpense(), "expense")
	if err != nil {
		return nil, err
	}
	e, err := s.app.Record(ctx, in)
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.RecordExpenseResponse{Entry: wire.Entry(e)}, nil
}

func (s *Server) SubmitTimesheet(ctx context.Context, req *timeexpensev1.SubmitTimesheetRequest) (*timeexpensev1.SubmitTimesheetResponse, error) {
	t, err := s.app.Submit(ctx, wire.ID(req.GetTimesheetId()))
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.SubmitTimesheetResponse{Timesheet: wire.Timesheet(t)}, nil
}

func (s *Server) ApproveTimesheet(ctx context.Context, req *timeexpensev1.ApproveTimesheetRequest) (*timeexpensev1.ApproveTimesheetResponse, error) {
	t, err := s.app.Approve(ctx, wire.ID(req.GetTimesheetId()))
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.ApproveTimesheetResponse{Timesheet: wire.Timesheet(t)}, nil
}

func (s *Server) RejectTimesheet(ctx context.Context, req *timeexpensev1.RejectTimesheetRequest) (*timeexpensev1.RejectTimesheetResponse, error) {
	t, err := s.app.Reject(ctx, wire.ID(req.GetTimesheetId()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.RejectTimesheetResponse{Timesheet: wire.Timesheet(t)}, nil
}

func (s *Server) GetTimesheet(ctx context.Context, req *timeexpensev1.GetTimesheetRequest) (*timeexpensev1.GetTimesheetResponse, error) {
	t, err := s.app.Timesheet(ctx, wire.ID(req.GetTimesheetId()))
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.GetTimesheetResponse{Timesheet: wire.Timesheet(t)}, nil
}

var outcomes = map[app.ImportOutcome]timeexpensev1.ImportOutcome{
	app.ImportAccepted:  timeexpensev1.ImportOutcome_IMPORT_OUTCOME_ACCEPTED,
	app.ImportDuplicate: timeexpensev1.ImportOutcome_IMPORT_OUTCOME_DUPLICATE,
	app.ImportRejected:  timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED,
}

func (s *Server) ImportApprovedEntries(ctx context.Context, req *timeexpensev1.ImportApprovedEntriesRequest) (*timeexpensev1.ImportApprovedEntriesResponse, error) {
	items := make([]app.ImportItem, len(req.GetItems()))
	for i, it := range req.GetItems() {
		field := "items[" + strconv.Itoa(i) + "]"
		if t := it.GetTime(); t != nil {
			items[i].Input, items[i].Err = wire.TimeInput(t, field+".time")
		} else {
			items[i].Input, items[i].Err = wire.ExpenseInput(it.GetExpense(), field+".expense")
		}
	}
	sum, err := s.app.Import(ctx, items)
	if err != nil {
		return nil, err
	}
	resp := &timeexpensev1.ImportApprovedEntriesResponse{Results: make([]*timeexpensev1.ImportResult, len(sum.Results)),
		Accepted: int32(sum.Accepted), Duplicates: int32(sum.Duplicates), Rejected: int32(sum.Rejected)}
	for i, r := range sum.Results {
		resp.Results[i] = &timeexpensev1.ImportResult{Index: int32(r.Index), ExternalId: r.ExternalID, Outcome: outcomes[r.Outcome],
			EntryId: r.EntryID, Reason: r.Reason, Message: r.Message}
	}
	return resp, nil
}

func (s *Server) CorrectTimeEntry(ctx context.Context, req *timeexpensev1.CorrectTimeEntryRequest) (*timeexpensev1.CorrectTimeEntryResponse, error) {
	in, err := wire.TimeInput(req.GetEntry(), "entry")
	if err != nil {
		return nil, err
	}
	c, err := s.app.Correct(ctx, wire.ID(req.GetEntryId()), in, req.GetReason())
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.CorrectTimeEntryResponse{Reversal: wire.Entry(c.Reversal), Replacement: wire.Entry(c.Replacement)}, nil
}

func (s *Server) GetTimeEntry(ctx context.Context, req *timeexpensev1.GetTimeEntryRequest) (*timeexpensev1.GetTimeEntryResponse, error) {
	e, err := s.app.Entry(ctx, wire.ID(req.GetEntryId()))
	if err != nil {
		return nil, err
	}
	return &timeexpensev1.GetTimeEntryResponse{Entry: wire.Entry(e)}, nil
}

func (s *Server) ListTimeEntries(ctx context.Context, req *timeexpensev1.ListTimeEntriesRequest) (*timeexpensev1.ListTimeEntriesResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, total, err := s.app.Entries(ctx, store.EntryFilter{ResourceID: wire.ID(req.GetResourceId()), ProjectID: wire.ID(req.GetProjectId()),
		Posting: wire.Posting(req.GetPostingStatus()), AfterID: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	resp := &timeexpensev1.ListTimeEntriesResponse{TotalCount: total}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
	resp.Entries = wire.Entries(list)
	return resp, nil
}
