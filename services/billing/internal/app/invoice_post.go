package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// PostInvoice posts draft id on issueDate (its fiscal year is the calendar year of that date; a
// closed period refuses it, invoice.ErrPeriodClosed, and so does work on it reversed since it was
// proposed, invoice.ErrReversed, and work re-rated by a contract amendment since, invoice.ErrChanged:
// its lines bill the old rate while WIP holds the new one):
// it takes the next gap-free number of its legal entity and year, posts Dr receivable / Cr WIP
// in the ledger, moves its candidates to INVOICED and publishes invoice.posted, all in one
// transaction. Posting a posted invoice again returns it unchanged; a void one is
// invoice.ErrNotDraft.
func (s *Service) PostInvoice(ctx context.Context, id string, issueDate civil.Date) (inv invoice.Invoice, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		inv, err = s.store.Invoice(ctx, id, true)
		if err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, inv.LegalEntityID); err != nil {
			return err
		}
		switch inv.Status {
		case invoice.Posted:
			return nil
		case invoice.BlockedTax:
			return tax.ErrBlocked.With("missing " + strings.Join(inv.TaxMissing, ", "))
		case invoice.Draft:
		default:
			return invoice.ErrNotDraft
		}
		if n, err := s.store.ReversedOnInvoice(ctx, id); err != nil {
			return err
		} else if n > 0 {
			return invoice.ErrReversed
		}
		if n, err := s.store.RepricedOnInvoice(ctx, id); err != nil {
			return err
		} else if n > 0 {
			return invoice.ErrChanged
		}
		inv, err = s.post(ctx, inv, issueDate)
		return err
	})
	return inv, err
}

// post numbers and posts draft inv (an invoice or a credit note) in the ambient transaction.
func (s *Service) post(ctx context.Context, inv invoice.Invoice, issueDate civil.Date) (invoice.Invoice, error) {
	le, err := s.store.LegalEntity(ctx, inv.LegalEntityID)
	if err != nil {
		return inv, err
	}
	periods, err := s.store.ListPeriods(ctx, inv.LegalEntityID)
	if err != nil {
		return inv, err
	}
	for _, p := range periods {
		if p.Period == ledger.PeriodOf(issueDate) && p.Status == ledger.PeriodClosed {
			return inv, invoice.ErrPeriodClosed.With("period " + p.Period + " of the legal entity is closed; issue the invoice in an open period")
		}
		// A soft-closed period is finance's: only a principal with the finance scope posts in it.
		if p.Period == ledger.PeriodOf(issueDate) && p.Status == ledger.PeriodSoftClosed && !auth.Granted(ctx, ScopeFinance) {
			return inv, invoice.ErrPeriodClosed.With("period " + p.Period + " of the legal entity is soft closed; only finance (" + ScopeFinance + ") posts in it")
		}
	}
	fx, err := s.documentRate(ctx, inv, le.FunctionalCurrency, issueDate)
	if err != nil {
		return inv, err
	}
	if inv.Kind == invoice.KindInvoice {
		if inv, err = s.taxInvoice(ctx, inv, issueDate, le.CountryCode); err != nil {
			return inv, err
		}
	}
	seq, err := s.store.NextInvoiceSeq(ctx, inv.LegalEntityID, inv.Kind, issueDate.Year)
	if err != nil {
		return inv, err
	}
	inv.Status, inv.IssueDate, inv.FiscalYear = invoice.Posted, issueDate, issueDate.Year
	inv.Number = invoice.FormatNumber(inv.Kind, le.Code, issueDate.Year, seq)
	if err := s.setWIP(ctx, &inv, le.FunctionalCurrency, fx); err != nil {
		return inv, err
	}
	entry := invoice.Entry(inv, uuid.Must(uuid.NewV7()).String(), le.FunctionalCurrency, fx)
	if !entry.Balanced() {
		return inv, fmt.Errorf("invoice %s: journal entry does not balance", inv.ID)
	}
	inv.JournalEntryID = entry.ID
	res := ledger.Result{Source: ledger.Source{Type: entry.SourceType, ID: inv.ID, Version: 1, Date: issueDate},
		Outcome: ledger.Posted, Entry: &entry, PostingDate: issueDate}
	if err := s.store.WriteResults(ctx, []ledger.Result{res}, correlation.ID(ctx)); err != nil {
		return inv, err
	}
	if err := s.store.MarkInvoicePosted(ctx, inv, seq); err != nil {
		return inv, err
	}
	if err := s.scheduleReceivable(ctx, inv, entry, fx); err != nil {
		return inv, err
	}
	if err := s.publishPosted(ctx, inv); err != nil {
		return inv, err
	}
	return inv, s.store.Audit(ctx, audit.Record{Action: "invoice.posted", EntityType: "invoice", EntityID: inv.ID,
		Details: map[string]any{"number": inv.Number, "kind": string(inv.Kind), "total": inv.Total.String(), "tax": inv.Tax.String()}})
}

// documentRate is the rate converting inv's currency to functional: 1 in the same currency; an
// invoice's, that of issueDate (invoice.ErrFXMissing without one); a credit note's, the rate its
// invoice was posted at, so it reverses the receivable at its carrying rate.
func (s *Service) documentRate(ctx context.Context, inv invoice.Invoice, functional string, issueDate civil.Date) (decimal.Decimal, error) {
	if inv.Currency == functional {
		return decimal.NewFromInt(1), nil
	}
	if inv.Kind == invoice.KindCreditNote {
		orig, err := s.store.Invoice(ctx, inv.CreditsID, false)
		if err != nil {
			return decimal.Zero, err
		}
		if r, ok, err := s.store.EntryRate(ctx, orig.JournalEntryID, ledger.AccountsReceivable); err != nil || ok {
			return r, err
		}
		issueDate = orig.IssueDate // an invoice with no receivable line: its issue date's rate
	}
	r, ok, err := s.store.ExchangeRate(ctx, inv.Currency, functional, issueDate)
	if err != nil {
		return decimal.Zero, err
	}
	if !ok {
		return decimal.Zero, invoice.ErrFXMissing.With(fmt.Sprintf("no %s/%s rate on %s", inv.Currency, functional, issueDate))
	}
	return r, nil
}

// setWIP sets the functional WIP the candidate parts of inv relieve (invoice.SetWIP): in a
// foreign currency, from the candidates' carrying amounts (an invoice) or from what the credited
// invoice relieved of them (a credit note); and that of its "retainer applied" parts
// (invoice.SetRetainerWIP): an invoice's at the carrying rate of the contract's posted advance,
// a credit note's from what the credited invoice's applied lines debited. fx is inv's rate.
func (s *Service) setWIP(ctx context.Context, inv *invoice.Invoice, functional string, fx decimal.Decimal) error {
	var carrying, advances map[string]invoice.Carrying
	if inv.Currency != functional {
		var err error
		if inv.Kind == invoice.KindCreditNote {
			carrying, err = s.store.InvoiceCarrying(ctx, inv.CreditsID)
		} else {
			carrying, err = s.store.Carrying(ctx, inv.ID, candidateIDs(*inv))
		}
		if err != nil {
			return err
		}
		if inv.Kind == invoice.KindInvoice && drawsRetainer(*inv) {
			if advances, err = s.store.RetainerCarrying(ctx, inv.ContractID, inv.ID); err != nil {
				return err
			}
		}
	}
	invoice.SetWIP(inv, functional, carrying)
	invoice.SetRetainerWIP(inv, functional, fx, advances, carrying)
	return nil
}

// candidateIDs lists the candidates inv's lines bill.
func candidateIDs(inv invoice.Invoice) []string {
	var ids []string
	for _, l := range inv.Lines {
		for _, p := range l.Parts {
			if p.CandidateID != "" {
				ids = append(ids, p.CandidateID)
			}
		}
		if len(l.Parts) == 0 && l.CandidateID != "" {
			ids = append(ids, l.CandidateID)
		}
	}
	return ids
}

// drawsRetainer tells whether inv has a "retainer applied" line.
func drawsRetainer(inv invoice.Invoice) bool {
	for _, l := range inv.Lines {
		if invoice.IsRetainerApplied(l.Item) {
			return true
		}
	}
	return false
}

// CreditInvoice issues and posts a credit note on posted invoice id: the whole invoice net of
// earlier credit notes when req is empty, else the lines and quantities asked. It reverses the
// invoice's ledger effect for what it credits (Dr WIP / Cr receivable) and returns the credited
// quantities and amounts to unbilled, so a later proposal bills them again.
func (s *Service) CreditInvoice(ctx context.Context, id string, req []invoice.CreditRequest, issueDate civil.Date) (cn invoice.Invoice, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		orig, err := s.store.Invoice(ctx, id, true)
		if err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, orig.LegalEntityID); err != nil {
			return err
		}
		if orig.Status != invoice.Posted || orig.Kind != invoice.KindInvoice {
			return invoice.ErrNotPosted
		}
		credited, err := s.store.Credited(ctx, id)
		if err != nil {
			return err
		}
		lines, total, err := invoice.Credit(orig, credited, req)
		if err != nil {
			return err
		}
		cn = invoice.Invoice{ID: uuid.Must(uuid.NewV7()).String(), Kind: invoice.KindCreditNote, CreditsID: id, ContractID: orig.ContractID,
			LegalEntityID: orig.LegalEntityID, CustomerID: orig.CustomerID, Currency: orig.Currency, Status: invoice.Draft, Lines: lines,
			Total: total, OverCap: total.Mul(decimal.Zero), Tax: total.Mul(decimal.Zero), TaxNote: orig.TaxNote, ExemptionRef: orig.ExemptionRef}
		for _, l := range lines {
			cn.Tax.Value = cn.Tax.Value.Add(l.Tax.Value)
		}
		if err := s.store.InsertInvoice(ctx, cn); err != nil {
			return err
		}
		if cn, err = s.post(ctx, cn, issueDate); err != nil {
			return err
		}
		return s.settleReversedInvoiced(ctx, cn)
	})
	return cn, err
}
