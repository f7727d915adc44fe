package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Ledger implements accrue.billing.v1.LedgerService over the same use cases.
type Ledger struct {
	billingv1.UnimplementedLedgerServiceServer
	*Server
}

// NewLedger returns the ledger service.
func NewLedger(s *Server) *Ledger { return &Ledger{Server: s} }

func (l *Ledger) OpenPeriod(ctx context.Context, req *billingv1.OpenPeriodRequest) (*billingv1.OpenPeriodResponse, error) {
	return grpcx.Reply(wire.OpenPeriodResponse)(l.app.OpenPeriod(ctx, req.GetLegalEntityId(), req.GetPeriod()))
}

func (l *Ledger) ClosePeriod(ctx context.Context, req *billingv1.ClosePeriodRequest) (*billingv1.ClosePeriodResponse, error) {
	return grpcx.Reply(wire.ClosePeriodResponse)(l.app.ClosePeriod(ctx, req.GetLegalEntityId(), req.GetPeriod()))
}

func (l *Ledger) ListPeriods(ctx context.Context, req *billingv1.ListPeriodsRequest) (*billingv1.ListPeriodsResponse, error) {
	return grpcx.Reply(wire.PeriodsResponse)(l.app.ListPeriods(ctx, req.GetLegalEntityId()))
}

func (l *Ledger) ListAccounts(ctx context.Context, req *billingv1.ListAccountsRequest) (*billingv1.ListAccountsResponse, error) {
	return grpcx.Reply(wire.AccountsResponse)(l.app.ListAccounts(ctx, req.GetLegalEntityId()))
}

func (l *Ledger) GetTrialBalance(ctx context.Context, req *billingv1.GetTrialBalanceRequest) (*billingv1.GetTrialBalanceResponse, error) {
	return grpcx.Reply(wire.TrialBalance)(l.app.TrialBalance(ctx, req.GetLegalEntityId(), req.GetPeriod()))
}

func (l *Ledger) ListJournalEntries(ctx context.Context, req *billingv1.ListJournalEntriesRequest) (*billingv1.ListJournalEntriesResponse, error) {
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := l.app.JournalEntries(ctx, ledger.EntryFilter{LegalEntityID: req.GetLegalEntityId(), ProjectID: req.GetProjectId(),
		SourceID: req.GetSourceId()}, page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(e ledger.Entry) (string, string) { return e.ID, "" })
	return &billingv1.ListJournalEntriesResponse{Entries: wire.Each(list, wire.JournalEntry), NextPageToken: next}, nil
}

func (l *Ledger) ListInvoiceCandidates(ctx context.Context, req *billingv1.ListInvoiceCandidatesRequest) (*billingv1.ListInvoiceCandidatesResponse, error) {
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := l.app.Candidates(ctx, ledger.CandidateFilter{ProjectID: req.GetProjectId(), SourceID: req.GetSourceId()}, page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(c ledger.Candidate) (string, string) { return c.ID, "" })
	return &billingv1.ListInvoiceCandidatesResponse{Candidates: wire.Each(list, wire.Candidate), NextPageToken: next}, nil
}

func (l *Ledger) ListRebillDecisions(ctx context.Context, req *billingv1.ListRebillDecisionsRequest) (*billingv1.ListRebillDecisionsResponse, error) {
	page, err := paging.ByID(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := l.app.RebillDecisions(ctx, ledger.RebillFilter{ContractID: req.GetContractId(), ProjectID: req.GetProjectId()}, page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Page(page, list, func(r ledger.Rebill) (string, string) { return r.CandidateID, "" })
	return &billingv1.ListRebillDecisionsResponse{Decisions: wire.Each(list, wire.Rebill), NextPageToken: next}, nil
}

func (l *Ledger) SetExchangeRate(ctx context.Context, req *billingv1.SetExchangeRateRequest) (*billingv1.SetExchangeRateResponse, error) {
	r, err := wire.ExchangeRate(req)
	if err != nil {
		return nil, err
	}
	if err := l.app.SetExchangeRate(ctx, r); err != nil {
		return nil, err
	}
	return &billingv1.SetExchangeRateResponse{}, nil
}

func (l *Ledger) GetBillingKpis(ctx context.Context, _ *billingv1.GetBillingKpisRequest) (*billingv1.GetBillingKpisResponse, error) {
	return grpcx.Reply(wire.KPIs)(l.app.KPIs(ctx))
}
