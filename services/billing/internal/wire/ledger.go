package wire

import (
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// PeriodChanged is the period.opened / period.closed payload of legal entity legalEntityID's p.
func PeriodChanged(p ledger.Period, legalEntityID string) *billingv1.PeriodChanged {
	return &billingv1.PeriodChanged{Period: Period(p), CrossIds: &commonv1.CrossSystemIds{LegalEntityId: legalEntityID}}
}

// Period converts a period of a legal entity.
func Period(p ledger.Period) *billingv1.Period {
	start, end := p.Dates()
	st := billingv1.PeriodStatus_PERIOD_STATUS_OPEN
	switch p.Status {
	case ledger.PeriodClosed:
		st = billingv1.PeriodStatus_PERIOD_STATUS_CLOSED
	case ledger.PeriodSoftClosed:
		st = billingv1.PeriodStatus_PERIOD_STATUS_SOFT_CLOSED
	}
	return &billingv1.Period{LegalEntityId: p.LegalEntityID, Period: p.Period, StartDate: civilpb.To(start), EndDate: civilpb.To(end),
		Status: st, ChangeTime: timestamppb.New(p.ChangedAt), ChangedBy: p.ChangedBy}
}

var accountTypes = map[string]billingv1.AccountType{"ASSET": billingv1.AccountType_ACCOUNT_TYPE_ASSET,
	"LIABILITY": billingv1.AccountType_ACCOUNT_TYPE_LIABILITY, "EQUITY": billingv1.AccountType_ACCOUNT_TYPE_EQUITY,
	"REVENUE": billingv1.AccountType_ACCOUNT_TYPE_REVENUE, "EXPENSE": billingv1.AccountType_ACCOUNT_TYPE_EXPENSE}

// Account converts an account of the chart.
func Account(a ledger.Account) *billingv1.Account {
	return &billingv1.Account{Code: a.Code, Name: a.Name, Type: accountTypes[a.Type]}
}

// TrialBalance converts a trial balance, with its totals.
func TrialBalance(tb ledger.TrialBalance) *billingv1.GetTrialBalanceResponse {
	m := func(v decimal.Decimal) *commonv1.Money {
		return moneyProto(money.Amount{Value: v, Currency: tb.Currency})
	}
	resp := &billingv1.GetTrialBalanceResponse{}
	for _, b := range tb.Lines {
		resp.Lines = append(resp.Lines, &billingv1.TrialBalanceLine{AccountCode: b.Code, AccountName: b.Name, Debit: m(b.Debit),
			Credit: m(b.Credit), Balance: m(b.Balance())})
	}
	debit, credit, balanced := tb.Totals()
	resp.TotalDebit, resp.TotalCredit, resp.Balanced = m(debit), m(credit), balanced
	return resp
}

// JournalEntry converts a stored journal entry.
func JournalEntry(e ledger.Entry) *billingv1.JournalEntry {
	pe := &billingv1.JournalEntry{JournalEntryId: e.ID, LegalEntityId: e.LegalEntityID, PostingDate: civilpb.To(e.PostingDate),
		SourceDate: civilpb.To(e.SourceDate), SourceType: e.SourceType, SourceId: e.SourceID, SourceVersion: e.SourceVersion,
		ReversesJournalEntryId: e.ReversesID, Description: e.Description, CreateTime: timestamppb.New(e.CreatedAt)}
	for _, l := range e.Lines {
		pe.Lines = append(pe.Lines, &billingv1.JournalLine{AccountCode: l.Account, ProjectId: l.ProjectID, TaskId: l.TaskID,
			Debit: moneyProto(money.Amount{Value: l.Debit, Currency: e.Currency}), Credit: moneyProto(money.Amount{Value: l.Credit, Currency: e.Currency}),
			TransactionAmount: moneyProto(l.TxnAmount), ExchangeRate: l.FXRate.String(), RateDate: civilpb.To(l.RateDate)})
	}
	return pe
}

var candidateStatuses = map[ledger.CandidateStatus]billingv1.CandidateStatus{
	ledger.CandidateOpen:     billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN,
	ledger.CandidateInvoiced: billingv1.CandidateStatus_CANDIDATE_STATUS_INVOICED,
	ledger.CandidateReversed: billingv1.CandidateStatus_CANDIDATE_STATUS_REVERSED,
}

// Candidate converts an invoice candidate.
func Candidate(c ledger.Candidate) *billingv1.InvoiceCandidate {
	pc := &billingv1.InvoiceCandidate{CandidateId: c.ID, ProjectId: c.ProjectID, ContractId: c.ContractID, ContractLineKey: c.LineKey,
		SourceType: c.SourceType, SourceId: c.SourceID, SourceDate: civilpb.To(c.SourceDate), Quantity: c.Quantity.String(),
		UnitPrice: moneyProto(c.UnitPrice), Amount: moneyProto(c.Amount), Status: candidateStatuses[c.Status]}
	if c.Markup != nil {
		pc.MarkupPercent = c.Markup.String()
	}
	return pc
}

// KPIs converts billing's KPIs.
func KPIs(k ledger.KPIs) *billingv1.GetBillingKpisResponse {
	resp := &billingv1.GetBillingKpisResponse{EntriesRejectedClosedPeriod: k.EntriesRejectedClosedPeriod,
		TimesheetsRejectedClosedPeriod: k.TimesheetsRejectedClosedPeriod, PostingsParkedRateMissing: k.ParkedRateMissing,
		JournalEntries: k.JournalEntries, InvoicesBlockedTax: k.InvoicesBlockedTax, LossContracts: k.LossContracts}
	for _, a := range k.UnbilledTime {
		resp.UnbilledTime = append(resp.UnbilledTime, moneyProto(a))
	}
	return resp
}

// ExchangeRate converts a request to set an exchange rate (ledger.ExchangeRate.Validate checks
// it).
func ExchangeRate(req *billingv1.SetExchangeRateRequest) (ledger.ExchangeRate, error) {
	r := ledger.ExchangeRate{From: req.GetFromCurrency(), To: req.GetToCurrency()}
	var err error
	if r.Date, err = civilpb.From(req.GetRateDate(), "rate_date"); err != nil {
		return r, err
	}
	if r.Rate, err = decimal.NewFromString(req.GetRate()); err != nil {
		return r, fault.Invalidf(ledger.ReasonInvalidRate, "rate", "the rate must be a positive decimal")
	}
	return r, nil
}

var postingOutcomes = map[ledger.Outcome]billingv1.PostingOutcome{
	ledger.Posted:               billingv1.PostingOutcome_POSTING_OUTCOME_POSTED,
	ledger.RejectedClosedPeriod: billingv1.PostingOutcome_POSTING_OUTCOME_REJECTED_CLOSED_PERIOD,
	ledger.Parked:               billingv1.PostingOutcome_POSTING_OUTCOME_PARKED_RATE_MISSING,
	ledger.Reversed:             billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED,
}

// PostingsRecorded is the event of a posted batch: one result per source, and for a reversal
// also one for the original it cancels (zero hours and amounts).
func PostingsRecorded(results []ledger.Result) *billingv1.PostingsRecorded {
	ev := &billingv1.PostingsRecorded{}
	for _, r := range results {
		ev.Results = append(ev.Results, postingResult(r))
		if r.Outcome == ledger.Reversed && r.ReversedCandidateOf != "" {
			orig := postingResult(r)
			orig.SourceId, orig.SourceVersion, orig.JournalEntryId = r.ReversedCandidateOf, r.ReversedVersion, ""
			orig.Hours, orig.BillableHours = "0", "0"
			orig.Cost, orig.Revenue = moneyProto(money.Zero(r.Cost.Currency)), moneyProto(money.Zero(r.Revenue.Currency))
			ev.Results = append(ev.Results, orig)
		}
	}
	return ev
}

func postingResult(r ledger.Result) *billingv1.PostingResult {
	s := r.Source
	p := &billingv1.PostingResult{SourceType: s.Type, SourceId: s.ID, SourceVersion: s.Version, Outcome: postingOutcomes[r.Outcome],
		Reason: r.Reason, ProjectId: s.ProjectID, ResourceId: s.ResourceID, SourceDate: civilpb.To(s.Date),
		Hours: "0", BillableHours: r.BillableHrs.String(), TimesheetId: s.Timesheet}
	if r.Entry != nil {
		p.JournalEntryId = r.Entry.ID
	}
	if !r.PostingDate.IsZero() {
		p.PostingDate = civilpb.To(r.PostingDate)
	}
	if s.Type == ledger.SourceTime && (r.Outcome == ledger.Posted || (r.Outcome == ledger.Reversed && r.Entry != nil)) {
		p.Hours = s.Hours.String()
	}
	if r.Cost.Currency != "" {
		p.Cost, p.Revenue = moneyProto(r.Cost), moneyProto(r.Revenue)
		if s.Type == suppliercost.SourceCost || s.Type == suppliercost.SourceCostReversal {
			p.SubcontractorCost = moneyProto(r.Cost)
		}
	}
	return p
}

// Rebill converts a rebill decision.
func Rebill(r ledger.Rebill) *billingv1.RebillDecision {
	return &billingv1.RebillDecision{CandidateId: r.CandidateID, ContractId: r.ContractID, ContractVersion: r.ContractVersion,
		ProjectId: r.ProjectID, SourceId: r.SourceID, SourceDate: civilpb.To(r.SourceDate), Quantity: r.Quantity.String(),
		InvoicedRate: moneyProto(r.InvoicedRate), InvoicedAmount: moneyProto(r.Invoiced), ReratedRate: moneyProto(r.ReratedRate),
		ReratedAmount: moneyProto(r.Rerated), Delta: moneyProto(r.Delta)}
}
