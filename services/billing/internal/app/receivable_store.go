package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

// ReceivableStore keeps payment terms, invoices' instalments, payments and what settles
// instalments (package receivable).
type ReceivableStore interface {
	SetPaymentTerms(ctx context.Context, t receivable.Terms) error
	ListPaymentTerms(ctx context.Context, legalEntityID string) ([]receivable.Terms, error)
	// PaymentTerms returns the terms of code, nil when there are none.
	PaymentTerms(ctx context.Context, legalEntityID, code string) (*receivable.Terms, error)
	SetReceivablesPolicy(ctx context.Context, p receivable.Policy) error
	ReceivablesPolicy(ctx context.Context, legalEntityID string) (receivable.Policy, error)
	InsertSchedule(ctx context.Context, dues []receivable.Due) error
	// Dues returns the instalments of invoices by invoice id and number, locked when lock.
	Dues(ctx context.Context, invoiceIDs []string, lock bool) ([]receivable.Due, error)
	// OpenInvoices returns a customer's invoices in currency with something open.
	OpenInvoices(ctx context.Context, legalEntityID, customerID, currency string) ([]string, error)
	// DuesAsOf returns the instalments of invoices issued up to asOf with the movements dated
	// up to asOf (customerID "": every customer).
	DuesAsOf(ctx context.Context, legalEntityID, customerID string, asOf civil.Date) ([]receivable.Due, error)
	// AddMovements records movements dated d and adds them to their instalments.
	AddMovements(ctx context.Context, d civil.Date, ref receivable.MovementRef, moves []receivable.Movement) error
	ApplicationMoves(ctx context.Context, applicationID string) ([]receivable.Movement, error)
	// InsertPayment fails with receivable.ErrReferenceTaken on a reference already used.
	InsertPayment(ctx context.Context, p receivable.Payment) error
	// Payment returns receivable.ErrPaymentNotFound.
	Payment(ctx context.Context, id string, lock bool) (receivable.Payment, error)
	PaymentByReference(ctx context.Context, legalEntityID, reference string) (*receivable.Payment, error)
	AddApplied(ctx context.Context, id string, amount, functional decimal.Decimal) error
	// InsertRefund records a refund and adds it to its payment's refunded totals; it fails with
	// receivable.ErrRefundReferenceTaken on a reference already used.
	InsertRefund(ctx context.Context, r receivable.Refund) error
	// RefundByReference returns the refund of a reference, nil when none.
	RefundByReference(ctx context.Context, legalEntityID, reference string) (*receivable.Refund, error)
	// CustomerRefunds returns a customer's refunds dated from..to.
	CustomerRefunds(ctx context.Context, legalEntityID, customerID string, from, to civil.Date) ([]receivable.Refund, error)
	// CustomerPayments returns a customer's payments dated from..to, Applied and Refunded as of to.
	CustomerPayments(ctx context.Context, legalEntityID, customerID string, from, to civil.Date) ([]receivable.Payment, error)
	// AccountBalance is debits minus credits of an account over entries posted up to asOf.
	AccountBalance(ctx context.Context, legalEntityID, account string, asOf civil.Date) (decimal.Decimal, error)
	// OpenReceivables sums open receivables per functional currency and aging bucket on asOf.
	OpenReceivables(ctx context.Context, asOf civil.Date) (map[string]receivable.Buckets, error)
	// UnbilledAmount sums the unbilled part of open invoice candidates per currency.
	UnbilledAmount(ctx context.Context) (map[string]decimal.Decimal, error)
}
