// Package grpcapi is the time & expense service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
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

func (s *Server) ImportApprovedEntries(ctx context.Context, req *timeexpensev1.ImportApprovedEntriesRequest) (*timeexpensev1.ImportApprovedEntriesResponse, error) {
	sum, err := s.app.Import(ctx, wire.ImportItems(req))
	if err != nil {
		return nil, err
	}
	return wire.ImportResponse(sum), nil
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
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, total, err := s.app.Entries(ctx, wire.EntryFilter(req), page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, wire.EntryPosition)
	return &timeexpensev1.ListTimeEntriesResponse{Entries: wire.Entries(list), NextPageToken: next, TotalCount: total}, nil
}
