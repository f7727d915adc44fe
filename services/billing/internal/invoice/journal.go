package invoice

import (
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Journal source types of invoices and credit notes (one entry each, posted once).
const (
	SourceInvoice    = "invoice"
	SourceCreditNote = "credit_note"
)

// SourceType is the journal source type of inv.
func (inv Invoice) SourceType() string {
	if inv.Kind == KindCreditNote {
		return SourceCreditNote
	}
	return SourceInvoice
}

// Entry is the journal entry of posting inv on its issue date: per project, Dr receivable / Cr
// unbilled receivables (WIP relief) for an invoice, and Dr receivable / Cr tax payable for its
// tax, so the receivable is net + tax; a credit note's negative amounts swap the
// sides, reversing that effect and putting the credited amount back in WIP. fx converts the
// invoice currency to the functional one (1 when they are the same); each project's amount is
// converted and rounded once.
func Entry(inv Invoice, entryID, functional string, fx decimal.Decimal) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: inv.LegalEntityID, Currency: functional, PostingDate: inv.IssueDate,
		SourceDate: inv.IssueDate, SourceType: inv.SourceType(), SourceID: inv.ID, SourceVersion: 1,
		Description: string(inv.Kind) + " " + inv.Number}
	byProject, taxByProject := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	var order []string
	for _, l := range inv.Lines {
		if _, ok := byProject[l.ProjectID]; !ok {
			order = append(order, l.ProjectID)
		}
		byProject[l.ProjectID] = byProject[l.ProjectID].Add(l.Amount.Value)
		taxByProject[l.ProjectID] = taxByProject[l.ProjectID].Add(l.Tax.Value)
	}
	for _, p := range order {
		txn := money.Amount{Value: byProject[p], Currency: inv.Currency}
		f := money.Amount{Value: txn.Value.Mul(fx), Currency: functional}.Round().Value
		e.Lines = append(e.Lines, pair(ledger.AccountsReceivable, ledger.UnbilledReceivables, p, f, txn, fx, inv.IssueDate)...)
		if t := taxByProject[p]; !t.IsZero() {
			txn := money.Amount{Value: t, Currency: inv.Currency}
			f := money.Amount{Value: t.Mul(fx), Currency: functional}.Round().Value
			e.Lines = append(e.Lines, pair(ledger.AccountsReceivable, ledger.TaxPayable, p, f, txn, fx, inv.IssueDate)...)
		}
	}
	return e
}

func pair(debitAcct, creditAcct, projectID string, functional decimal.Decimal, txn money.Amount, fx decimal.Decimal, d civil.Date) []ledger.Line {
	dr := ledger.Line{Account: debitAcct, ProjectID: projectID, TxnAmount: txn, FXRate: fx, RateDate: d}
	cr := ledger.Line{Account: creditAcct, ProjectID: projectID, TxnAmount: money.Amount{Value: txn.Value.Neg(), Currency: txn.Currency}, FXRate: fx, RateDate: d}
	if functional.IsNegative() {
		dr.Credit, cr.Debit = functional.Neg(), functional.Neg()
	} else {
		dr.Debit, cr.Credit = functional, functional
	}
	return []ledger.Line{dr, cr}
}
