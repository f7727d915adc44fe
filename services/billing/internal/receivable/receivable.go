package receivable

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Faults of rejected requests, with their stable reasons.
var (
	ErrTermsInvalid      = fault.New(fault.Invalid, "PAYMENT_TERMS_INVALID", "payment terms need one or more instalments of a positive percent summing to exactly 100, due 0 to 3650 days after the issue date")
	ErrTermsNotFound     = fault.New(fault.FailedPrecondition, "PAYMENT_TERMS_UNKNOWN", "the legal entity has no payment terms of this code")
	ErrPaymentNotFound   = fault.New(fault.NotFound, "PAYMENT_NOT_FOUND", "no such payment")
	ErrReferenceTaken    = fault.New(fault.FailedPrecondition, "PAYMENT_REFERENCE_TAKEN", "the legal entity already recorded a different payment with this reference")
	ErrCurrencyMismatch  = fault.New(fault.FailedPrecondition, "PAYMENT_CURRENCY_MISMATCH", "a payment applies only to invoices of its own currency and customer")
	ErrNotOpen           = fault.New(fault.FailedPrecondition, "INVOICE_NOT_OPEN", "the invoice has nothing open to pay (not posted, or already paid or credited)")
	ErrOverApplied       = fault.New(fault.FailedPrecondition, "ALLOCATION_EXCEEDS_OPEN", "the allocation exceeds what is open on the invoice or instalment")
	ErrUnappliedTooSmall = fault.New(fault.FailedPrecondition, "PAYMENT_UNAPPLIED_INSUFFICIENT", "the allocations exceed what is left unapplied of the payment")
	ErrNothingToApply    = fault.New(fault.FailedPrecondition, "NOTHING_TO_APPLY", "the payment is fully applied or the customer has nothing open")
	ErrInstalmentUnknown = fault.New(fault.Invalid, "INSTALMENT_UNKNOWN", "the invoice has no such instalment")
	ErrCreditExceedsOpen = fault.New(fault.FailedPrecondition, "CREDIT_EXCEEDS_OPEN", "the credit note exceeds what is still open on the invoice (paid amounts are not credited back)")
	ErrRangeInvalid      = fault.New(fault.Invalid, "DATE_RANGE_INVALID", "the end date is before the start date")
	ErrFXMissing         = fault.New(fault.FailedPrecondition, "EXCHANGE_RATE_MISSING_FOR_DATE", "no exchange rate to the functional currency on the payment date")

	ErrRefundExceedsUnapplied = fault.New(fault.FailedPrecondition, "REFUND_EXCEEDS_UNAPPLIED", "the refund exceeds what the payment has unapplied (on account)")
	ErrRefundCurrency         = fault.New(fault.Invalid, "REFUND_CURRENCY_MISMATCH", "a refund is in the currency of its payment")
	ErrRefundAmount           = fault.New(fault.Invalid, "REFUND_AMOUNT_INVALID", "a refund must be positive")
	ErrRefundDate             = fault.New(fault.Invalid, "REFUND_DATE_INVALID", "a refund is dated on or after its payment")
	ErrRefundReferenceTaken   = fault.New(fault.FailedPrecondition, "REFUND_REFERENCE_TAKEN", "the legal entity already recorded a different refund with this reference")
)

// Instalment of payment terms: Percent of the gross due DueDays after the issue date.
type Instalment struct {
	Percent decimal.Decimal
	DueDays int
}

// Terms are named payment terms of a legal entity, e.g. "N30" or "50-30/50-60".
type Terms struct {
	LegalEntityID string
	Code          string
	Description   string
	Instalments   []Instalment
}

// Immediate are the terms of an invoice whose contract and legal entity name none: all due on
// the issue date.
var Immediate = Terms{Code: "DUE_ON_ISSUE", Instalments: []Instalment{{Percent: decimal.NewFromInt(100)}}}

var hundred = decimal.NewFromInt(100)

// Validate checks the terms: a code, one to twelve instalments, each a positive percent with at
// most 4 decimals due 0 to 3650 days out, due days not decreasing, percents summing to exactly 100.
func (t Terms) Validate() error {
	if t.Code == "" || len(t.Instalments) == 0 || len(t.Instalments) > 12 {
		return ErrTermsInvalid
	}
	sum, prev := decimal.Zero, -1
	for i, in := range t.Instalments {
		if !in.Percent.IsPositive() || in.Percent.Exponent() < -4 || in.DueDays < 0 || in.DueDays > 3650 || in.DueDays < prev {
			return ErrTermsInvalid.With(fmt.Sprintf("instalment %d: percent %s due after %d days", i+1, in.Percent, in.DueDays))
		}
		sum, prev = sum.Add(in.Percent), in.DueDays
	}
	if !sum.Equal(hundred) {
		return ErrTermsInvalid.With("the percents sum to " + sum.String() + ", not 100")
	}
	return nil
}

// Policy is a legal entity's receivables policy: the terms of invoices whose contract names
// none, and the write-off tolerance (in the invoice's currency): once a payment leaves an
// invoice with no more than this open, the remainder is written off.
type Policy struct {
	LegalEntityID string
	DefaultTerms  string
	Tolerance     decimal.Decimal
}

// Due is one instalment of a posted invoice's schedule, with what happened to it so far.
type Due struct {
	InvoiceID     string
	InvoiceNumber string
	No            int
	LegalEntityID string
	CustomerID    string
	IssueDate     civil.Date
	DueDate       civil.Date
	// Amount is the instalment in the invoice's currency; Functional its share of the
	// receivable in the functional currency at the invoice-date rate (FXRate).
	Amount     money.Amount
	Functional decimal.Decimal
	FXRate     decimal.Decimal
	// Credited, Paid and WrittenOff reduce Amount (invoice currency); Relieved is the
	// functional amount they took off the receivable.
	Credited, Paid, WrittenOff, Relieved decimal.Decimal
}

// Open is what is still due of the instalment (invoice currency).
func (d Due) Open() decimal.Decimal {
	return d.Amount.Value.Sub(d.Credited).Sub(d.Paid).Sub(d.WrittenOff)
}

// OpenFunctional is what the instalment still holds of the receivable.
func (d Due) OpenFunctional() decimal.Decimal { return d.Functional.Sub(d.Relieved) }

// relieve is the functional amount that settling amt of the instalment takes off the
// receivable: amt at the invoice rate, or all that is left when amt settles it.
func (d Due) relieve(amt decimal.Decimal, functional string) decimal.Decimal {
	if amt.Equal(d.Open()) {
		return d.OpenFunctional()
	}
	r := money.Amount{Value: amt.Mul(d.FXRate), Currency: functional}.Round().Value
	if r.GreaterThan(d.OpenFunctional()) {
		r = d.OpenFunctional()
	}
	return r
}

// Schedule splits gross (the invoice's total with tax; functional: the receivable it booked)
// into the instalments of terms due from issue: each instalment is its percent of the amount
// rounded half-up to the minor unit, and the last takes the residual, so the instalments sum
// to the gross exactly (likewise in the functional currency). A zero-net invoice (gross 0.00,
// e.g. time drawn down against a retainer) owes nothing: it gets one instalment of 0.00 due on
// issue, never an open 0.00 per instalment of its terms, and Summarize reads it as PAID.
func Schedule(t Terms, invoiceID string, issue civil.Date, gross money.Amount, functional money.Amount, fx decimal.Decimal) []Due {
	if gross.Value.IsZero() && functional.Value.IsZero() {
		t = Immediate
	}
	out := make([]Due, len(t.Instalments))
	restT, restF := gross.Value, functional.Value
	for i, in := range t.Instalments {
		a := money.Amount{Value: gross.Value.Mul(in.Percent).Div(hundred), Currency: gross.Currency}.Round().Value
		f := money.Amount{Value: functional.Value.Mul(in.Percent).Div(hundred), Currency: functional.Currency}.Round().Value
		if i == len(t.Instalments)-1 {
			a, f = restT, restF
		}
		restT, restF = restT.Sub(a), restF.Sub(f)
		out[i] = Due{InvoiceID: invoiceID, No: i + 1, IssueDate: issue, DueDate: issue.AddDays(in.DueDays),
			Amount: money.Amount{Value: a, Currency: gross.Currency}, Functional: f, FXRate: fx,
			Credited: decimal.Zero, Paid: decimal.Zero, WrittenOff: decimal.Zero, Relieved: decimal.Zero}
	}
	return out
}

// Movement is what reduces one instalment: a credit note, a payment application or a
// write-off, in the invoice currency and as relieved from the receivable (functional).
type Movement struct {
	InvoiceID  string
	No         int
	Kind       string // CREDIT, PAYMENT, WRITE_OFF
	Amount     decimal.Decimal
	Functional decimal.Decimal
}

// MovementRef says where movements come from (each id may be empty).
type MovementRef struct {
	PaymentID, ApplicationID, CreditNoteID, JournalEntryID string
}

// Movement kinds.
const (
	MoveCredit   = "CREDIT"
	MovePayment  = "PAYMENT"
	MoveWriteOff = "WRITE_OFF"
)

// Credit spreads a credit note of amount (positive, invoice currency; functional: what the
// credit note took off the receivable) over an invoice's instalments, latest due first (the
// customer's earliest obligations stand as agreed). It fails with ErrCreditExceedsOpen when
// the invoice has less open than the credit.
func Credit(dues []Due, amount, functional decimal.Decimal, functionalCurrency string) ([]Movement, error) {
	open := decimal.Zero
	for _, d := range dues {
		open = open.Add(d.Open())
	}
	if amount.GreaterThan(open) {
		return nil, ErrCreditExceedsOpen.With(fmt.Sprintf("credit %s, open %s", amount, open))
	}
	var out []Movement
	restT, restF := amount, functional
	for i := len(dues) - 1; i >= 0 && restT.IsPositive(); i-- {
		d := dues[i]
		a := decimal.Min(d.Open(), restT)
		if !a.IsPositive() {
			continue
		}
		// The credit note's functional amount (at its own date's rate) is spread in proportion,
		// the last piece taking the residual, so the pieces sum to what it took off the ledger.
		f := money.Amount{Value: functional.Mul(a).Div(amount), Currency: functionalCurrency}.Round().Value
		if !restT.Sub(a).IsPositive() {
			f = restF
		}
		restT, restF = restT.Sub(a), restF.Sub(f)
		out = append(out, Movement{InvoiceID: d.InvoiceID, No: d.No, Kind: MoveCredit, Amount: a, Functional: f})
	}
	return out, nil
}

// Status is where a posted invoice stands with its customer.
type Status string

const (
	StatusPosted        Status = "POSTED"
	StatusPartiallyPaid Status = "PARTIALLY_PAID"
	StatusPaid          Status = "PAID"
	StatusCredited      Status = "CREDITED"
)

// Summary is a posted invoice's standing: its schedule and what is paid, credited and open.
type Summary struct {
	Status                            Status
	Gross, Paid, Credited, WrittenOff decimal.Decimal
	Open                              decimal.Decimal
	Dues                              []Due
}

// Summarize sums an invoice's dues: PAID when it owed nothing (gross 0.00, a zero-net
// invoice), CREDITED when credit notes took all of it, PAID when nothing is open (payments and
// write-offs settled the rest), PARTIALLY_PAID when a payment applied and something is open,
// else POSTED.
func Summarize(dues []Due) Summary {
	s := Summary{Dues: dues}
	for _, d := range dues {
		s.Gross, s.Paid, s.Credited = s.Gross.Add(d.Amount.Value), s.Paid.Add(d.Paid), s.Credited.Add(d.Credited)
		s.WrittenOff, s.Open = s.WrittenOff.Add(d.WrittenOff), s.Open.Add(d.Open())
	}
	switch {
	case len(dues) == 0:
		s.Status = StatusPosted
	case s.Gross.IsZero():
		s.Status = StatusPaid
	case s.Credited.Equal(s.Gross):
		s.Status = StatusCredited
	case !s.Open.IsPositive():
		s.Status = StatusPaid
	case s.Paid.IsPositive():
		s.Status = StatusPartiallyPaid
	default:
		s.Status = StatusPosted
	}
	return s
}
