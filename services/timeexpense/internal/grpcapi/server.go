// Package grpcapi is the time & expense service's gRPC transport: requests to use cases and back.
// Errors pass through; the platform maps them to status codes and reasons in one place.
package grpcapi

import (
	"context"
	"time"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
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
func New(a *app.Service) *Server { return &Server{app: grpcx.Need(a)} }

func (s *Server) RecordTimeEntry(ctx context.Context, req *timeexpensev1.RecordTimeEntryRequest) (*timeexpensev1.RecordTimeEntryResponse, error) {
	start := now()
	resp, err := grpcx.Handle(ctx, req, wire.RecordTimeInput, s.app.Record, wire.RecordTimeResponse)
	if err != nil {
		return nil, fault.Under(err, "entry")
	}
	grpcx.SetCreated(ctx, createdSince(resp.GetEntry(), start))
	return resp, nil
}

func (s *Server) RecordExpense(ctx context.Context, req *timeexpensev1.RecordExpenseRequest) (*timeexpensev1.RecordExpenseResponse, error) {
	start := now()
	resp, err := grpcx.Handle(ctx, req, wire.RecordExpenseInput, s.app.Record, wire.RecordExpenseResponse)
	if err != nil {
		return nil, fault.Under(err, "expense")
	}
	grpcx.SetCreated(ctx, createdSince(resp.GetEntry(), start))
	return resp, nil
}

// now is the clock of createdSince, at the use cases' precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// createdSince reports whether e was created by this call (not found by its external reference:
// that one was created before the call began).
func createdSince(e *timeexpensev1.TimeEntry, start time.Time) bool {
	return !e.GetCreateTime().AsTime().Before(start)
}

func (s *Server) SubmitTimesheet(ctx context.Context, req *timeexpensev1.SubmitTimesheetRequest) (*timeexpensev1.SubmitTimesheetResponse, error) {
	return grpcx.Reply(wire.SubmitResponse)(s.app.Submit(ctx, wire.ID(req.GetTimesheetId())))
}

func (s *Server) ApproveTimesheet(ctx context.Context, req *timeexpensev1.ApproveTimesheetRequest) (*timeexpensev1.ApproveTimesheetResponse, error) {
	return grpcx.Reply(wire.ApproveResponse)(s.app.Approve(ctx, wire.ID(req.GetTimesheetId())))
}

func (s *Server) RejectTimesheet(ctx context.Context, req *timeexpensev1.RejectTimesheetRequest) (*timeexpensev1.RejectTimesheetResponse, error) {
	return grpcx.Reply(wire.RejectResponse)(s.app.Reject(ctx, wire.ID(req.GetTimesheetId()), req.GetReason()))
}

func (s *Server) GetTimesheet(ctx context.Context, req *timeexpensev1.GetTimesheetRequest) (*timeexpensev1.GetTimesheetResponse, error) {
	return grpcx.Reply(wire.TimesheetResponse)(s.app.Timesheet(ctx, wire.ID(req.GetTimesheetId())))
}

func (s *Server) ImportApprovedEntries(ctx context.Context, req *timeexpensev1.ImportApprovedEntriesRequest) (*timeexpensev1.ImportApprovedEntriesResponse, error) {
	return grpcx.Reply(wire.ImportResponse)(s.app.Import(ctx, wire.ImportItems(req)))
}

func (s *Server) CorrectTimeEntry(ctx context.Context, req *timeexpensev1.CorrectTimeEntryRequest) (*timeexpensev1.CorrectTimeEntryResponse, error) {
	in, err := wire.TimeInput(req.GetEntry(), "entry")
	if err != nil {
		return nil, err
	}
	c, err := s.app.Correct(ctx, wire.ID(req.GetEntryId()), in, req.GetReason())
	if err != nil {
		return nil, fault.Under(err, "entry")
	}
	grpcx.SetCreated(ctx, true) // a reversal and a replacement
	return &timeexpensev1.CorrectTimeEntryResponse{Reversal: wire.Entry(c.Reversal), Replacement: wire.Entry(c.Replacement)}, nil
}

func (s *Server) GetTimeEntry(ctx context.Context, req *timeexpensev1.GetTimeEntryRequest) (*timeexpensev1.GetTimeEntryResponse, error) {
	return grpcx.Reply(wire.EntryResponse)(s.app.Entry(ctx, wire.ID(req.GetEntryId())))
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

func (s *Server) ListApprovedEntries(ctx context.Context, req *timeexpensev1.ListApprovedEntriesRequest) (*timeexpensev1.ListApprovedEntriesResponse, error) {
	if req.GetPageSize() == 0 {
		req.PageSize = 1000
	}
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	from, to, err := wire.MonthRange(req.GetPeriod())
	if err != nil {
		return nil, err
	}
	list, err := s.app.ApprovedEntries(ctx, wire.ID(req.GetLegalEntityId()), from, to, page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, wire.EntryPosition)
	return &timeexpensev1.ListApprovedEntriesResponse{Entries: wire.ApprovedEntries(list), NextPageToken: next}, nil
}

func (s *Server) GetTimeExpenseKpis(ctx context.Context, _ *timeexpensev1.GetTimeExpenseKpisRequest) (*timeexpensev1.GetTimeExpenseKpisResponse, error) {
	return grpcx.Reply(wire.KPIsResponse)(s.app.ClosedPeriodKPIs(ctx))
}
