package grpcapi

import (
	"context"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

func (s *Server) CreateAssignment(ctx context.Context, req *resourcev1.CreateAssignmentRequest) (*resourcev1.CreateAssignmentResponse, error) {
	a, err := wire.AssignmentInput(req.GetAssignment())
	if err != nil {
		return nil, err
	}
	resp, err := grpcx.Reply2(wire.CreateAssignmentResponse)(s.app.SaveAssignment(ctx, "", 0, a))
	if err != nil {
		return nil, err
	}
	redact(ctx, resp.GetAssignment())
	return resp, nil
}

func (s *Server) UpdateAssignment(ctx context.Context, req *resourcev1.UpdateAssignmentRequest) (*resourcev1.UpdateAssignmentResponse, error) {
	a, err := wire.AssignmentInput(req.GetAssignment())
	if err != nil {
		return nil, err
	}
	resp, err := grpcx.Reply2(wire.UpdateAssignmentResponse)(s.app.SaveAssignment(ctx, req.GetAssignmentId(), req.GetExpectedVersion(), a))
	if err != nil {
		return nil, err
	}
	redact(ctx, resp.GetAssignment())
	return resp, nil
}

func (s *Server) GetAssignment(ctx context.Context, req *resourcev1.GetAssignmentRequest) (*resourcev1.GetAssignmentResponse, error) {
	resp, err := grpcx.Reply(wire.GetAssignmentResponse)(s.app.GetAssignment(ctx, req.GetAssignmentId()))
	if err != nil {
		return nil, err
	}
	redact(ctx, resp.GetAssignment())
	return resp, nil
}

func (s *Server) ListAssignments(ctx context.Context, req *resourcev1.ListAssignmentsRequest) (*resourcev1.ListAssignmentsResponse, error) {
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	f := wire.AssignmentFilter(req)
	f.AfterID, f.Limit = page.AfterID, page.Fetch()
	list, total, err := s.app.ListAssignments(ctx, f)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(a resource.Assignment) (string, string) { return a.ID, "" })
	resp := &resourcev1.ListAssignmentsResponse{Assignments: wire.Assignments(list), TotalCount: total, NextPageToken: next}
	redact(ctx, resp.GetAssignments()...)
	return resp, nil
}
