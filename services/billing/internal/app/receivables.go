package app

import (
	"context"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/receivable"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// ArAging is a legal entity's AR aging as of asOf (invoices, credit notes and payment
// applications dated later excluded), per customer and in total, in the functional currency,
// with the receivable account's balance on that date beside it.
func (s *Service) ArAging(ctx context.Context, legalEntityID string, asOf civil.Date) (receivable.Aging, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return receivable.Aging{}, err
	}
	le, err := s.store.LegalEntity(ctx, legalEntityID)
	if err != nil {
		return receivable.Aging{}, err
	}
	var a receivable.Aging
	err = s.store.InTx(ctx, func(ctx context.Context) error { // one snapshot for both reads
		dues, err := s.store.DuesAsOf(ctx, legalEntityID, "", asOf)
		if err != nil {
			return err
		}
		a = receivable.Age(dues, asOf, le.FunctionalCurrency)
		a.Ledger, err = s.store.AccountBalance(ctx, legalEntityID, ledger.AccountsReceivable, asOf)
		return err
	})
	return a, err
}

// CustomerStatement is a customer's open instalments on to and payments and refunds dated
// from..to.
func (s *Service) CustomerStatement(ctx context.Context, legalEntityID, customerID string, from, to civil.Date) (receivable.Statement, error) {
	st := receivable.Statement{CustomerID: customerID, From: from, To: to}
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return st, err
	}
	if to.Before(from) {
		return st, receivable.ErrRangeInvalid
	}
	dues, err := s.store.DuesAsOf(ctx, legalEntityID, customerID, to)
	if err != nil {
		return st, err
	}
	for _, d := range dues {
		if d.Open().IsPositive() {
			st.Open = append(st.Open, d)
		}
	}
	if st.Payments, err = s.store.CustomerPayments(ctx, legalEntityID, customerID, from, to); err != nil {
		return st, err
	}
	st.Refunds, err = s.store.CustomerRefunds(ctx, legalEntityID, customerID, from, to)
	return st, err
}

// InvoiceWithStanding returns an invoice with the schedule and standing of a posted one.
func (s *Service) InvoiceWithStanding(ctx context.Context, id string) (invoice.Invoice, receivable.Summary, error) {
	inv, err := s.Invoice(ctx, id)
	if err != nil {
		return inv, receivable.Summary{}, err
	}
	sum, err := s.InvoiceStanding(ctx, id)
	return inv, sum, err
}

// publishApplied publishes payment.applied.
func (s *Service) publishApplied(ctx context.Context, a receivable.Application) error {
	ev := wire.PaymentApplied(a, correlation.ID(ctx))
	if err := s.paymentPartnerIDs(ctx, ev); err != nil {
		return err
	}
	return s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypePaymentApplied,
		Subject: a.Payment.ID, Payload: ev})
}

// ReceivableGauges returns, for the metrics, the open receivables of every legal entity today
// per functional currency and aging bucket, and the unbilled amount per currency.
func (s *Service) ReceivableGauges(ctx context.Context) (map[string]receivable.Buckets, map[string]decimal.Decimal, error) {
	ar, err := s.store.OpenReceivables(ctx, civil.Of(s.now()))
	if err != nil {
		return nil, nil, err
	}
	unbilled, err := s.store.UnbilledAmount(ctx)
	return ar, unbilled, err
}
