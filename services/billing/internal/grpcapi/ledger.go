package grpcapi

import (
	"context"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Ledger implements accrue.billing.v1.LedgerService over the same use cases.
type Ledger struct {
	billingv1.UnimplementedLedgerServiceServer
	*Server
}

// NewLedger returns the ledger service.
func NewLedger(s *Server) *Ledger { return &Ledger{Server: s} }

func period(p store.Period) *billingv1.Period {
	return wire.Period(p.LegalEntityID, p.Period, p.Status, p.ChangedBy, p.ChangedAt)
}

func (l *Ledger) OpenPeriod(ctx context.Context, req *billingv1.OpenPeriodRequest) (*billingv1.OpenPeriodResponse, error) {
	p, err := l.app.SetPeriod(ctx, req.GetLegalEntityId(), req.GetPeriod(), false)
	if err != nil {
		return nil, err
	}
	return &billingv1.OpenPeriodResponse{Period: period(p)}, nil
}

func (l *Ledger) ClosePeriod(ctx context.Context, req *billingv1.ClosePeriodRequest) (*billingv1.ClosePeriodResponse, error) {
	p, err := l.app.SetPeriod(ctx, req.GetLegalEntityId(), req.GetPeriod(), true)
	if err != nil {
		return nil, err
	}
	return &billingv1.ClosePeriodResponse{Period: period(p)}, nil
}

func (l *Ledger) ListPeriods(ctx context.Context, req *billingv1.ListPeriodsRequest) (*billingv1.ListPeriodsResponse, error) {
	list, err := l.app.ListPeriods(ctx, req.GetLegalEntityId())
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListPeriodsResponse{}
	for _, p := range list {
		resp.Periods = append(resp.Periods, period(p))
	}
	return resp, nil
}

var accountTypes = map[string]billingv1.AccountType{"ASSET": billingv1.AccountType_ACCOUNT_TYPE_ASSET,
	"LIABILITY": billingv1.AccountType_ACCOUNT_TYPE_LIABILITY, "EQUITY": billingv1.AccountType_ACCOUNT_TYPE_EQUITY,
	"REVENUE": billingv1.AccountType_ACCOUNT_TYPE_REVENUE, "EXPENSE": billingv1.AccountType_ACCOUNT_TYPE_EXPENSE}

func (l *Ledger) ListAccounts(ctx context.Context, req *billingv1.ListAccountsRequest) (*billingv1.ListAccountsResponse, error) {
	list, err := l.app.ListAccounts(ctx, req.GetLegalEntityId())
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListAccountsResponse{}
	for _, a := range list {
		resp.Accounts = append(resp.Accounts, &billingv1.Account{Code: a.Code, Name: a.Name, Type: accountTypes[a.Type]})
	}
	return resp, nil
}

func (l *Ledger) GetTrialBalance(ctx context.Context, req *billingv1.GetTrialBalanceRequest) (*billingv1.GetTrialBalanceResponse, error) {
	lines, cur, err := l.app.TrialBalance(ctx, req.GetLegalEntityId(), req.GetPeriod())
	if err != nil {
		return nil, err
	}
	m := func(v decimal.Decimal) *commonv1.Money { return wire.MoneyProto(money.Amount{Value: v, Currency: cur}) }
	resp := &billingv1.GetTrialBalanceResponse{}
	td, tc := decimal.Zero, decimal.Zero
	for _, b := range lines {
		resp.Lines = append(resp.Lines, &billingv1.TrialBalanceLine{AccountCode: b.Code, AccountName: b.Name, Debit: m(b.Debit),
			Credit: m(b.Credit), Balance: m(b.Debit.Sub(b.Credit))})
		td, tc = td.Add(b.Debit), tc.Add(b.Credit)
	}
	resp.TotalDebit, resp.TotalCredit, resp.Balanced = m(td), m(tc), td.Equal(tc)
	return resp, nil
}

func (l *Ledger) ListJournalEntries(ctx context.Context, req *billingv1.ListJournalEntriesRequest) (*billingv1.ListJournalEntriesResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := l.app.JournalEntries(ctx, store.JournalFilter{LegalEntityID: req.GetLegalEntityId(), ProjectID: req.GetProjectId(),
		SourceID: req.GetSourceId(), AfterID: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListJournalEntriesResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
	for _, e := range list {
		pe := &billingv1.JournalEntry{JournalEntryId: e.ID, LegalEntityId: e.LegalEntityID, PostingDate: civilpb.To(e.PostingDate),
			SourceDate: civilpb.To(e.SourceDate), SourceType: e.SourceType, SourceId: e.SourceID, SourceVersion: e.SourceVersion,
			ReversesJournalEntryId: e.ReversesID, Description: e.Description, CreateTime: timestamppb.New(e.CreatedAt)}
		for _, ln := range e.Lines {
			pe.Lines = append(pe.Lines, &billingv1.JournalLine{AccountCode: ln.Account, ProjectId: ln.ProjectID, TaskId: ln.TaskID,
				Debit: wire.MoneyProto(money.Amount{Value: ln.Debit, Currency: e.Currency}), Credit: wire.MoneyProto(money.Amount{Value: ln.Credit, Currency: e.Currency}),
				TransactionAmount: wire.MoneyProto(ln.Txn), ExchangeRate: ln.FXRate.String(), RateDate: civilpb.To(ln.RateDate)})
		}
		resp.Entries = append(resp.Entries, pe)
	}
	return resp, nil
}

var candidateStatuses = map[string]billingv1.CandidateStatus{"OPEN": billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN,
	"INVOICED": billingv1.CandidateStatus_CANDIDATE_STATUS_INVOICED, "REVERSED": billingv1.CandidateStatus_CANDIDATE_STATUS_REVERSED}

func (l *Ledger) ListInvoiceCandidates(ctx context.Context, req *billingv1.ListInvoiceCandidatesRequest) (*billingv1.ListInvoiceCandidatesResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	after, _, err := paging.DecodeID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, err := l.app.Candidates(ctx, req.GetProjectId(), req.GetSourceId(), after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &billingv1.ListInvoiceCandidatesResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = paging.Encode(list[size-1].ID, "")
	}
	for _, c := range list {
		pc := &billingv1.InvoiceCandidate{CandidateId: c.ID, ProjectId: c.ProjectID, ContractId: c.ContractID, ContractLineKey: c.LineKey,
			SourceType: c.SourceType, SourceId: c.SourceID, SourceDate: civilpb.To(c.SourceDate), Quantity: c.Quantity.String(),
			UnitPrice: wire.MoneyProto(money.Amount{Value: c.UnitPrice, Currency: c.Currency}),
			Amount:    wire.MoneyProto(money.Amount{Value: c.Amount, Currency: c.Currency}), Status: candidateStatuses[c.Status]}
		if c.Markup != nil {
			pc.MarkupPercent = c.Markup.String()
		}
		resp.Candidates = append(resp.Candidates, pc)
	}
	return resp, nil
}

func (l *Ledger) SetExchangeRate(ctx context.Context, req *billingv1.SetExchangeRateRequest) (*billingv1.SetExchangeRateResponse, error) {
	if !money.KnownCurrency(req.GetFromCurrency()) || !money.KnownCurrency(req.GetToCurrency()) {
		return nil, fault.Invalidf(money.ReasonUnknownCurrency, "from_currency", "both currencies must be ISO 4217 codes")
	}
	d, err := civilpb.From(req.GetRateDate(), "rate_date")
	if err != nil {
		return nil, err
	}
	rate, err := decimal.NewFromString(req.GetRate())
	if err != nil || !rate.IsPositive() {
		return nil, fault.Invalidf("INVALID_RATE", "rate", "the rate must be a positive decimal")
	}
	if err := l.app.SetExchangeRate(ctx, req.GetFromCurrency(), req.GetToCurrency(), d, rate); err != nil {
		return nil, err
	}
	return &billingv1.SetExchangeRateResponse{}, nil
}

func (l *Ledger) GetBillingKpis(ctx context.Context, _ *billingv1.GetBillingKpisRequest) (*billingv1.GetBillingKpisResponse, error) {
	k, err := l.app.KPIs(ctx)
	if err != nil {
		return nil, err
	}
	resp := &billingv1.GetBillingKpisResponse{EntriesRejectedClosedPeriod: k.EntriesRejectedClosedPeriod,
		TimesheetsRejectedClosedPeriod: k.TimesheetsRejectedClosedPeriod, PostingsParkedRateMissing: k.ParkedRateMissing,
		JournalEntries: k.JournalEntries}
	for _, a := range k.UnbilledTime {
		resp.UnbilledTime = append(resp.UnbilledTime, wire.MoneyProto(a))
	}
	return resp, nil
}
