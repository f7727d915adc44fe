package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// SupplierCost implements accrue.billing.v1.SupplierCostService over the same use cases.
type SupplierCost struct {
	billingv1.UnimplementedSupplierCostServiceServer
	*Server
}

// NewSupplierCost returns the supplier cost service.
func NewSupplierCost(s *Server) *SupplierCost { return &SupplierCost{Server: s} }

func (c *SupplierCost) RecordSupplierBillLine(ctx context.Context, req *billingv1.RecordSupplierBillLineRequest) (*billingv1.RecordSupplierBillLineResponse, error) {
	l, err := wire.SupplierBillLine(req.GetLine())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply2(wire.RecordSupplierBillLineResponse)(c.app.RecordSupplierBillLine(ctx, req.GetLegalEntityId(), l))
}

func (c *SupplierCost) UpsertAllocationRule(ctx context.Context, req *billingv1.UpsertAllocationRuleRequest) (*billingv1.UpsertAllocationRuleResponse, error) {
	r, err := wire.AllocationRule(req.GetRule())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.UpsertAllocationRuleResponse)(c.app.UpsertAllocationRule(ctx, req.GetLegalEntityId(), r))
}

func (c *SupplierCost) GetSupplierCostKpis(ctx context.Context, req *billingv1.GetSupplierCostKpisRequest) (*billingv1.GetSupplierCostKpisResponse, error) {
	return grpcx.Reply(wire.SupplierCostKPIs)(c.app.SupplierCostKPIs(ctx, req.GetLegalEntityId()))
}
