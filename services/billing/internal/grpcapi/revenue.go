package grpcapi

import (
	"context"

	"google.golang.org/genproto/googleapis/api/httpbody"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Revenue implements accrue.billing.v1.RevenueService over the same use cases.
type Revenue struct {
	billingv1.UnimplementedRevenueServiceServer
	*Server
}

// NewRevenue returns the revenue service.
func NewRevenue(s *Server) *Revenue { return &Revenue{Server: s} }

func (r *Revenue) RecognizeRevenue(ctx context.Context, req *billingv1.RecognizeRevenueRequest) (*billingv1.RecognizeRevenueResponse, error) {
	return grpcx.Reply2(wire.RecognizeRevenueResponse)(r.app.RecognizeRevenue(ctx, req.GetLegalEntityId(), req.GetPeriod(), req.GetDryRun()))
}

func (r *Revenue) SetRevenueEstimate(ctx context.Context, req *billingv1.SetRevenueEstimateRequest) (*billingv1.SetRevenueEstimateResponse, error) {
	e, err := wire.RevenueEstimate(req)
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.SetRevenueEstimateResponse)(r.app.SetRevenueEstimate(ctx, e))
}

func (r *Revenue) GetContractPositions(ctx context.Context, req *billingv1.GetContractPositionsRequest) (*billingv1.GetContractPositionsResponse, error) {
	asOf, err := wire.AsOf(req.GetAsOf())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.ContractPositionsResponse)(r.app.ContractPositions(ctx, req.GetLegalEntityId(), req.GetContractId(), asOf))
}

func (r *Revenue) GetCloseChecklist(ctx context.Context, req *billingv1.GetCloseChecklistRequest) (*billingv1.GetCloseChecklistResponse, error) {
	return grpcx.Reply(wire.Checklist)(r.app.CloseChecklist(ctx, req.GetLegalEntityId(), req.GetPeriod()))
}

func (r *Revenue) WaiveCloseItem(ctx context.Context, req *billingv1.WaiveCloseItemRequest) (*billingv1.WaiveCloseItemResponse, error) {
	return grpcx.Reply(wire.WaiveCloseItemResponse)(r.app.WaiveCloseItem(ctx, req.GetLegalEntityId(), req.GetPeriod(), req.GetItem(), req.GetReason()))
}

func (r *Revenue) SoftClosePeriod(ctx context.Context, req *billingv1.SoftClosePeriodRequest) (*billingv1.SoftClosePeriodResponse, error) {
	return grpcx.Reply(wire.SoftClosePeriodResponse)(r.app.SoftClosePeriod(ctx, req.GetLegalEntityId(), req.GetPeriod()))
}

func (r *Revenue) ReopenPeriod(ctx context.Context, req *billingv1.ReopenPeriodRequest) (*billingv1.ReopenPeriodResponse, error) {
	return grpcx.Reply(wire.ReopenPeriodResponse)(r.app.ReopenPeriod(ctx, req.GetLegalEntityId(), req.GetPeriod(), req.GetReason()))
}

func (r *Revenue) GetRevenueReport(ctx context.Context, req *billingv1.GetRevenueReportRequest) (*billingv1.GetRevenueReportResponse, error) {
	return grpcx.Reply(wire.RevenueReportResponse)(r.app.RevenueReport(ctx, req.GetLegalEntityId(), req.GetFromPeriod(), req.GetToPeriod()))
}

func (r *Revenue) ExportRevenueReport(ctx context.Context, req *billingv1.ExportRevenueReportRequest) (*httpbody.HttpBody, error) {
	return grpcx.Reply(wire.RevenueReportCSV)(r.app.RevenueReport(ctx, req.GetLegalEntityId(), req.GetFromPeriod(), req.GetToPeriod()))
}
