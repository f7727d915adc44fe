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
//
// In a foreign currency (inv.Currency is not functional) the receivable and tax are at fx, fee
// parts (no candidate: milestones, fixed fees, a retainer's advance) credit WIP at fx too, and
// candidate parts relieve WIP at their carrying amount (Part.WIP, set by the caller from
// Carrying), as do "retainer applied" parts (Part.WIP at the advance's carrying rate, set by
// SetRetainerWIP: one 1200 line of their own per project); the difference is FX, netted per
// project: an invoice's to Cr 4900 gain or Dr 5900 loss, a credit note's (at the credited
// invoice's rate) back out of the account the invoice used (Dr 4900 / Cr 5900).
func Entry(inv Invoice, entryID, functional string, fx decimal.Decimal) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: inv.LegalEntityID, Currency: functional, PostingDate: inv.IssueDate,
		SourceDate: inv.IssueDate, SourceType: inv.SourceType(), SourceID: inv.ID, SourceVersion: 1,
		Description: string(inv.Kind) + " " + inv.Number}
	type sums struct{ net, tax, fee, wip, ret, retWIP decimal.Decimal }
	by := map[string]*sums{}
	var order []string
	for _, l := range inv.Lines {
		s, ok := by[l.ProjectID]
		if !ok {
			s = &sums{}
			by[l.ProjectID] = s
			order = append(order, l.ProjectID)
		}
		s.net, s.tax = s.net.Add(l.Amount.Value), s.tax.Add(l.Tax.Value)
		parts := l.Parts
		if len(parts) == 0 {
			parts = []Part{{CandidateID: l.CandidateID, Item: l.Item, Amount: l.Amount, WIP: l.Amount.Value}}
		}
		for _, p := range parts {
			switch {
			case p.CandidateID == "" && IsRetainerApplied(p.Item):
				s.ret, s.retWIP = s.ret.Add(p.Amount.Value), s.retWIP.Add(p.WIP)
			case p.CandidateID == "":
				s.fee = s.fee.Add(p.Amount.Value)
			default:
				s.wip = s.wip.Add(p.WIP)
			}
		}
	}
	foreign := inv.Currency != functional
	conv := func(v decimal.Decimal) decimal.Decimal {
		return money.Amount{Value: v.Mul(fx), Currency: functional}.Round().Value
	}
	for _, p := range order {
		s := by[p]
		txn := money.Amount{Value: s.net, Currency: inv.Currency}
		f := conv(s.net)
		if !foreign {
			e.Lines = append(e.Lines, pair(ledger.AccountsReceivable, ledger.UnbilledReceivables, p, f, txn, fx, inv.IssueDate)...)
		} else {
			e.Lines = append(e.Lines, side(ledger.AccountsReceivable, p, f, txn, fx, inv.IssueDate))
			ffee := conv(s.fee)
			if !s.fee.IsZero() {
				e.Lines = append(e.Lines, side(ledger.UnbilledReceivables, p, ffee.Neg(), money.Amount{Value: s.fee.Neg(), Currency: inv.Currency}, fx, inv.IssueDate))
			}
			if cand := s.net.Sub(s.fee).Sub(s.ret); !cand.IsZero() || !s.wip.IsZero() {
				carrying := fx
				if !cand.IsZero() {
					carrying = s.wip.Div(cand).Round(8)
				}
				e.Lines = append(e.Lines, side(ledger.UnbilledReceivables, p, s.wip.Neg(), money.Amount{Value: cand.Neg(), Currency: inv.Currency}, carrying, inv.IssueDate))
			}
			if !s.ret.IsZero() || !s.retWIP.IsZero() {
				carrying := fx
				if !s.ret.IsZero() {
					carrying = s.retWIP.Div(s.ret).Round(8)
				}
				e.Lines = append(e.Lines, side(ledger.UnbilledReceivables, p, s.retWIP.Neg(), money.Amount{Value: s.ret.Neg(), Currency: inv.Currency}, carrying, inv.IssueDate))
			}
			// diff > 0: the receivable is worth more than the WIP it replaces.
			diff := f.Sub(ffee).Sub(s.wip).Sub(s.retWIP)
			acct := ledger.RealizedFXGain
			if (inv.Kind == KindCreditNote) == diff.IsPositive() {
				acct = ledger.RealizedFXLoss
			}
			if !diff.IsZero() {
				e.Lines = append(e.Lines, side(acct, p, diff.Neg(), money.Zero(inv.Currency), fx, inv.IssueDate))
			}
		}
		if t := s.tax; !t.IsZero() {
			txn := money.Amount{Value: t, Currency: inv.Currency}
			e.Lines = append(e.Lines, pair(ledger.AccountsReceivable, ledger.TaxPayable, p, conv(t), txn, fx, inv.IssueDate)...)
		}
	}
	return e
}

// side is one journal line: a debit of functional (a credit when negative).
func side(acct, projectID string, functional decimal.Decimal, txn money.Amount, fx decimal.Decimal, d civil.Date) ledger.Line {
	l := ledger.Line{Account: acct, ProjectID: projectID, TxnAmount: txn, FXRate: fx, RateDate: d}
	if functional.IsNegative() {
		l.Credit = functional.Neg()
	} else {
		l.Debit = functional
	}
	return l
}

// Carrying is a candidate's WIP carrying amount in the functional currency (WIP, posted at the
// work date's rate) against its quantity and amount in the contract currency, and what documents
// took of it before: quantity, amount and functional WIP relieved (posted invoice lines net of
// credit notes, write-offs). It is also used for what one invoice bills of a candidate net of
// its credit notes (Quantity, Amount and WIP then that invoice's, nothing taken before).
type Carrying struct {
	Quantity, Amount, WIP        decimal.Decimal
	TakenQty, TakenAmt, TakenWIP decimal.Decimal
}

// Take returns the functional WIP that billing (or writing off) qty and amt of the candidate
// relieves, and the carrying after it. The part that takes all that is left (by quantity or by
// amount: a grouped line's rounding may move a cent of the amount) relieves the rest of the
// carrying amount, so a candidate billed in parts relieves exactly its carrying amount; an
// earlier part relieves its share pro rata by amount (by quantity when the amount is zero),
// rounded once to the functional currency's minor unit.
func (c Carrying) Take(qty, amt decimal.Decimal, functional string) (decimal.Decimal, Carrying) {
	openQty, openAmt := c.Quantity.Sub(c.TakenQty), c.Amount.Sub(c.TakenAmt)
	var wip decimal.Decimal
	switch {
	case qty.GreaterThanOrEqual(openQty) || amt.GreaterThanOrEqual(openAmt):
		wip = c.WIP.Sub(c.TakenWIP)
	case !c.Amount.IsZero():
		wip = money.Amount{Value: c.WIP.Mul(amt).Div(c.Amount), Currency: functional}.Round().Value
	case !c.Quantity.IsZero():
		wip = money.Amount{Value: c.WIP.Mul(qty).Div(c.Quantity), Currency: functional}.Round().Value
	}
	c.TakenQty, c.TakenAmt, c.TakenWIP = c.TakenQty.Add(qty), c.TakenAmt.Add(amt), c.TakenWIP.Add(wip)
	return wip, c
}

// SetWIP sets the functional WIP each candidate part of inv relieves (Part.WIP; a credit note's
// parts put back, negative). Same currency: a part relieves its amount, as it always did. In a
// foreign currency, an invoice's parts take from carrying (per candidate, its carrying amount
// and what posted documents took of it), a credit note's parts take from carrying as what the
// credited invoice billed of each candidate net of its earlier credit notes.
func SetWIP(inv *Invoice, functional string, carrying map[string]Carrying) {
	for i := range inv.Lines {
		l := &inv.Lines[i]
		if len(l.Parts) == 0 {
			l.Parts = []Part{{CandidateID: l.CandidateID, Item: l.Item, SourceDate: l.SourceDate, Quantity: l.Quantity, Amount: l.Amount, Round: l.Round}}
		}
		for j := range l.Parts {
			p := &l.Parts[j]
			if p.CandidateID == "" {
				continue
			}
			if inv.Currency == functional {
				p.WIP = p.Amount.Value
				continue
			}
			c := carrying[p.CandidateID]
			var w decimal.Decimal
			if inv.Kind == KindCreditNote {
				w, c = c.Take(p.Quantity.Neg(), p.Amount.Value.Neg(), functional)
				w = w.Neg()
			} else {
				w, c = c.Take(p.Quantity, p.Amount.Value, functional)
			}
			carrying[p.CandidateID] = c
			p.WIP = w
		}
	}
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
