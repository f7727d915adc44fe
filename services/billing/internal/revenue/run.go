package revenue

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Journal source types of what the recognition run posts (one entry each per line or contract
// and period, posted once: the journal's unique source key is the second guard of the run's
// idempotency).
const (
	SourceRecognition = "revenue_recognition"
	SourcePosition    = "contract_position"
)

// Faults of the recognition run and its inputs.
var (
	ErrLineNotFound      = fault.New(fault.NotFound, "CONTRACT_LINE_NOT_FOUND", "the contract has no such line")
	ErrMilestoneNotFound = fault.New(fault.NotFound, "MILESTONE_NOT_FOUND", "the contract line has no such milestone")
	// ErrFXMissing fails a run (or a positions report) with a foreign-currency contract when the
	// period end (the as-of date) has no rate to the functional currency.
	ErrFXMissing = fault.New(fault.FailedPrecondition, "EXCHANGE_RATE_MISSING_FOR_DATE",
		"no exchange rate from the contract currency to the functional currency on the period end")
)

// LineInput is what the run reads of one contract line for a period.
type LineInput struct {
	Line      contract.Line
	Period    string     // YYYY-MM
	PeriodEnd civil.Date // last day of the period
	// Delivered is the billable value of the line's time delivered up to the period end (as
	// delivered lines).
	Delivered money.Amount
	// CostToDate is the cost posted on the line's tasks up to the period end.
	CostToDate money.Amount
	// EstimateToComplete is the latest estimate effective at or before the period; nil when
	// none was set.
	EstimateToComplete *money.Amount
	// Completed holds the keys of the milestones completed by the period end.
	Completed        map[string]bool
	RecognizedBefore money.Amount
	ProvisionBefore  money.Amount
}

// LineResult is what a line recognizes for the period.
type LineResult struct {
	Method      contract.RevenueMethod
	Recognition Recognition
	// Progress is costs to date ÷ estimate at completion (percent complete), else zero.
	Progress decimal.Decimal
	// EstimateTotal is the estimate at completion (cost to date + estimate to complete), nil
	// without an estimate.
	EstimateTotal *money.Amount
	Loss          Loss
	// Skipped says why nothing was recognized (a percent-complete line without an estimate).
	Skipped string
}

// SkipNoEstimate is LineResult.Skipped of a percent-complete line without an estimate.
const SkipNoEstimate = ReasonNoEstimate

// Recognize applies the line's revenue method (fixed fee and retainer lines included: by their
// method, whatever their billing), then the loss-contract rule when the line has an estimate.
func Recognize(in LineInput) (LineResult, error) {
	l := in.Line
	cur := l.Amount.Currency
	out := LineResult{Method: l.Revenue, Progress: decimal.Zero}
	var err error
	switch l.Revenue {
	case contract.AsDelivered:
		out.Recognition, err = recognition(in.Delivered.Round(), in.RecognizedBefore)
	case contract.PercentComplete:
		if in.EstimateToComplete == nil {
			out.Skipped = SkipNoEstimate
			out.Recognition = Recognition{ToDate: in.RecognizedBefore, Period: money.Zero(cur)}
			break
		}
		eac := money.Amount{Value: in.CostToDate.Value.Add(in.EstimateToComplete.Value), Currency: cur}
		if !eac.Value.IsPositive() {
			out.Recognition, err = recognition(money.Zero(cur), in.RecognizedBefore)
			break
		}
		out.Recognition, out.Progress, err = PercentComplete(Progress{Price: l.Amount, CostToDate: in.CostToDate,
			EstimatedTotalCost: eac, RecognizedBefore: in.RecognizedBefore})
	case contract.MilestoneRevenue:
		ms := make([]Milestone, len(l.Milestones))
		for i, m := range l.Milestones {
			ms[i] = Milestone{Amount: m.Amount, Completed: in.Completed[m.Key]}
		}
		out.Recognition, err = Milestones(l.Amount, ms, in.RecognizedBefore)
	case contract.StraightLine:
		var parts []Part
		if parts, err = StraightLine(l.Amount, l.ServiceStart, l.ServiceEnd); err == nil {
			out.Recognition, err = recognition(ToDate(parts, cur, in.Period), in.RecognizedBefore)
		}
	default:
		out.Recognition = Recognition{ToDate: in.RecognizedBefore, Period: money.Zero(cur)}
	}
	if err != nil {
		return out, err
	}
	out.Loss = Loss{Expected: money.Zero(cur), Provision: money.Zero(cur), Period: money.Zero(cur)}
	if in.EstimateToComplete != nil {
		eac := money.Amount{Value: in.CostToDate.Value.Add(in.EstimateToComplete.Value), Currency: cur}
		out.EstimateTotal = &eac
		toDate := out.Recognition.ToDate
		if toDate.Value.IsNegative() {
			toDate = money.Zero(cur)
		}
		out.Loss, err = ExpectedLoss(LossInput{Price: l.Amount, EstimateAtCompletion: eac, CostToDate: in.CostToDate,
			RecognizedToDate: toDate, ProvisionBefore: in.ProvisionBefore})
	} else if in.ProvisionBefore.Value.IsPositive() {
		// The estimate was withdrawn: nothing says the contract still loses money.
		out.Loss.Period = money.Amount{Value: in.ProvisionBefore.Value.Neg(), Currency: cur}
	}
	return out, err
}

// Tags are what the run's journal entries carry to be traced to their contract.
type Tags struct {
	EntryID       string
	LegalEntityID string
	Currency      string // functional
	// TxnCurrency and FX convert a foreign-currency contract's recognition (its currency) to the
	// functional one, at the period end's rate; "" when the contract is in the functional one.
	TxnCurrency string
	FX          decimal.Decimal
	Date        civil.Date
	ContractID  string
	ProjectID   string // a project of the contract ("" none): lines are tagged with it
}

// RecognitionEntry is the entry of one line and period: Dr contract liability (deferred revenue)
// / Cr service revenue for the period's revenue of a line not recognized as delivered (as
// delivered revenue was posted by the time posting itself), and Dr contract loss expense / Cr
// provision for contract losses for the period's loss provision; negative amounts swap sides.
// The amounts are the contract's (converted at t.FX, rounded once, when t.TxnCurrency is set).
// Nil when there is nothing to post.
func RecognitionEntry(t Tags, lineKey, period string, r LineResult) *ledger.Entry {
	e := &ledger.Entry{ID: t.EntryID, LegalEntityID: t.LegalEntityID, Currency: t.Currency, PostingDate: t.Date, SourceDate: t.Date,
		SourceType: SourceRecognition, SourceID: t.ContractID + "/" + lineKey + "/" + period, SourceVersion: 1,
		Description: "revenue " + string(r.Method) + " " + lineKey + " " + period}
	if r.Method != contract.AsDelivered && !r.Recognition.Period.IsZero() {
		e.Lines = append(e.Lines, pair(ledger.DeferredRevenue, ledger.ServiceRevenue, t, r.Recognition.Period.Value)...)
	}
	if !r.Loss.Period.IsZero() {
		e.Lines = append(e.Lines, pair(ledger.ContractLossExpense, ledger.ContractLossProvision, t, r.Loss.Period.Value)...)
	}
	if len(e.Lines) == 0 {
		return nil
	}
	return e
}

// PositionEntry is the reclassification of a contract at a period end: it moves x from unbilled
// receivables (the contract asset) to deferred revenue (the contract liability), Dr 2300 / Cr
// 1200 (negative x the other way), where x is the contract's unbilled receivables less its
// asset, so that afterwards unbilled receivables hold the asset and deferred revenue the
// liability. x is in the functional currency. Nil when x is zero.
func PositionEntry(t Tags, period string, x decimal.Decimal) *ledger.Entry {
	if x.IsZero() {
		return nil
	}
	t.TxnCurrency = ""
	return &ledger.Entry{ID: t.EntryID, LegalEntityID: t.LegalEntityID, Currency: t.Currency, PostingDate: t.Date, SourceDate: t.Date,
		SourceType: SourcePosition, SourceID: t.ContractID + "/" + period, SourceVersion: 1,
		Description: "contract asset/liability " + period, Lines: pair(ledger.DeferredRevenue, ledger.UnbilledReceivables, t, x)}
}

func pair(debitAcct, creditAcct string, t Tags, v decimal.Decimal) []ledger.Line {
	txn := money.Amount{Value: v, Currency: t.Currency}
	rate := decimal.NewFromInt(1)
	if t.TxnCurrency != "" && t.TxnCurrency != t.Currency {
		txn.Currency, rate = t.TxnCurrency, t.FX
		v = money.Amount{Value: v.Mul(t.FX), Currency: t.Currency}.Round().Value
	}
	dr := ledger.Line{Account: debitAcct, ProjectID: t.ProjectID, TxnAmount: txn, FXRate: rate, RateDate: t.Date}
	cr := ledger.Line{Account: creditAcct, ProjectID: t.ProjectID, TxnAmount: money.Amount{Value: txn.Value.Neg(), Currency: txn.Currency}, FXRate: rate, RateDate: t.Date}
	if v.IsNegative() {
		dr.Credit, cr.Debit = v.Neg(), v.Neg()
	} else {
		dr.Debit, cr.Credit = v, v
	}
	return []ledger.Line{dr, cr}
}
