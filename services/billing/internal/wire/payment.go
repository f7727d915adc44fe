package wire

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

var standingStatuses = map[receivable.Status]billingv1.InvoiceStatus{
	receivable.StatusPosted: billingv1.InvoiceStatus_INVOICE_STATUS_POSTED, receivable.StatusPartiallyPaid: billingv1.InvoiceStatus_INVOICE_STATUS_PARTIALLY_PAID,
	receivable.StatusPaid: billingv1.InvoiceStatus_INVOICE_STATUS_PAID, receivable.StatusCredited: billingv1.InvoiceStatus_INVOICE_STATUS_CREDITED,
}

func m(v decimal.Decimal, currency string) *commonv1.Money {
	return moneyProto(money.Amount{Value: v, Currency: currency})
}

// PaymentTerms parses payment terms of a legal entity.
func PaymentTerms(legalEntityID string, p *billingv1.PaymentTerms) (receivable.Terms, error) {
	t := receivable.Terms{LegalEntityID: legalEntityID, Code: p.GetCode(), Description: p.GetDescription()}
	for _, in := range p.GetInstalments() {
		pct, err := decimal.NewFromString(in.GetPercent())
		if err != nil {
			return t, fault.Invalidf("PAYMENT_TERMS_INVALID", "payment_terms.instalments.percent", "%q is not a percent", in.GetPercent())
		}
		t.Instalments = append(t.Instalments, receivable.Instalment{Percent: pct, DueDays: int(in.GetDueDays())})
	}
	return t, nil
}

// PaymentTermsProto converts payment terms.
func PaymentTermsProto(t receivable.Terms) *billingv1.PaymentTerms {
	p := &billingv1.PaymentTerms{Code: t.Code, Description: t.Description}
	for _, in := range t.Instalments {
		p.Instalments = append(p.Instalments, &billingv1.PaymentInstalment{Percent: in.Percent.String(), DueDays: int32(in.DueDays)})
	}
	return p
}

// ReceivablesPolicy parses a legal entity's policy.
func ReceivablesPolicy(legalEntityID string, p *billingv1.ReceivablesPolicy) (receivable.Policy, error) {
	out := receivable.Policy{LegalEntityID: legalEntityID, DefaultTerms: p.GetDefaultTermsCode(), Tolerance: decimal.Zero}
	if s := p.GetWriteOffTolerance(); s != "" {
		d, err := money.ParseDecimal(s, "policy.write_off_tolerance")
		if err != nil {
			return out, err
		}
		out.Tolerance = d
	}
	return out, nil
}

// ReceivablesPolicyProto converts a policy.
func ReceivablesPolicyProto(p receivable.Policy) *billingv1.ReceivablesPolicy {
	return &billingv1.ReceivablesPolicy{DefaultTermsCode: p.DefaultTerms, WriteOffTolerance: p.Tolerance.String()}
}

// RecordPayment parses a payment to record.
func RecordPayment(req *billingv1.RecordPaymentRequest) (receivable.Payment, error) {
	p := receivable.Payment{LegalEntityID: req.GetLegalEntityId(), CustomerID: req.GetCustomerId(), Reference: req.GetReference()}
	a, err := amount(req.GetAmount(), "amount")
	if err != nil {
		return p, err
	}
	if !a.Value.IsPositive() {
		return p, fault.Invalidf("PAYMENT_AMOUNT_INVALID", "amount", "a payment must be positive")
	}
	p.Amount = a
	if p.Date, err = civilpb.From(req.GetPaymentDate(), "payment_date"); err != nil {
		return p, err
	}
	return p, nil
}

// PaymentProto converts a payment.
func PaymentProto(p receivable.Payment) *billingv1.Payment {
	c := p.Amount.Currency
	return &billingv1.Payment{PaymentId: p.ID, LegalEntityId: p.LegalEntityID, CustomerId: p.CustomerID, Reference: p.Reference,
		Amount: moneyProto(p.Amount), PaymentDate: civilpb.To(p.Date), FxRate: p.FXRate.String(),
		Applied: m(p.Applied, c), Unapplied: m(p.Unapplied(), c), JournalEntryId: p.JournalEntryID, Refunded: m(p.Refunded, c)}
}

// RefundPayment parses a refund request.
func RefundPayment(req *billingv1.RefundPaymentRequest) (money.Amount, civil.Date, error) {
	a, err := amount(req.GetAmount(), "amount")
	if err != nil {
		return a, civil.Date{}, err
	}
	d, err := civilpb.From(req.GetRefundDate(), "refund_date")
	return a, d, err
}

// PaymentRefunded is the event of refund r of payment p (p after the refund).
func PaymentRefunded(r receivable.Refund, p receivable.Payment, correlationID string) *billingv1.PaymentRefunded {
	return &billingv1.PaymentRefunded{PaymentId: p.ID, RefundId: r.ID, LegalEntityId: p.LegalEntityID, CustomerId: p.CustomerID,
		PaymentReference: p.Reference, RefundReference: r.Reference, RefundDate: civilpb.To(r.Date), Amount: moneyProto(r.Amount),
		Unapplied: m(p.Unapplied(), p.Amount.Currency), CorrelationId: correlationID,
		CrossIds: &commonv1.CrossSystemIds{CustomerId: p.CustomerID, LegalEntityId: p.LegalEntityID}}
}

// RefundProto converts a refund.
func RefundProto(r receivable.Refund) *billingv1.PaymentRefund {
	return &billingv1.PaymentRefund{RefundId: r.ID, PaymentId: r.PaymentID, LegalEntityId: r.LegalEntityID, CustomerId: r.CustomerID,
		Reference: r.Reference, Amount: moneyProto(r.Amount), RefundDate: civilpb.To(r.Date), FxRate: r.FXRate.String(),
		FxGain: m(r.FXGain(), r.FunctionalCurrency), JournalEntryId: r.JournalEntryID}
}

// Allocations parses an application's allocations.
func Allocations(list []*billingv1.PaymentAllocation) ([]receivable.Allocation, error) {
	out := make([]receivable.Allocation, 0, len(list))
	for _, a := range list {
		d, err := money.ParseDecimal(a.GetAmount(), "allocations.amount")
		if err != nil {
			return nil, err
		}
		out = append(out, receivable.Allocation{InvoiceID: a.GetInvoiceId(), No: int(a.GetInstalmentNo()), Amount: d})
	}
	return out, nil
}

// ApplyPaymentResponse converts an application.
func ApplyPaymentResponse(a receivable.Application) *billingv1.ApplyPaymentResponse {
	c := a.Payment.Amount.Currency
	r := &billingv1.ApplyPaymentResponse{ApplicationId: a.ID, Payment: PaymentProto(a.Payment), ApplicationDate: civilpb.To(a.Date),
		JournalEntryId: a.JournalEntryID}
	if a.FunctionalCurrency != "" {
		r.FxGain = m(a.FXGain, a.FunctionalCurrency)
	}
	for _, l := range a.Lines {
		r.Instalments = append(r.Instalments, &billingv1.AppliedInstalment{InvoiceId: l.InvoiceID, InstalmentNo: int32(l.No),
			Applied: m(l.Amount, c), WrittenOff: m(l.WrittenOff, c)})
	}
	for _, st := range a.Invoices {
		r.Invoices = append(r.Invoices, &billingv1.InvoiceSettlement{InvoiceId: st.InvoiceID, InvoiceNumber: st.Number,
			Applied: m(st.Applied, c), Open: m(st.Summary.Open, c), Status: standingStatuses[st.Summary.Status]})
	}
	return r
}

// PaymentApplied is the event of an application.
func PaymentApplied(a receivable.Application, correlationID string) *billingv1.PaymentApplied {
	c := a.Payment.Amount.Currency
	e := &billingv1.PaymentApplied{PaymentId: a.Payment.ID, ApplicationId: a.ID, LegalEntityId: a.Payment.LegalEntityID,
		CustomerId: a.Payment.CustomerID, PaymentReference: a.Payment.Reference, ApplicationDate: civilpb.To(a.Date),
		Unapplied: m(a.Payment.Unapplied(), c), CorrelationId: correlationID}
	wo := map[string]decimal.Decimal{}
	for _, l := range a.Lines {
		wo[l.InvoiceID] = wo[l.InvoiceID].Add(l.WrittenOff)
	}
	for _, st := range a.Invoices {
		e.Applications = append(e.Applications, &billingv1.PaymentApplication{InvoiceId: st.InvoiceID, InvoiceNumber: st.Number,
			AmountApplied: m(st.Applied, c), AmountWrittenOff: m(wo[st.InvoiceID], c), AmountOpen: m(st.Summary.Open, c),
			Status: standingStatuses[st.Summary.Status]})
	}
	return e
}

// InvoiceWithStanding converts a posted invoice with its schedule and standing (its status
// becomes PARTIALLY_PAID, PAID or CREDITED when payments or credit notes settled it).
func InvoiceWithStanding(inv invoice.Invoice, s receivable.Summary) *billingv1.Invoice {
	p := Invoice(inv)
	if len(s.Dues) == 0 {
		return p
	}
	c := inv.Currency
	p.Status = standingStatuses[s.Status]
	p.AmountPaid, p.AmountCredited, p.AmountWrittenOff, p.AmountOpen = m(s.Paid, c), m(s.Credited, c), m(s.WrittenOff, c), m(s.Open, c)
	for _, d := range s.Dues {
		p.Instalments = append(p.Instalments, &billingv1.InvoiceInstalment{InstalmentNo: int32(d.No), DueDate: civilpb.To(d.DueDate),
			Amount: moneyProto(d.Amount), Paid: m(d.Paid, c), Credited: m(d.Credited, c), WrittenOff: m(d.WrittenOff, c), Open: m(d.Open(), c)})
	}
	return p
}

// AgingResponse converts an aging report.
func AgingResponse(r receivable.Aging) *billingv1.GetArAgingResponse {
	out := &billingv1.GetArAgingResponse{AsOf: civilpb.To(r.AsOf), CurrencyCode: r.Currency, Total: buckets(r.Total, r.Currency),
		LedgerReceivable: m(r.Ledger, r.Currency)}
	for _, c := range r.Customers {
		out.Customers = append(out.Customers, &billingv1.CustomerAging{CustomerId: c.CustomerID, Buckets: buckets(c.Buckets, r.Currency)})
	}
	return out
}

func buckets(b receivable.Buckets, c string) *billingv1.AgingBuckets {
	return &billingv1.AgingBuckets{Current: m(b[receivable.BucketCurrent], c), Days_1_30: m(b[receivable.Bucket1To30], c),
		Days_31_60: m(b[receivable.Bucket31To60], c), Days_61_90: m(b[receivable.Bucket61To90], c), Over_90: m(b[receivable.BucketOver90], c),
		Total: m(b.Total(), c)}
}

// StatementResponse converts a customer statement.
func StatementResponse(st receivable.Statement) *billingv1.GetCustomerStatementResponse {
	out := &billingv1.GetCustomerStatementResponse{CustomerId: st.CustomerID, From: civilpb.To(st.From), To: civilpb.To(st.To),
		Payments: Each(st.Payments, PaymentProto)}
	for _, r := range st.Refunds {
		out.Refunds = append(out.Refunds, RefundProto(r))
		out.Refunds[len(out.Refunds)-1].FxGain = nil // the statement is the customer's view: no FX of the books
	}
	for _, d := range st.Open {
		late := d.DueDate.DaysUntil(st.To)
		if late < 0 {
			late = 0
		}
		out.OpenItems = append(out.OpenItems, &billingv1.StatementItem{InvoiceId: d.InvoiceID, InvoiceNumber: d.InvoiceNumber, InstalmentNo: int32(d.No),
			IssueDate: civilpb.To(d.IssueDate), DueDate: civilpb.To(d.DueDate), Amount: moneyProto(d.Amount), Open: m(d.Open(), d.Amount.Currency),
			DaysOverdue: int32(late)})
	}
	return out
}
