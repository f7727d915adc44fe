package receivable

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Payment is cash received from a customer: on account until applied to invoices.
type Payment struct {
	ID            string
	LegalEntityID string
	CustomerID    string
	// Reference is the bank or remittance reference, unique per legal entity: recording the
	// same payment again returns the first one.
	Reference string
	Amount    money.Amount
	Date      civil.Date
	// FXRate converts Amount to the functional currency on Date (1 in the same currency);
	// Functional is the cash booked.
	FXRate     decimal.Decimal
	Functional decimal.Decimal
	// Applied and AppliedFunctional are what applications took off the payment so far;
	// Refunded and RefundedFunctional (at the payment's rate) what refunds paid back.
	Applied, AppliedFunctional   decimal.Decimal
	Refunded, RefundedFunctional decimal.Decimal
	JournalEntryID               string
}

// Unapplied is what is left on account.
func (p Payment) Unapplied() decimal.Decimal { return p.Amount.Value.Sub(p.Applied).Sub(p.Refunded) }

// UnappliedFunctional is what the payment still holds of customer payments on account
// (functional, at its rate).
func (p Payment) UnappliedFunctional() decimal.Decimal {
	return p.Functional.Sub(p.AppliedFunctional).Sub(p.RefundedFunctional)
}

// Same reports whether q records the same payment as p (a retry with the same reference).
func (p Payment) Same(q Payment) bool {
	return p.LegalEntityID == q.LegalEntityID && p.CustomerID == q.CustomerID && p.Amount.Equal(q.Amount) && p.Date == q.Date
}

// Application is the outcome of one ApplyPayment: what it applied (and wrote off) per
// instalment, the payment after it, and each invoice's standing after it.
type Application struct {
	ID             string
	Payment        Payment
	Date           civil.Date
	Lines          []Applied
	Invoices       []InvoiceStanding
	JournalEntryID string
	FXGain         decimal.Decimal // negative: a loss (functional)
	// FunctionalCurrency is the legal entity's, of FXGain.
	FunctionalCurrency string
}

// InvoiceStanding is an invoice's standing after an application.
type InvoiceStanding struct {
	InvoiceID string
	Number    string
	Applied   decimal.Decimal
	Summary   Summary
}

// Journal source types of payments, their applications and refunds (one entry each).
const (
	SourcePayment     = "payment"
	SourceApplication = "payment_application"
	SourceRefund      = "payment_refund"
)

// Refund is cash paid back to a customer out of what a payment has on account.
type Refund struct {
	ID            string
	PaymentID     string
	LegalEntityID string
	CustomerID    string
	// Reference is the bank reference of the refund, unique per legal entity: recording the
	// same refund again returns the first one.
	Reference string
	Amount    money.Amount // in the payment's currency
	Date      civil.Date
	// FXRate converts Amount on Date; Cash is the functional cash paid out at it. Carrying is
	// what the refund takes off customer payments on account, at the payment's rate: their
	// difference is the realized FX gain (Carrying > Cash) or loss.
	FXRate         decimal.Decimal
	Cash, Carrying decimal.Decimal
	JournalEntryID string
	// FunctionalCurrency is the legal entity's, of Cash, Carrying and FXGain.
	FunctionalCurrency string
}

// FXGain is the refund's realized FX gain (negative: a loss), functional.
func (r Refund) FXGain() decimal.Decimal { return r.Carrying.Sub(r.Cash) }

// Same reports whether q records the same refund as r (a retry with the same reference).
func (r Refund) Same(q Refund) bool {
	return r.PaymentID == q.PaymentID && r.Amount.Equal(q.Amount) && r.Date == q.Date
}

// PlanRefund decides a refund of amount on date (rate fx to functional) out of p: it must be in
// the payment's currency (ErrRefundCurrency), positive, dated on or after the payment
// (ErrRefundDate) and no more than p has unapplied (ErrRefundExceedsUnapplied). It carries
// amount at the payment's rate, or all the payment still holds on account when it refunds all
// that is unapplied, so a payment wholly applied and refunded leaves nothing on account.
func PlanRefund(p Payment, amount money.Amount, date civil.Date, fx decimal.Decimal, functional string) (Refund, error) {
	r := Refund{PaymentID: p.ID, LegalEntityID: p.LegalEntityID, CustomerID: p.CustomerID, Amount: amount, Date: date, FXRate: fx,
		FunctionalCurrency: functional}
	switch {
	case amount.Currency != p.Amount.Currency:
		return r, ErrRefundCurrency.With(fmt.Sprintf("the payment is in %s, the refund in %s", p.Amount.Currency, amount.Currency))
	case !amount.Value.IsPositive():
		return r, ErrRefundAmount
	case date.Before(p.Date):
		return r, ErrRefundDate.With(fmt.Sprintf("the payment is dated %s, the refund %s", p.Date, date))
	case amount.Value.GreaterThan(p.Unapplied()):
		return r, ErrRefundExceedsUnapplied.With(fmt.Sprintf("refund %s, unapplied %s", amount.Round(), money.Amount{Value: p.Unapplied(), Currency: p.Amount.Currency}.Round()))
	}
	r.Carrying = money.Amount{Value: amount.Value.Mul(p.FXRate), Currency: functional}.Round().Value
	if amount.Value.Equal(p.Unapplied()) || r.Carrying.GreaterThan(p.UnappliedFunctional()) {
		r.Carrying = p.UnappliedFunctional()
	}
	r.Cash = money.Amount{Value: amount.Value.Mul(fx), Currency: functional}.Round().Value
	return r, nil
}

// RefundEntry is the journal entry of refund r of payment p: Dr customer payments on account
// (the carrying amount, at the payment's rate) / Cr cash (at the refund date's rate), the
// difference to realized FX gain or loss. It balances by construction.
func RefundEntry(r Refund, p Payment, entryID, functional string) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: r.LegalEntityID, Currency: functional, PostingDate: r.Date, SourceDate: r.Date,
		SourceType: SourceRefund, SourceID: r.ID, SourceVersion: 1, Description: "refund " + r.Reference + " of payment " + p.Reference}
	cur := r.Amount.Currency
	e.Lines = appendNonZero(e.Lines, line(ledger.CustomerOnAccount, r.Carrying, r.Amount, p.FXRate, p.Date))
	e.Lines = appendNonZero(e.Lines, line(ledger.Cash, r.Cash.Neg(), r.Amount.Mul(decimal.NewFromInt(-1)), r.FXRate, r.Date))
	e.Lines = appendNonZero(e.Lines, fxLine(r.FXGain(), cur, r.FXRate, r.Date))
	return e
}

// PaymentEntry is the journal entry of receiving p: Dr cash / Cr customer payments on account.
func PaymentEntry(p Payment, entryID, functional string) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: p.LegalEntityID, Currency: functional, PostingDate: p.Date, SourceDate: p.Date,
		SourceType: SourcePayment, SourceID: p.ID, SourceVersion: 1, Description: "payment " + p.Reference}
	e.Lines = append(e.Lines, line(ledger.Cash, p.Functional, p.Amount, p.FXRate, p.Date),
		line(ledger.CustomerOnAccount, p.Functional.Neg(), p.Amount.Mul(decimal.NewFromInt(-1)), p.FXRate, p.Date))
	return e
}

// ApplicationEntry is the journal entry of applying a payment: per instalment, Dr customer
// payments on account (the cash at the payment-date rate) / Cr receivable (at the invoice-date
// rate), the difference to realized FX gain or loss; a write-off Dr write-offs / Cr receivable.
// All lines are functional amounts; it balances by construction.
func ApplicationEntry(a Application, p Payment, entryID, functional string) ledger.Entry {
	e := ledger.Entry{ID: entryID, LegalEntityID: p.LegalEntityID, Currency: functional, PostingDate: a.Date, SourceDate: a.Date,
		SourceType: SourceApplication, SourceID: a.ID, SourceVersion: 1, Description: "payment " + p.Reference + " applied"}
	cur := p.Amount.Currency
	for _, l := range a.Lines {
		txn := money.Amount{Value: l.Amount, Currency: cur}
		e.Lines = appendNonZero(e.Lines, line(ledger.CustomerOnAccount, l.Cash, txn, p.FXRate, p.Date))
		e.Lines = appendNonZero(e.Lines, line(ledger.AccountsReceivable, l.Relieved.Neg(), txn.Mul(decimal.NewFromInt(-1)), p.FXRate, p.Date))
		e.Lines = appendNonZero(e.Lines, fxLine(l.Cash.Sub(l.Relieved), cur, p.FXRate, p.Date))
		if l.WrittenOff.IsPositive() {
			wo := money.Amount{Value: l.WrittenOff, Currency: cur}
			e.Lines = appendNonZero(e.Lines, line(ledger.ReceivableWriteOff, l.WriteOffFunctional, wo, p.FXRate, p.Date))
			e.Lines = appendNonZero(e.Lines, line(ledger.AccountsReceivable, l.WriteOffFunctional.Neg(), wo.Mul(decimal.NewFromInt(-1)), p.FXRate, p.Date))
		}
	}
	return e
}

// fxLine is realized FX: a gain (positive) credits 4900, a loss (negative) debits 5900; zero is
// a zero line, which appendNonZero leaves out.
func fxLine(gain decimal.Decimal, cur string, fx decimal.Decimal, d civil.Date) ledger.Line {
	acct := ledger.RealizedFXGain
	if gain.IsNegative() {
		acct = ledger.RealizedFXLoss
	}
	return line(acct, gain.Neg(), money.Zero(cur), fx, d)
}

// line is a debit (signed > 0) or credit (signed < 0) of a functional amount.
func line(account string, signed decimal.Decimal, txn money.Amount, fx decimal.Decimal, d civil.Date) ledger.Line {
	l := ledger.Line{Account: account, TxnAmount: txn, FXRate: fx, RateDate: d, Debit: decimal.Zero, Credit: decimal.Zero}
	if signed.IsNegative() {
		l.Credit = signed.Neg()
	} else {
		l.Debit = signed
	}
	return l
}

func appendNonZero(lines []ledger.Line, l ledger.Line) []ledger.Line {
	if l.Debit.IsZero() && l.Credit.IsZero() {
		return lines
	}
	return append(lines, l)
}
