package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Invoices implements accrue.billing.v1.InvoiceService over the same use cases.
type Invoices struct {
	billingv1.UnimplementedInvoiceServiceServer
	*Server
}

// NewInvoices returns the invoice service.
func NewInvoices(s *Server) *Invoices { return &Invoices{Server: s} }

func (i *Invoices) ProposeInvoice(ctx context.Context, req *billingv1.ProposeInvoiceRequest) (*billingv1.ProposeInvoiceResponse, error) {
	cutOff, err := civilpb.From(req.GetCutOff(), "cut_off")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.ProposeInvoiceResponse)(i.app.ProposeInvoice(ctx, req.GetContractId(), cutOff))
}

func (i *Invoices) ProposeInvoices(ctx context.Context, req *billingv1.ProposeInvoicesRequest) (*billingv1.ProposeInvoicesResponse, error) {
	cutOff, err := civilpb.From(req.GetCutOff(), "cut_off")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.ProposeInvoicesResponse)(i.app.ProposeInvoices(ctx, req.GetLegalEntityId(), cutOff, req.GetContractIds()))
}

func (i *Invoices) GetInvoice(ctx context.Context, req *billingv1.GetInvoiceRequest) (*billingv1.GetInvoiceResponse, error) {
	inv, standing, err := i.app.InvoiceWithStanding(ctx, req.GetInvoiceId())
	if err != nil {
		return nil, err
	}
	return &billingv1.GetInvoiceResponse{Invoice: wire.InvoiceWithStanding(inv, standing)}, nil
}

func (i *Invoices) PostInvoice(ctx context.Context, req *billingv1.PostInvoiceRequest) (*billingv1.PostInvoiceResponse, error) {
	d, err := civilpb.From(req.GetIssueDate(), "issue_date")
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.PostInvoiceResponse)(i.app.PostInvoice(ctx, req.GetInvoiceId(), d))
}

func (i *Invoices) VoidInvoice(ctx context.Context, req *billingv1.VoidInvoiceRequest) (*billingv1.VoidInvoiceResponse, error) {
	return grpcx.Reply(wire.VoidInvoiceResponse)(i.app.VoidInvoice(ctx, req.GetInvoiceId()))
}

func (i *Invoices) CreditInvoice(ctx context.Context, req *billingv1.CreditInvoiceRequest) (*billingv1.CreditInvoiceResponse, error) {
	d, err := civilpb.From(req.GetIssueDate(), "issue_date")
	if err != nil {
		return nil, err
	}
	lines, err := wire.CreditRequests(req.GetLines())
	if err != nil {
		return nil, err
	}
	return grpcx.Reply(wire.CreditInvoiceResponse)(i.app.CreditInvoice(ctx, req.GetInvoiceId(), lines, d))
}

func (i *Invoices) SetTaxRate(ctx context.Context, req *billingv1.SetTaxRateRequest) (*billingv1.SetTaxRateResponse, error) {
	r, err := wire.TaxRate(req.GetLegalEntityId(), req.GetTaxRate())
	if err != nil {
		return nil, err
	}
	if err := i.app.SetTaxRate(ctx, r); err != nil {
		return nil, err
	}
	return &billingv1.SetTaxRateResponse{TaxRate: wire.TaxRateProto(r)}, nil
}

func (i *Invoices) ListTaxRates(ctx context.Context, req *billingv1.ListTaxRatesRequest) (*billingv1.ListTaxRatesResponse, error) {
	return grpcx.Reply(wire.ListTaxRatesResponse)(i.app.TaxRates(ctx, req.GetLegalEntityId()))
}

func (i *Invoices) ListTaxBlockedInvoices(ctx context.Context, req *billingv1.ListTaxBlockedInvoicesRequest) (*billingv1.ListTaxBlockedInvoicesResponse, error) {
	return grpcx.Reply(wire.ListTaxBlockedInvoicesResponse)(i.app.TaxExceptions(ctx, req.GetLegalEntityId()))
}

func (i *Invoices) ListOverCap(ctx context.Context, req *billingv1.ListOverCapRequest) (*billingv1.ListOverCapResponse, error) {
	return grpcx.Reply(wire.ListOverCapResponse)(i.app.OverCap(ctx, req.GetContractId()))
}

func (i *Invoices) WriteOffOverCap(ctx context.Context, req *billingv1.WriteOffOverCapRequest) (*billingv1.WriteOffOverCapResponse, error) {
	d, err := civilpb.From(req.GetPostingDate(), "posting_date")
	if err != nil {
		return nil, err
	}
	w, err := i.app.WriteOffOverCap(ctx, req.GetContractId(), req.GetLineKey(), d)
	if err != nil {
		return nil, err
	}
	return wire.WriteOffOverCapResponse(w.Lines, w.Total, w.JournalEntryID), nil
}
