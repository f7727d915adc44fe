// Package ledger is the double-entry posting engine: it turns an approved time entry or expense
// into a balanced journal entry (labor cost, WIP / unbilled revenue, expense cost and rebill)
// and an invoice candidate, applying the legal entity's closed-period policy, the resource's cost
// rate and the contract's bill rate effective on the work date, and exchange rates. No I/O here:
// the caller loads a Book (what the postings need) and writes the Results.
package ledger

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// Account codes of the default chart of accounts.
const (
	Cash                     = "1000"
	AccountsReceivable       = "1100"
	UnbilledReceivables      = "1200" // WIP
	AccruedRevenue           = "1250"
	AccountsPayable          = "2000"
	ReimbursementsPayable    = "2100"
	LaborCostClearing        = "2150"
	TaxPayable               = "2200"
	DeferredRevenue          = "2300"
	ContractLossProvision    = "2350"
	ServiceRevenue           = "4000"
	ReimbursableExpenseSales = "4100"
	LaborCost                = "5000"
	ExpenseCost              = "5100"
	SubcontractorCost        = "5200"
	ContractLossExpense      = "5300"
	// Receivables (package receivable): payments on account until applied, realized FX on
	// settlement, and remainders written off within tolerance.
	CustomerOnAccount  = "2400"
	RealizedFXGain     = "4900"
	ReceivableWriteOff = "5800"
	RealizedFXLoss     = "5900"
	// WorkWrittenOff is the expense of delivered work never to be billed (over a cap).
	WorkWrittenOff = "5400"
)

// Account is an account of a legal entity's chart; Type is ASSET, LIABILITY, EQUITY, REVENUE or
// EXPENSE.
type Account struct {
	Code, Name, Type string
}

// DefaultChart is the chart of accounts every legal entity starts with.
var DefaultChart = []Account{
	{Cash, "Cash", "ASSET"},
	{AccountsReceivable, "Accounts receivable", "ASSET"},
	{UnbilledReceivables, "Unbilled receivables (WIP)", "ASSET"},
	{AccruedRevenue, "Accrued revenue", "ASSET"},
	{AccountsPayable, "Accounts payable", "LIABILITY"},
	{ReimbursementsPayable, "Employee reimbursements payable", "LIABILITY"},
	{LaborCostClearing, "Labor cost clearing", "LIABILITY"},
	{TaxPayable, "Tax payable", "LIABILITY"},
	{DeferredRevenue, "Deferred revenue", "LIABILITY"},
	{ContractLossProvision, "Provision for contract losses", "LIABILITY"},
	{ServiceRevenue, "Service revenue", "REVENUE"},
	{ReimbursableExpenseSales, "Reimbursable expense revenue", "REVENUE"},
	{LaborCost, "Labor cost", "EXPENSE"},
	{ExpenseCost, "Expense cost", "EXPENSE"},
	{SubcontractorCost, "Subcontractor cost", "EXPENSE"},
	{ContractLossExpense, "Contract loss expense", "EXPENSE"},
	{CustomerOnAccount, "Customer payments on account", "LIABILITY"},
	{RealizedFXGain, "Realized FX gain", "REVENUE"},
	{ReceivableWriteOff, "Receivable write-offs", "EXPENSE"},
	{RealizedFXLoss, "Realized FX loss", "EXPENSE"},
	{WorkWrittenOff, "Unbillable work written off", "EXPENSE"},
}

// Source types.
const (
	SourceTime    = "time_entry"
	SourceExpense = "expense"
)

// Outcomes.
type Outcome string

const (
	Posted               Outcome = "POSTED"
	RejectedClosedPeriod Outcome = "REJECTED_CLOSED_PERIOD"
	Parked               Outcome = "PARKED_RATE_MISSING"
	Reversed             Outcome = "REVERSED"
)

// Reasons of parked postings.
const (
	ReasonRateMissing    = "RATE_MISSING_FOR_DATE"
	ReasonFXMissing      = "EXCHANGE_RATE_MISSING_FOR_DATE"
	ReasonProjectUnknown = "PROJECT_NOT_FINANCIALLY_ACTIVE"
	ReasonPeriodClosed   = "PERIOD_CLOSED"
)

// Missing says what a parked posting waits for; the key groups parked postings that the same
// fix (one rate) releases.
type Missing struct {
	Kind string // "cost_rate", "bill_rate", "exchange_rate", "project"
	Key  string // resource id, contract/line/role, currency pair or project id
	Date civil.Date
}

// Source is an approved time entry or expense (or a reversal of one).
type Source struct {
	Type       string
	ID         string
	Version    int64
	ResourceID string
	ProjectID  string
	TaskID     string
	Date       civil.Date
	Hours      decimal.Decimal // time
	Amount     money.Amount    // expense (transaction currency)
	Billable   bool
	ReversesID string
	Timesheet  string
	Desc       string
}

// Key identifies a source version: the ledger posts each at most once.
func (s Source) Key() string { return SourceKey(s.Type, s.ID, s.Version) }

// SourceKey is Source.Key of a source type, id and version.
func SourceKey(sourceType, id string, version int64) string {
	return fmt.Sprintf("%s|%s|%d", sourceType, id, version)
}

// Line is one debit or credit.
type Line struct {
	Account   string
	ProjectID string
	TaskID    string
	Debit     decimal.Decimal // functional currency
	Credit    decimal.Decimal
	TxnAmount money.Amount // transaction currency, signed like Debit − Credit
	FXRate    decimal.Decimal
	RateDate  civil.Date
}

// Entry is a journal entry.
type Entry struct {
	ID            string
	LegalEntityID string
	Currency      string // functional
	PostingDate   civil.Date
	SourceDate    civil.Date
	SourceType    string
	SourceID      string
	SourceVersion int64
	ReversesID    string
	Description   string
	Lines         []Line
	// CreatedAt is when the entry was written (set when read back).
	CreatedAt time.Time
}

// Balanced reports whether debits equal credits.
func (e Entry) Balanced() bool {
	d, c := decimal.Zero, decimal.Zero
	for _, l := range e.Lines {
		d, c = d.Add(l.Debit), c.Add(l.Credit)
	}
	return d.Equal(c)
}

// Candidate is billable work or expense to invoice.
type Candidate struct {
	ID         string
	ProjectID  string
	ContractID string
	LineKey    string
	SourceType string
	SourceID   string
	Version    int64
	SourceDate civil.Date
	Quantity   decimal.Decimal
	UnitPrice  money.Amount
	Markup     *decimal.Decimal
	Amount     money.Amount
	// WIP is the functional-currency WIP the candidate carries (its posting entry's 1200 at the
	// work date's rate, moved by bill re-rates): what invoicing it relieves, whatever the rate
	// of the issue date (equal to Amount when the contract is in the functional currency).
	WIP decimal.Decimal
	// Status is CandidateOpen when posted; invoicing and reversals move it on.
	Status CandidateStatus
	// ResourceID, Role and TaskID are what invoice proposals may group lines by.
	ResourceID, Role, TaskID string
}

// CandidateStatus is where an invoice candidate stands.
type CandidateStatus string

const (
	CandidateOpen     CandidateStatus = "OPEN"
	CandidateInvoiced CandidateStatus = "INVOICED"
	CandidateReversed CandidateStatus = "REVERSED"
)

// Result is the outcome of one source.
type Result struct {
	Source      Source
	Outcome     Outcome
	Reason      string
	Missing     *Missing
	Entry       *Entry
	Candidate   *Candidate
	PostingDate civil.Date
	Cost        money.Amount // functional
	Revenue     money.Amount // functional (WIP)
	BillableHrs decimal.Decimal
	// ReversedCandidateOf is the source id whose candidate a reversal cancels, and
	// ReversedVersion the version of that original.
	ReversedCandidateOf string
	ReversedVersion     int64
}

// debitCredit returns a balanced pair of lines for amount (functional, may be negative: the
// sides swap so that debits and credits stay non-negative).
func debitCredit(debitAcct, creditAcct, projectID, taskID string, functional decimal.Decimal, txn money.Amount, fx decimal.Decimal, rateDate civil.Date) []Line {
	dr := Line{Account: debitAcct, ProjectID: projectID, TaskID: taskID, TxnAmount: txn, FXRate: fx, RateDate: rateDate}
	cr := Line{Account: creditAcct, ProjectID: projectID, TaskID: taskID, TxnAmount: money.Amount{Value: txn.Value.Neg(), Currency: txn.Currency}, FXRate: fx, RateDate: rateDate}
	if functional.IsNegative() {
		dr.Credit, cr.Debit = functional.Neg(), functional.Neg()
	} else {
		dr.Debit, cr.Credit = functional, functional
	}
	return []Line{dr, cr}
}

func describe(s Source) string {
	if s.Type == SourceExpense {
		return fmt.Sprintf("expense %s %s", s.ID, s.Amount)
	}
	return fmt.Sprintf("time %s %sh on %s", s.ID, s.Hours, s.Date)
}
