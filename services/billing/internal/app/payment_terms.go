package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

// SetPaymentTerms records a legal entity's payment terms (the same code again replaces them;
// invoices already posted keep their schedule).
func (s *Service) SetPaymentTerms(ctx context.Context, t receivable.Terms) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := auth.CheckLegalEntity(ctx, t.LegalEntityID); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.LegalEntity(ctx, t.LegalEntityID); err != nil {
			return err
		}
		if err := s.store.SetPaymentTerms(ctx, t); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "payment_terms.set", EntityType: "legal_entity", EntityID: t.LegalEntityID,
			Details: map[string]any{"code": t.Code, "instalments": len(t.Instalments)}})
	})
}

// PaymentTerms returns a legal entity's payment terms and its receivables policy.
func (s *Service) PaymentTerms(ctx context.Context, legalEntityID string) ([]receivable.Terms, receivable.Policy, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, receivable.Policy{}, err
	}
	terms, err := s.store.ListPaymentTerms(ctx, legalEntityID)
	if err != nil {
		return nil, receivable.Policy{}, err
	}
	p, err := s.store.ReceivablesPolicy(ctx, legalEntityID)
	return terms, p, err
}

// SetReceivablesPolicy records a legal entity's default payment terms (which must exist, or
// be empty: due on issue) and write-off tolerance.
func (s *Service) SetReceivablesPolicy(ctx context.Context, p receivable.Policy) error {
	if p.Tolerance.IsNegative() {
		return receivable.ErrTermsInvalid.With("the write-off tolerance cannot be negative")
	}
	if err := auth.CheckLegalEntity(ctx, p.LegalEntityID); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.LegalEntity(ctx, p.LegalEntityID); err != nil {
			return err
		}
		if p.DefaultTerms != "" {
			if t, err := s.store.PaymentTerms(ctx, p.LegalEntityID, p.DefaultTerms); err != nil {
				return err
			} else if t == nil {
				return receivable.ErrTermsNotFound.With("no payment terms " + p.DefaultTerms)
			}
		}
		if err := s.store.SetReceivablesPolicy(ctx, p); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "receivables_policy.set", EntityType: "legal_entity", EntityID: p.LegalEntityID,
			Details: map[string]any{"default_terms": p.DefaultTerms, "write_off_tolerance": p.Tolerance.String()}})
	})
}

// termsOf are the payment terms of a contract's invoices: the contract's own, else the legal
// entity's default, else due on issue.
func (s *Service) termsOf(ctx context.Context, inv invoice.Invoice) (receivable.Terms, error) {
	c, err := s.store.Contract(ctx, inv.ContractID, 0)
	if err != nil {
		return receivable.Terms{}, err
	}
	code := c.PaymentTermsCode
	if code == "" {
		p, err := s.store.ReceivablesPolicy(ctx, inv.LegalEntityID)
		if err != nil {
			return receivable.Terms{}, err
		}
		code = p.DefaultTerms
	}
	if code == "" {
		return receivable.Immediate, nil
	}
	t, err := s.store.PaymentTerms(ctx, inv.LegalEntityID, code)
	if err != nil {
		return receivable.Terms{}, err
	}
	if t == nil {
		return receivable.Terms{}, receivable.ErrTermsNotFound.With("the contract's payment terms " + code + " are not defined for the legal entity")
	}
	return *t, nil
}

// receivableOf is what entry put on the receivable account (debits minus credits).
func receivableOf(e ledger.Entry) decimal.Decimal {
	v := decimal.Zero
	for _, l := range e.Lines {
		if l.Account == ledger.AccountsReceivable {
			v = v.Add(l.Debit).Sub(l.Credit)
		}
	}
	return v
}

// scheduleReceivable records what posting inv (in the ambient transaction, journal entry e at
// rate fx) does to receivables: an invoice gets its schedule of due amounts; a credit note
// reduces the credited invoice's open instalments, latest due first.
func (s *Service) scheduleReceivable(ctx context.Context, inv invoice.Invoice, e ledger.Entry, fx decimal.Decimal) error {
	functional := money.Amount{Value: receivableOf(e), Currency: e.Currency}
	if inv.Kind == invoice.KindInvoice {
		t, err := s.termsOf(ctx, inv)
		if err != nil {
			return err
		}
		dues := receivable.Schedule(t, inv.ID, inv.IssueDate, inv.Gross(), functional, fx)
		for i := range dues {
			dues[i].LegalEntityID, dues[i].CustomerID = inv.LegalEntityID, inv.CustomerID
		}
		return s.store.InsertSchedule(ctx, dues)
	}
	dues, err := s.store.Dues(ctx, []string{inv.CreditsID}, true)
	if err != nil || len(dues) == 0 { // an invoice posted before schedules existed
		return err
	}
	moves, err := receivable.Credit(dues, inv.Gross().Value.Neg(), functional.Value.Neg(), e.Currency)
	if err != nil {
		return err
	}
	return s.store.AddMovements(ctx, inv.IssueDate, receivable.MovementRef{CreditNoteID: inv.ID, JournalEntryID: e.ID}, moves)
}

// InvoiceStanding returns a posted invoice's schedule and standing (POSTED, PARTIALLY_PAID,
// PAID or CREDITED); a draft or void invoice has none.
func (s *Service) InvoiceStanding(ctx context.Context, id string) (receivable.Summary, error) {
	dues, err := s.store.Dues(ctx, []string{id}, false)
	if err != nil {
		return receivable.Summary{}, err
	}
	return receivable.Summarize(dues), nil
}
