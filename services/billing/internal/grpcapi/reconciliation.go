package grpcapi

import (
	"context"
	"strings"
	"time"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Reconciliation serves accrue.ops.v1.ReconciliationService.
type Reconciliation struct {
	opsv1.UnimplementedReconciliationServiceServer
	rec *app.Reconciler
}

// NewReconciliation returns the reconciliation service over rec.
func NewReconciliation(rec *app.Reconciler) *Reconciliation {
	if rec == nil {
		panic("grpcapi: NewReconciliation needs a reconciler")
	}
	return &Reconciliation{rec: rec}
}

func (s *Reconciliation) RunReconciliation(ctx context.Context, req *opsv1.RunReconciliationRequest) (*opsv1.RunReconciliationResponse, error) {
	run, err := s.rec.Run(ctx, reconcile.Scope{LegalEntityID: strings.ToLower(req.GetLegalEntityId()), Period: req.GetPeriod()})
	if err != nil {
		return nil, err
	}
	return &opsv1.RunReconciliationResponse{Run: wire.ReconciliationRun(run)}, nil
}

func (s *Reconciliation) GetReconciliationRun(ctx context.Context, req *opsv1.GetReconciliationRunRequest) (*opsv1.GetReconciliationRunResponse, error) {
	run, err := s.rec.GetRun(ctx, strings.ToLower(req.GetRunId()))
	if err != nil {
		return nil, err
	}
	return &opsv1.GetReconciliationRunResponse{Run: wire.ReconciliationRun(run)}, nil
}

func (s *Reconciliation) ListReconciliationRuns(ctx context.Context, req *opsv1.ListReconciliationRunsRequest) (*opsv1.ListReconciliationRunsResponse, error) {
	f := reconcile.Filter{LegalEntityID: strings.ToLower(req.GetLegalEntityId()), Period: req.GetPeriod(), Limit: int(req.GetPageSize())}
	if f.Limit == 0 {
		f.Limit = 20
	}
	if tok := req.GetPageToken(); tok != "" {
		id, key, err := paging.DecodeID(tok)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, key)
		if err != nil {
			return nil, fault.Invalidf(paging.ReasonInvalidToken, "page_token", "the page token is not one this service issued")
		}
		f.BeforeID, f.BeforeTime = id, t
	}
	limit := f.Limit
	f.Limit++
	list, err := s.rec.ListRuns(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &opsv1.ListReconciliationRunsResponse{}
	if len(list) > limit {
		last := list[limit-1]
		resp.NextPageToken = paging.Encode(last.ID, last.FinishedAt.Format(time.RFC3339Nano))
		list = list[:limit]
	}
	resp.Runs = wire.ReconciliationRuns(list)
	return resp, nil
}
