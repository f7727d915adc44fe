package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/receivable"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// RecordPayment records cash received from a customer on its date: Dr cash / Cr customer
// payments on account at the payment-date rate. The reference is the natural key: the same
// payment again returns the first one (replayed true); another payment with a used reference
// is receivable.ErrReferenceTaken.
func (s *Service) RecordPayment(ctx context.Context, p receivable.Payment) (out receivable.Payment, replayed bool, err error) {
	if err := auth.CheckLegalEntity(ctx, p.LegalEntityID); err != nil {
		return p, false, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if prev, err := s.store.PaymentByReference(ctx, p.LegalEntityID, p.Reference); err != nil {
			return err
		} else if prev != nil {
			if !prev.Same(p) {
				return receivable.ErrReferenceTaken.With("payment " + prev.ID + " has reference " + p.Reference)
			}
			out, replayed = *prev, true
			return nil
		}
		le, err := s.store.LegalEntity(ctx, p.LegalEntityID)
		if err != nil {
			return err
		}
		if err := s.checkOpen(ctx, le.ID, p.Date); err != nil {
			return err
		}
		fx, err := s.rateOn(ctx, p.Amount.Currency, le.FunctionalCurrency, p.Date)
		if err != nil {
			return err
		}
		p.ID, p.JournalEntryID = uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		p.FXRate, p.Functional = fx, money.Amount{Value: p.Amount.Value.Mul(fx), Currency: le.FunctionalCurrency}.Round().Value
		p.Applied, p.AppliedFunctional = decimal.Zero, decimal.Zero
		e := receivable.PaymentEntry(p, p.JournalEntryID, le.FunctionalCurrency)
		if err := s.writeEntry(ctx, e); err != nil {
			return err
		}
		if err := s.store.InsertPayment(ctx, p); err != nil {
			return err
		}
		out = p
		return s.store.Audit(ctx, audit.Record{Action: "payment.recorded", EntityType: "payment", EntityID: p.ID,
			Details: map[string]any{"reference": p.Reference, "amount": p.Amount.String(), "customer_id": p.CustomerID, "date": p.Date.String()}})
	})
	return out, replayed, err
}

// Payment returns a payment.
func (s *Service) Payment(ctx context.Context, id string) (receivable.Payment, error) {
	p, err := s.store.Payment(ctx, id, false)
	if err != nil {
		return p, err
	}
	return p, auth.CheckLegalEntity(ctx, p.LegalEntityID)
}

// ApplyPayment applies what is unapplied of payment paymentID to invoices of its customer and
// currency: the allocations given, or oldest due first over the customer's open invoices when
// there are none. It is dated the payment's date (or the latest issue date of the invoices it
// settles, when later) and posts Dr payments on account / Cr receivable, the difference of the
// payment-date and invoice-date rates to realized FX gain or loss, and writes off an invoice's
// remainder within the legal entity's tolerance (Dr write-offs / Cr receivable). It locks the
// payment and the instalments, so concurrent applications never apply more than is open.
// applicationID (optional) makes a retry return the first outcome.
func (s *Service) ApplyPayment(ctx context.Context, paymentID, applicationID string, allocs []receivable.Allocation) (a receivable.Application, err error) {
	if applicationID == "" {
		applicationID = uuid.Must(uuid.NewV7()).String()
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		p, err := s.store.Payment(ctx, paymentID, true)
		if err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, p.LegalEntityID); err != nil {
			return err
		}
		if prev, err := s.store.ApplicationMoves(ctx, applicationID); err != nil {
			return err
		} else if len(prev) > 0 {
			a, err = s.replayApplication(ctx, applicationID, p, prev)
			return err
		}
		le, err := s.store.LegalEntity(ctx, p.LegalEntityID)
		if err != nil {
			return err
		}
		policy, err := s.store.ReceivablesPolicy(ctx, p.LegalEntityID)
		if err != nil {
			return err
		}
		var ids []string
		if len(allocs) == 0 {
			if ids, err = s.store.OpenInvoices(ctx, p.LegalEntityID, p.CustomerID, p.Amount.Currency); err != nil {
				return err
			}
		} else {
			seen := map[string]bool{}
			for _, al := range allocs {
				if !seen[al.InvoiceID] {
					seen[al.InvoiceID], ids = true, append(ids, al.InvoiceID)
				}
			}
		}
		sort.Strings(ids)
		dues, err := s.store.Dues(ctx, ids, true)
		if err != nil {
			return err
		}
		if err := checkDues(dues, ids, p); err != nil {
			return err
		}
		if !p.Unapplied().IsPositive() {
			return receivable.ErrNothingToApply.With("the payment is fully applied")
		}
		lines, err := receivable.Apply(dues, allocs, p.Unapplied(), p.FXRate, policy.Tolerance, le.FunctionalCurrency)
		if err != nil {
			return err
		}
		a = receivable.Application{ID: applicationID, Date: p.Date, Lines: lines, JournalEntryID: uuid.Must(uuid.NewV7()).String(),
			FunctionalCurrency: le.FunctionalCurrency}
		applied, cash := decimal.Zero, decimal.Zero
		for _, l := range lines {
			applied, cash = applied.Add(l.Amount), cash.Add(l.Cash)
			for _, d := range dues {
				if d.InvoiceID == l.InvoiceID && d.IssueDate.After(a.Date) {
					a.Date = d.IssueDate
				}
			}
		}
		// The last application of a payment takes off what is left of its functional cash.
		if applied.Equal(p.Unapplied()) && len(lines) > 0 {
			rest := p.UnappliedFunctional().Sub(cash)
			for i := len(lines) - 1; i >= 0; i-- {
				if lines[i].Amount.IsPositive() {
					lines[i].Cash = lines[i].Cash.Add(rest)
					cash = cash.Add(rest)
					break
				}
			}
		}
		if err := s.checkOpen(ctx, le.ID, a.Date); err != nil {
			return err
		}
		e := receivable.ApplicationEntry(a, p, a.JournalEntryID, le.FunctionalCurrency)
		for _, l := range e.Lines {
			switch l.Account {
			case ledger.RealizedFXGain:
				a.FXGain = a.FXGain.Add(l.Credit)
			case ledger.RealizedFXLoss:
				a.FXGain = a.FXGain.Sub(l.Debit)
			}
		}
		if err := s.writeEntry(ctx, e); err != nil {
			return err
		}
		var moves []receivable.Movement
		for _, l := range lines {
			if l.Amount.IsPositive() {
				moves = append(moves, receivable.Movement{InvoiceID: l.InvoiceID, No: l.No, Kind: receivable.MovePayment, Amount: l.Amount, Functional: l.Relieved})
			}
			if l.WrittenOff.IsPositive() {
				moves = append(moves, receivable.Movement{InvoiceID: l.InvoiceID, No: l.No, Kind: receivable.MoveWriteOff, Amount: l.WrittenOff, Functional: l.WriteOffFunctional})
			}
		}
		ref := receivable.MovementRef{PaymentID: p.ID, ApplicationID: a.ID, JournalEntryID: e.ID}
		if err := s.store.AddMovements(ctx, a.Date, ref, moves); err != nil {
			return err
		}
		if err := s.store.AddApplied(ctx, p.ID, applied, cash); err != nil {
			return err
		}
		p.Applied, p.AppliedFunctional = p.Applied.Add(applied), p.AppliedFunctional.Add(cash)
		a.Payment = p
		if a.Invoices, err = s.standings(ctx, lines); err != nil {
			return err
		}
		if err := s.publishApplied(ctx, a); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "payment.applied", EntityType: "payment", EntityID: p.ID,
			Details: map[string]any{"application_id": a.ID, "applied": applied.String(), "invoices": len(a.Invoices), "fx_gain": a.FXGain.String()}})
	})
	return a, err
}

// RefundPayment pays back amount (in the payment's currency) of what payment paymentID has on
// account to its customer, on date: Dr customer payments on account at the payment's rate / Cr
// cash at date's rate, the difference to realized FX gain or loss (receivable.PlanRefund,
// receivable.RefundEntry). More than the payment has unapplied is
// receivable.ErrRefundExceedsUnapplied and writes nothing; a date in a closed period is
// invoice.ErrPeriodClosed. The reference is the natural key: the same refund again returns the
// first one (replayed true); another refund with a used reference is
// receivable.ErrRefundReferenceTaken. It locks the payment, so refunds and applications of one
// payment never take more than it has on account, and publishes payment.refunded.
func (s *Service) RefundPayment(ctx context.Context, paymentID string, amount money.Amount, date civil.Date, reference string) (r receivable.Refund, p receivable.Payment, replayed bool, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if p, err = s.store.Payment(ctx, paymentID, true); err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, p.LegalEntityID); err != nil {
			return err
		}
		le, err := s.store.LegalEntity(ctx, p.LegalEntityID)
		if err != nil {
			return err
		}
		if prev, err := s.store.RefundByReference(ctx, p.LegalEntityID, reference); err != nil {
			return err
		} else if prev != nil {
			if !prev.Same(receivable.Refund{PaymentID: p.ID, Amount: amount, Date: date}) {
				return receivable.ErrRefundReferenceTaken.With("refund " + prev.ID + " has reference " + reference)
			}
			r, replayed = *prev, true
			r.FunctionalCurrency = le.FunctionalCurrency
			return nil
		}
		if err := s.checkOpen(ctx, le.ID, date); err != nil {
			return err
		}
		fx := decimal.NewFromInt(1)
		if amount.Currency == p.Amount.Currency {
			if fx, err = s.rateOn(ctx, amount.Currency, le.FunctionalCurrency, date); err != nil {
				return err
			}
		}
		if r, err = receivable.PlanRefund(p, amount, date, fx, le.FunctionalCurrency); err != nil {
			return err
		}
		r.ID, r.JournalEntryID, r.Reference = uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), reference
		if err := s.writeEntry(ctx, receivable.RefundEntry(r, p, r.JournalEntryID, le.FunctionalCurrency)); err != nil {
			return err
		}
		if err := s.store.InsertRefund(ctx, r); err != nil {
			return err
		}
		p.Refunded, p.RefundedFunctional = p.Refunded.Add(r.Amount.Value), p.RefundedFunctional.Add(r.Carrying)
		if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePaymentRefunded, Subject: p.ID,
			Payload: wire.PaymentRefunded(r, p, correlation.ID(ctx))}); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "payment.refunded", EntityType: "payment", EntityID: p.ID,
			Details: map[string]any{"refund_id": r.ID, "reference": reference, "amount": r.Amount.String(), "date": date.String(),
				"fx_gain": r.FXGain().String(), "unapplied": p.Unapplied().String()}})
	})
	return r, p, replayed, err
}

// checkDues refuses invoices that are not the payment's customer's and currency, or that have
// no schedule (not posted).
func checkDues(dues []receivable.Due, ids []string, p receivable.Payment) error {
	has := map[string]bool{}
	for _, d := range dues {
		if d.CustomerID != p.CustomerID || d.Amount.Currency != p.Amount.Currency || d.LegalEntityID != p.LegalEntityID {
			return receivable.ErrCurrencyMismatch.With(fmt.Sprintf("invoice %s is of customer %s in %s", d.InvoiceNumber, d.CustomerID, d.Amount.Currency))
		}
		has[d.InvoiceID] = true
	}
	for _, id := range ids {
		if !has[id] {
			return receivable.ErrNotOpen.With("invoice " + id + " is not a posted invoice")
		}
	}
	if len(ids) == 0 {
		return receivable.ErrNothingToApply.With("the customer has nothing open in " + p.Amount.Currency)
	}
	return nil
}

// standings reads the standing of the invoices lines touched, in their order.
func (s *Service) standings(ctx context.Context, lines []receivable.Applied) ([]receivable.InvoiceStanding, error) {
	var order []string
	applied := map[string]decimal.Decimal{}
	for _, l := range lines {
		if _, ok := applied[l.InvoiceID]; !ok {
			order = append(order, l.InvoiceID)
		}
		applied[l.InvoiceID] = applied[l.InvoiceID].Add(l.Amount)
	}
	out := make([]receivable.InvoiceStanding, 0, len(order))
	for _, id := range order {
		dues, err := s.store.Dues(ctx, []string{id}, false)
		if err != nil {
			return nil, err
		}
		st := receivable.InvoiceStanding{InvoiceID: id, Applied: applied[id], Summary: receivable.Summarize(dues)}
		if len(dues) > 0 {
			st.Number = dues[0].InvoiceNumber
		}
		out = append(out, st)
	}
	return out, nil
}

// replayApplication rebuilds the outcome of an application already made.
func (s *Service) replayApplication(ctx context.Context, id string, p receivable.Payment, moves []receivable.Movement) (receivable.Application, error) {
	a := receivable.Application{ID: id, Payment: p, Date: p.Date}
	for _, m := range moves {
		l := receivable.Applied{InvoiceID: m.InvoiceID, No: m.No, Amount: decimal.Zero, WrittenOff: decimal.Zero}
		if m.Kind == receivable.MovePayment {
			l.Amount = m.Amount
		} else {
			l.WrittenOff = m.Amount
		}
		a.Lines = append(a.Lines, l)
	}
	var err error
	a.Invoices, err = s.standings(ctx, a.Lines)
	return a, err
}

// rateOn is the rate from → to on d (1 for the same currency), receivable.ErrFXMissing.
func (s *Service) rateOn(ctx context.Context, from, to string, d civil.Date) (decimal.Decimal, error) {
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	r, ok, err := s.store.ExchangeRate(ctx, from, to, d)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, receivable.ErrFXMissing.With(fmt.Sprintf("no %s/%s rate on %s", from, to, d))
	}
	return r, nil
}

// checkOpen refuses a date in a closed period of the legal entity.
func (s *Service) checkOpen(ctx context.Context, legalEntityID string, d civil.Date) error {
	periods, err := s.store.ListPeriods(ctx, legalEntityID)
	if err != nil {
		return err
	}
	for _, p := range periods {
		if p.Period == ledger.PeriodOf(d) && p.Status == ledger.PeriodClosed {
			return invoice.ErrPeriodClosed.With("period " + p.Period + " of the legal entity is closed")
		}
	}
	return nil
}

// writeEntry posts a balanced journal entry of a receivables source.
func (s *Service) writeEntry(ctx context.Context, e ledger.Entry) error {
	if !e.Balanced() {
		return fmt.Errorf("%s %s: journal entry does not balance", e.SourceType, e.SourceID)
	}
	res := ledger.Result{Source: ledger.Source{Type: e.SourceType, ID: e.SourceID, Version: 1, Date: e.PostingDate},
		Outcome: ledger.Posted, Entry: &e, PostingDate: e.PostingDate}
	return s.store.WriteResults(ctx, []ledger.Result{res}, correlation.ID(ctx))
}
