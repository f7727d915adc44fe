package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Payments implements accrue.billing.v1.PaymentService over the same use cases.
type Payments struct {
	billingv1.UnimplementedPaymentServiceServer
	*Server
}

// NewPayments returns the payment service.
func NewPayments(s *Server) *Payments { return &Payments{Server: s} }

func (p *Payments) SetPaymentTerms(ctx context.Context, req *billingv1.SetPaymentTermsRequest) (*billingv1.SetPaymentTermsResponse, error) {
	t, err := wire.PaymentTerms(req.GetLegalEntityId(), req.GetPaymentTerms())
	if err != nil {
		return nil, err
	}
	if err := p.app.SetPaymentTerms(ctx, t); err != nil {
		return nil, err
	}
	return &billingv1.SetPaymentTermsResponse{PaymentTerms: wire.PaymentTermsProto(t)}, nil
}

func (p *Payments) ListPaymentTerms(ctx context.Context, req *billingv1.ListPaymentTermsRequest) (*billingv1.ListPaymentTermsResponse, error) {
	terms, policy, err := p.app.PaymentTerms(ctx, req.GetLegalEntityId())
	if err != nil {
		return nil, err
	}
	return &billingv1.ListPaymentTermsResponse{PaymentTerms: wire.Each(terms, wire.PaymentTermsProto), Policy: wire.ReceivablesPolicyProto(policy)}, nil
}

func (p *Payments) SetReceivablesPolicy(ctx context.Context, req *billingv1.SetReceivablesPolicyRequest) (*billingv1.SetReceivablesPolicyResponse, error) {
	pol, err := wire.ReceivablesPolicy(req.GetLegalEntityId(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	if err := p.app.SetReceivablesPolicy(ctx, pol); err != nil {
		return nil, err
	}
	return &billingv1.SetReceivablesPolicyResponse{Policy: wire.ReceivablesPolicyProto(pol)}, nil
}

func (p *Payments) RecordPayment(ctx context.Context, req *billingv1.RecordPaymentRequest) (*billingv1.RecordPaymentResponse, error) {
	in, err := wire.RecordPayment(req)
	if err != nil {
		return nil, err
	}
	pay, replayed, err := p.app.RecordPayment(ctx, in)
	if err != nil {
		return nil, err
	}
	return &billingv1.RecordPaymentResponse{Payment: wire.PaymentProto(pay), Replayed: replayed}, nil
}

func (p *Payments) GetPayment(ctx context.Context, req *billingv1.GetPaymentRequest) (*billingv1.GetPaymentResponse, error) {
	pay, err := p.app.Payment(ctx, req.GetPaymentId())
	if err != nil {
		return nil, err
	}
	return &billingv1.GetPaymentResponse{Payment: wire.PaymentProto(pay)}, nil
}

func (p *Payments) ApplyPayment(ctx context.Context, req *billingv1.ApplyPaymentRequest) (*billingv1.ApplyPaymentResponse, error) {
	allocs, err := wire.Allocations(req.GetAllocations())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.ApplyPaymentResponse)(p.app.ApplyPayment(ctx, req.GetPaymentId(), req.GetApplicationId(), allocs))
}

func (p *Payments) RefundPayment(ctx context.Context, req *billingv1.RefundPaymentRequest) (*billingv1.RefundPaymentResponse, error) {
	amt, d, err := wire.RefundPayment(req)
	if err != nil {
		return nil, err
	}
	r, pay, replayed, err := p.app.RefundPayment(ctx, req.GetPaymentId(), amt, d, req.GetReference())
	if err != nil {
		return nil, err
	}
	return &billingv1.RefundPaymentResponse{Refund: wire.RefundProto(r), Payment: wire.PaymentProto(pay), Replayed: replayed}, nil
}

func (p *Payments) GetArAging(ctx context.Context, req *billingv1.GetArAgingRequest) (*billingv1.GetArAgingResponse, error) {
	asOf, err := civilpb.From(req.GetAsOf(), "as_of")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.AgingResponse)(p.app.ArAging(ctx, req.GetLegalEntityId(), asOf))
}

func (p *Payments) GetCustomerStatement(ctx context.Context, req *billingv1.GetCustomerStatementRequest) (*billingv1.GetCustomerStatementResponse, error) {
	from, err := civilpb.From(req.GetFrom(), "from")
	if err != nil {
		return nil, err
	}
	to, err := civilpb.From(req.GetTo(), "to")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.StatementResponse)(p.app.CustomerStatement(ctx, req.GetLegalEntityId(), req.GetCustomerId(), from, to))
}
