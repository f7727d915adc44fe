package ledger

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
)

// SourceBillAdjustment is the source type of the entries that re-rate the WIP of billable time
// when its contract's bill rates change before it is invoiced: the source id is the time
// entry's, the version the contract version that caused it (so each amendment adjusts an entry
// at most once).
const SourceBillAdjustment = "bill_adjustment"

// BilledTime is the invoice candidate of a posted, unreversed time entry, with the WIP it
// carries now: its original entry plus every bill adjustment since.
type BilledTime struct {
	Candidate  Candidate
	ResourceID string
	TaskID     string
	EntryID    string // the original journal entry
	// WIP is the net unbilled receivable posted for it (functional currency).
	WIP decimal.Decimal
}

// Rerated is what a bill-rate change does to one candidate: After is the candidate at the rate
// in effect now and Delta what its amount moves by (candidate currency). For an open candidate,
// Result is the WIP adjustment (Posted, possibly without an entry when the functional delta
// rounds to zero; or RejectedClosedPeriod); an invoiced candidate gets no Result (Outcome ""):
// it needs a credit note / rebill decision.
type Rerated struct {
	Result
	Before, After Candidate
	Delta         money.Amount
}

// Rerate returns what brings t to the bill rate its contract line's rate card holds now for the
// resource's role on the work date: ok false when nothing changes (same amount, no line, no rate
// for the date, another currency, no exchange rate). The WIP delta is dated on the work date
// when its period is open, else per the legal entity's policy (the first open period, linked to
// the original by its source id; or RejectedClosedPeriod without an entry).
func (b Book) Rerate(t BilledTime, contractVersion int64) (Rerated, bool) {
	c := t.Candidate
	proj, ok := b.Projects[c.ProjectID]
	if !ok {
		return Rerated{}, false
	}
	le := b.Entities[proj.LegalEntityID]
	line, ok := b.Lines[c.ContractID+"/"+c.LineKey]
	if !ok || !line.TimeAndMat {
		return Rerated{}, false
	}
	rate, ok := line.Rates.Rate(b.Roles[t.ResourceID], c.SourceDate)
	if !ok || rate.Currency != c.Amount.Currency {
		return Rerated{}, false
	}
	amount := money.Amount{Value: c.Quantity.Mul(rate.Value), Currency: rate.Currency}.Round()
	if amount.Value.Equal(c.Amount.Value) && rate.Value.Equal(c.UnitPrice.Value) {
		return Rerated{}, false
	}
	after := c
	after.UnitPrice, after.Amount = rate, amount
	out := Rerated{Before: c, After: after, Delta: money.Amount{Value: amount.Value.Sub(c.Amount.Value), Currency: amount.Currency}}
	if c.Status != CandidateOpen {
		return out, true // invoiced: listed for a decision, the ledger untouched
	}
	fwip, fx, ok := b.toFunctional(amount, le.FunctionalCurrency, c.SourceDate)
	if !ok {
		return Rerated{}, false
	}
	delta := fwip.Sub(t.WIP)
	out.After.WIP = fwip
	src := Source{Type: SourceBillAdjustment, ID: c.SourceID, Version: contractVersion, ResourceID: t.ResourceID,
		ProjectID: c.ProjectID, TaskID: t.TaskID, Date: c.SourceDate, Hours: decimal.Zero}
	out.Result = Result{Source: src, Cost: money.Zero(le.FunctionalCurrency), Revenue: money.Amount{Value: delta, Currency: le.FunctionalCurrency},
		BillableHrs: decimal.Zero}
	date, ok := le.postingDate(c.SourceDate, false)
	if !ok {
		out.Outcome, out.Reason = RejectedClosedPeriod, ReasonPeriodClosed
		return out, true
	}
	out.Outcome, out.PostingDate = Posted, date
	if delta.IsZero() {
		return out, true // the candidate moves; the functional WIP rounds to what is posted
	}
	credit := ServiceRevenue
	if !line.AsDelivered {
		credit = DeferredRevenue
	}
	out.Entry = &Entry{ID: b.NewID(), LegalEntityID: le.ID, Currency: le.FunctionalCurrency, PostingDate: date, SourceDate: c.SourceDate,
		SourceType: SourceBillAdjustment, SourceID: c.SourceID, SourceVersion: contractVersion,
		Description: fmt.Sprintf("bill re-rate of time %s v%d (entry %s): %sh at %s, was %s; contract %s v%d",
			c.SourceID, c.Version, t.EntryID, c.Quantity, rate, c.Amount, c.ContractID, contractVersion),
		Lines: debitCredit(UnbilledReceivables, credit, c.ProjectID, t.TaskID, delta, out.Delta, fx, c.SourceDate)}
	return out, true
}

// Rebill is an invoiced candidate whose bill rate changed after it was invoiced: what a credit
// note / rebill would need (Delta = Rerated − Invoiced), as of the contract version that last
// changed it.
type Rebill struct {
	CandidateID     string
	ContractID      string
	ContractVersion int64
	ProjectID       string
	SourceID        string
	SourceDate      civil.Date
	Quantity        decimal.Decimal
	InvoicedRate    money.Amount
	Invoiced        money.Amount
	ReratedRate     money.Amount
	Rerated         money.Amount
	Delta           money.Amount
}

// ReversedBilled is the credit-note decision of work reversed after posted invoices billed it:
// Invoiced is what they still bill net of credit notes, Rerated 0, Delta its negative.
type ReversedBilled struct {
	Rebill
	Invoices string // the numbers of the invoices billing it
}

// RebillOf is the rebill r asks for.
func RebillOf(r Rerated, contractVersion int64) Rebill {
	c := r.Before
	return Rebill{CandidateID: c.ID, ContractID: c.ContractID, ContractVersion: contractVersion, ProjectID: c.ProjectID,
		SourceID: c.SourceID, SourceDate: c.SourceDate, Quantity: c.Quantity, InvoicedRate: c.UnitPrice, Invoiced: c.Amount,
		ReratedRate: r.After.UnitPrice, Rerated: r.After.Amount, Delta: r.Delta}
}

// RebillFilter selects rebills ("" matches any).
type RebillFilter struct {
	ContractID string
	ProjectID  string
	// LegalEntities restricts the decisions to projects of these legal entities; nil means any.
	LegalEntities []string
}
