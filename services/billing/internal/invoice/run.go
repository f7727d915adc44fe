package invoice

import (
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// ErrContractBusy is an invoice run's outcome for a contract that another proposal (or an
// amendment) held at that moment: the run leaves it alone instead of waiting; run it again.
var ErrContractBusy = fault.New(fault.Conflict, "INVOICE_RUN_CONTRACT_BUSY",
	"another proposal or change of the contract was in progress; run it again to bill it")

// Basis is what a proposal of one contract reads: its current version, the open part of its
// candidates up to the cut-off (by date, then id), its capped lines, its completed milestones,
// what invoices bill of its fee items, and its projects (by id).
type Basis struct {
	Contract  contract.Contract
	Open      []Open
	Caps      map[string]Cap
	Completed map[string]map[string]civil.Date
	Billed    map[string]ItemBilled
	Projects  []string
}

// ProposeFrom proposes invoice id of b's contract up to cutOff (zero: all): its T&M lines within the
// caps (Propose), then its fee lines (FeeLines), then the retainer drawdown (RetainerDrawdown).
// ErrNothingToBill when that leaves no line. The draft is for the caller to tax-check, with
// LegalEntityID still to set.
func ProposeFrom(b Basis, id string, cutOff civil.Date) (Invoice, error) {
	c := b.Contract
	lines, total, overCap := Propose(c.Currency, b.Open, b.Caps, c.LineGrouping)
	project := ""
	if len(b.Projects) > 0 {
		project = b.Projects[0]
	}
	fees, feeTotal := FeeLines(c.Terms, b.Completed, cutOff, b.Billed, project, len(lines)+1)
	lines, total.Value = append(lines, fees...), total.Value.Add(feeTotal.Value)
	lines, applied := RetainerDrawdown(c.Terms, lines, b.Billed, id, project)
	total.Value = total.Value.Add(applied.Value)
	if len(lines) == 0 {
		return Invoice{}, ErrNothingToBill.With("contract " + c.ID + " has nothing unbilled within its caps up to the cut-off")
	}
	return Invoice{ID: id, Kind: KindInvoice, ContractID: c.ID, CustomerID: c.CustomerID, Currency: c.Currency, Status: Draft,
		CutOff: cutOff, Lines: lines, Total: total, OverCap: overCap}, nil
}

// RunOutcome is what an invoice run did for one contract: the draft it proposed (Invoice set,
// without lines: LineCount says how many), or why it proposed none (Reason and Message, e.g.
// NOTHING_TO_BILL).
type RunOutcome struct {
	ContractID string
	Invoice    *Invoice
	LineCount  int
	Reason     string
	Message    string
}

// Run is the outcome of an invoice run over a legal entity's contracts, in contract id order.
type Run struct {
	LegalEntityID string
	CutOff        civil.Date
	Outcomes      []RunOutcome
}

// Proposed counts the drafts the run proposed, and Failed the contracts it could not propose for
// (neither a draft nor NOTHING_TO_BILL).
func (r Run) Proposed() (proposed, failed int) {
	for _, o := range r.Outcomes {
		switch {
		case o.Invoice != nil:
			proposed++
		case o.Reason != ErrNothingToBill.Reason:
			failed++
		}
	}
	return proposed, failed
}
