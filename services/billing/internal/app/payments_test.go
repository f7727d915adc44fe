package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

var dec = decimal.RequireFromString

// invoiceOf1000 posts on issue an invoice of 20 h × 50.00 = 1,000.00 USD of a contract with
// payment terms code ("" none).
func (e env) invoiceOf1000(code, issue string) invoice.Invoice {
	e.T.Helper()
	t := e.Terms(billingtest.StandardCard()...)
	t.PaymentTermsCode = code
	c := e.WithProject(t)
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "20"))
	inv := e.postInvoice(e.propose(c.ID, "").ID, issue)
	wantMoney(e.T.(*testing.T), "invoice", inv.Gross(), "1000.00 USD")
	return inv
}

func (e env) pay(ref, amount, date string) receivable.Payment {
	e.T.Helper()
	p, _, err := e.UC.RecordPayment(e.Ctx, receivable.Payment{LegalEntityID: e.LE.ID, CustomerID: billingtest.Customer, Reference: ref,
		Amount: billingtest.USD(amount), Date: billingtest.Day(date)})
	if err != nil {
		e.T.Fatalf("record payment: %v", err)
	}
	return p
}

func (e env) standing(id string) receivable.Summary {
	e.T.Helper()
	s, err := e.UC.InvoiceStanding(e.Ctx, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return s
}

func (e env) aging(asOf string) receivable.Aging {
	e.T.Helper()
	a, err := e.UC.ArAging(e.Ctx, e.LE.ID, billingtest.Day(asOf))
	if err != nil {
		e.T.Fatal(err)
	}
	return a
}

// The must-show of issue 14: terms 50 % at 30 days / 50 % at 60 days on 1,000.00; a payment of
// 600.00 pays the first instalment and 100.00 of the second; the aging 75 days after the invoice
// date shows 400.00 in 1–30 (the second instalment, due at day 60, is 15 days overdue), and the
// aging total equals the receivable account's balance in the ledger on every date.
func TestTermsPartialPaymentAndAging(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	terms := receivable.Terms{LegalEntityID: e.LE.ID, Code: "50-30/50-60",
		Instalments: []receivable.Instalment{{Percent: dec("50"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}}
	if err := e.UC.SetPaymentTerms(e.Ctx, terms); err != nil {
		t.Fatal(err)
	}
	inv := e.invoiceOf1000("50-30/50-60", "2026-07-01")
	s := e.standing(inv.ID)
	if len(s.Dues) != 2 || s.Dues[0].DueDate.String() != "2026-07-31" || s.Dues[1].DueDate.String() != "2026-08-30" ||
		!s.Dues[0].Amount.Value.Equal(dec("500")) || !s.Dues[1].Amount.Value.Equal(dec("500")) || s.Status != receivable.StatusPosted {
		t.Fatalf("schedule %+v, want 500.00 due 2026-07-31 and 500.00 due 2026-08-30, POSTED", s.Dues)
	}

	p := e.pay("BANK-001", "600.00", "2026-08-10")
	a, err := e.UC.ApplyPayment(e.Ctx, p.ID, "", nil) // oldest due first
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Lines) != 2 || !a.Lines[0].Amount.Equal(dec("500")) || !a.Lines[1].Amount.Equal(dec("100")) {
		t.Fatalf("applied %+v, want 500.00 to instalment 1 and 100.00 to instalment 2", a.Lines)
	}
	if st := a.Invoices[0].Summary; st.Status != receivable.StatusPartiallyPaid || !st.Open.Equal(dec("400")) {
		t.Fatalf("after 600.00: %s open %s, want PARTIALLY_PAID open 400.00", st.Status, st.Open)
	}
	if !a.Payment.Unapplied().IsZero() {
		t.Fatalf("unapplied %s, want 0", a.Payment.Unapplied())
	}

	for _, c := range []struct {
		asOf, bucket, amount, ledger string
	}{
		{"2026-09-14", receivable.Bucket1To30, "400.00", "400.00"},  // 75 days after the invoice date
		{"2026-08-05", receivable.Bucket1To30, "500.00", "1000.00"}, // before the payment: it is excluded
		{"2026-07-15", receivable.BucketCurrent, "1000.00", "1000.00"},
		{"2026-06-30", receivable.BucketCurrent, "0.00", "0.00"}, // before the invoice
	} {
		ag := e.aging(c.asOf)
		if got := ag.Total[c.bucket].StringFixed(2); got != c.amount {
			t.Errorf("aging %s: %s = %s, want %s (%v)", c.asOf, c.bucket, got, c.amount, ag.Total)
		}
		if ag.Total.Total().StringFixed(2) != c.ledger || ag.Ledger.StringFixed(2) != c.ledger {
			t.Errorf("aging %s: total %s, ledger receivable %s, want both %s", c.asOf, ag.Total.Total().StringFixed(2), ag.Ledger.StringFixed(2), c.ledger)
		}
	}
	if got := e.balance(ledger.Cash); got != "600.00" {
		t.Errorf("cash %s, want 600.00", got)
	}
	if got := e.balance(ledger.CustomerOnAccount); got != "0.00" {
		t.Errorf("on account %s, want 0.00 (all applied)", got)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM outbox WHERE event_type = 'payment.applied'`); n != 1 {
		t.Errorf("payment.applied events %d, want 1", n)
	}

	// The rest: 400.00 pays it; the same reference again is the same payment.
	p2 := e.pay("BANK-002", "400.00", "2026-09-20")
	if again := e.pay("BANK-002", "400.00", "2026-09-20"); again.ID != p2.ID {
		t.Fatalf("recording BANK-002 again gave %s, want %s", again.ID, p2.ID)
	}
	if _, _, err := e.UC.RecordPayment(e.Ctx, receivable.Payment{LegalEntityID: e.LE.ID, CustomerID: billingtest.Customer, Reference: "BANK-002",
		Amount: billingtest.USD("1.00"), Date: billingtest.Day("2026-09-20")}); fault.ReasonOf(err) != "PAYMENT_REFERENCE_TAKEN" {
		t.Fatalf("another payment with reference BANK-002: %v, want PAYMENT_REFERENCE_TAKEN", err)
	}
	if _, err := e.UC.ApplyPayment(e.Ctx, p2.ID, "", []receivable.Allocation{{InvoiceID: inv.ID, No: 2, Amount: dec("400")}}); err != nil {
		t.Fatal(err)
	}
	if s := e.standing(inv.ID); s.Status != receivable.StatusPaid || !s.Open.IsZero() {
		t.Fatalf("after 1,000.00 paid: %s open %s, want PAID 0", s.Status, s.Open)
	}
	if got := e.balance(ledger.AccountsReceivable); got != "0.00" {
		t.Errorf("receivable %s, want 0.00", got)
	}
}

// Unapplied cash stays on account; a remainder within the tolerance (0.05) is written off: a
// payment of 999.99 on 1,000.00 pays it, 0.01 is written off (Dr write-offs / Cr receivable)
// and the invoice is PAID. Above the tolerance the remainder stays open.
func TestOnAccountAndWriteOffWithinTolerance(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	if err := e.UC.SetReceivablesPolicy(e.Ctx, receivable.Policy{LegalEntityID: e.LE.ID, Tolerance: dec("0.05")}); err != nil {
		t.Fatal(err)
	}
	inv := e.invoiceOf1000("", "2026-07-01") // no terms: due on issue

	early := e.pay("EARLY", "900.00", "2026-06-20") // before any invoice? it waits on account
	if got := e.balance(ledger.CustomerOnAccount); got != "-900.00" {
		t.Fatalf("on account %s, want -900.00 (a liability)", got)
	}
	a, err := e.UC.ApplyPayment(e.Ctx, early.ID, "", []receivable.Allocation{{InvoiceID: inv.ID, Amount: dec("900")}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Date.String() != "2026-07-01" || a.Invoices[0].Summary.Status != receivable.StatusPartiallyPaid {
		t.Fatalf("applied on %s, %s; want on the issue date 2026-07-01, PARTIALLY_PAID (100.00 is above the tolerance)", a.Date, a.Invoices[0].Summary.Status)
	}
	last := e.pay("LAST", "99.99", "2026-07-20")
	a, err = e.UC.ApplyPayment(e.Ctx, last.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := a.Invoices[0].Summary; st.Status != receivable.StatusPaid || !st.WrittenOff.Equal(dec("0.01")) {
		t.Fatalf("after 999.99: %s written off %s, want PAID with 0.01 written off", st.Status, st.WrittenOff)
	}
	if got := e.balance(ledger.ReceivableWriteOff); got != "0.01" {
		t.Errorf("write-offs %s, want 0.01", got)
	}
	if got := e.balance(ledger.AccountsReceivable); got != "0.00" {
		t.Errorf("receivable %s, want 0.00", got)
	}
	if _, err := e.UC.ApplyPayment(e.Ctx, last.ID, "", nil); fault.ReasonOf(err) != "NOTHING_TO_APPLY" {
		t.Fatalf("applying a fully applied payment: %v, want NOTHING_TO_APPLY", err)
	}
}

// 50 concurrent applications of 100.00 each on one invoice of 1,000.00 apply exactly 1,000.00:
// ten succeed, the other forty are refused, nothing is over-applied.
func TestConcurrentApplicationsNeverOverApply(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	inv := e.invoiceOf1000("", "2026-07-01")
	var payments []receivable.Payment
	for i := 0; i < 50; i++ {
		payments = append(payments, e.pay("P-"+decimal.NewFromInt(int64(i)).String(), "100.00", "2026-07-10"))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for _, p := range payments {
		wg.Add(1)
		go func(p receivable.Payment) {
			defer wg.Done()
			_, err := e.UC.ApplyPayment(context.Background(), p.ID, "", []receivable.Allocation{{InvoiceID: inv.ID, Amount: dec("100")}})
			mu.Lock()
			defer mu.Unlock()
			switch fault.ReasonOf(err) {
			case "":
				if err != nil {
					t.Errorf("apply: %v", err)
				}
				ok++
			case "ALLOCATION_EXCEEDS_OPEN":
				refused++
			default:
				t.Errorf("apply: %v", err)
			}
		}(p)
	}
	wg.Wait()
	if ok != 10 || refused != 40 {
		t.Fatalf("%d applied, %d refused; want 10 and 40", ok, refused)
	}
	if s := e.standing(inv.ID); s.Status != receivable.StatusPaid || !s.Paid.Equal(dec("1000")) {
		t.Fatalf("invoice %s paid %s, want PAID 1000.00", s.Status, s.Paid)
	}
	if got := e.balance(ledger.AccountsReceivable); got != "0.00" {
		t.Errorf("receivable %s, want 0.00", got)
	}
	if got := e.balance(ledger.CustomerOnAccount); got != "-4000.00" {
		t.Errorf("on account %s, want -4000.00 (the 40 refused payments)", got)
	}
}

// A credit note reduces what is due latest instalment first, and the invoice fully credited is
// CREDITED.
func TestCreditNoteReducesLatestInstalmentFirst(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	if err := e.UC.SetPaymentTerms(e.Ctx, receivable.Terms{LegalEntityID: e.LE.ID, Code: "HALVES",
		Instalments: []receivable.Instalment{{Percent: dec("50"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}}); err != nil {
		t.Fatal(err)
	}
	inv := e.invoiceOf1000("HALVES", "2026-07-01")
	if _, err := e.UC.CreditInvoice(e.Ctx, inv.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: dec("8")}}, billingtest.Day("2026-07-05")); err != nil {
		t.Fatal(err)
	}
	s := e.standing(inv.ID)
	if !s.Dues[0].Open().Equal(dec("500")) || !s.Dues[1].Open().Equal(dec("100")) || s.Status != receivable.StatusPosted {
		t.Fatalf("after a credit of 400.00: open %s and %s (%s), want 500.00 and 100.00, POSTED", s.Dues[0].Open(), s.Dues[1].Open(), s.Status)
	}
	if _, err := e.UC.CreditInvoice(e.Ctx, inv.ID, nil, billingtest.Day("2026-07-06")); err != nil {
		t.Fatal(err)
	}
	if s := e.standing(inv.ID); s.Status != receivable.StatusCredited || !s.Open.IsZero() {
		t.Fatalf("fully credited: %s open %s, want CREDITED 0", s.Status, s.Open)
	}
	if ag := e.aging("2026-07-10"); !ag.Total.Total().IsZero() || !ag.Ledger.IsZero() {
		t.Fatalf("aging %s, ledger %s; want 0 both", ag.Total.Total(), ag.Ledger)
	}
}

// A foreign-currency invoice: EUR 1,000.00 booked at 1.10 (1,100.00 USD receivable), paid with
// EUR 1,000.00 at 1.12 (1,120.00 USD cash): the receivable is relieved at 1,100.00 and 20.00 USD
// is a realized FX gain; the aging and the ledger agree at 0.00. The contract is in EUR (20 h ×
// 50.00 EUR on 2026-06-10: WIP 1,100.00 USD at 1.10, relieved whole by the invoice at the same
// rate: no FX on the invoice).
func TestForeignCurrencyPaymentRealizesFXGain(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	for _, r := range []ledger.ExchangeRate{{From: "EUR", To: "USD", Date: billingtest.Day("2026-06-01"), Rate: dec("1.10")},
		{From: "EUR", To: "USD", Date: billingtest.Day("2026-08-01"), Rate: dec("1.12")}} {
		if err := e.UC.SetExchangeRate(e.Ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	c := e.WithProject(e.eurTerms("50.00")) // an EUR contract of the USD legal entity
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "20"))
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-01")
	wantMoney(t, "invoice", inv.Gross(), "1000.00 EUR")
	if got := e.balance(ledger.AccountsReceivable); got != "1100.00" {
		t.Fatalf("receivable %s, want 1100.00 (EUR 1,000.00 at 1.10)", got)
	}
	p, _, err := e.UC.RecordPayment(e.Ctx, receivable.Payment{LegalEntityID: e.LE.ID, CustomerID: billingtest.Customer, Reference: "SEPA-1",
		Amount: billingtest.EUR("1000.00"), Date: billingtest.Day("2026-08-05")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.UC.ApplyPayment(e.Ctx, p.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.FXGain.StringFixed(2) != "20.00" || a.Invoices[0].Summary.Status != receivable.StatusPaid {
		t.Fatalf("FX gain %s, %s; want 20.00 USD, PAID", a.FXGain, a.Invoices[0].Summary.Status)
	}
	for acct, want := range map[string]string{ledger.Cash: "1120.00", ledger.AccountsReceivable: "0.00", ledger.CustomerOnAccount: "0.00",
		ledger.RealizedFXGain: "-20.00"} {
		if got := e.balance(acct); got != want {
			t.Errorf("account %s = %s, want %s", acct, got, want)
		}
	}
	if ag := e.aging("2026-08-05"); !ag.Total.Total().IsZero() || !ag.Ledger.IsZero() {
		t.Errorf("aging %s, ledger %s; want 0 both", ag.Total.Total(), ag.Ledger)
	}
}

// The console's trace of an invoice or a customer shows the payments and their applications
// (issue 18, trace: payments): a 600.00 payment applied to the 1,000.00 invoice is one payment
// (APPLIED) and one application to instalment 1 for the invoice's key; the customer's key also
// finds a 250.00 payment not applied yet (UNAPPLIED).
func TestTraceShowsPaymentsAndApplications(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	inv := e.invoiceOf1000("", "2026-07-01")
	p := e.pay("BANK-TR1", "600.00", "2026-07-20")
	if _, err := e.UC.ApplyPayment(e.Ctx, p.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	open := e.pay("BANK-TR2", "250.00", "2026-07-21")
	kinds := func(keys ...string) map[string][]insight.Item {
		t.Helper()
		f, err := e.Store.TraceRecords(e.Ctx, keys, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]insight.Item{}
		for _, it := range f.Items {
			if it.Kind == insight.KindPayment {
				out[it.EntityType] = append(out[it.EntityType], it)
			}
		}
		return out
	}
	byInvoice := kinds(inv.ID)
	if ps := byInvoice["payment"]; len(ps) != 1 || ps[0].EntityID != p.ID || ps[0].Status != "APPLIED" || !strings.Contains(ps[0].Title, "ref. BANK-TR1") {
		t.Errorf("payments traced by the invoice: %+v, want %s APPLIED", ps, p.ID)
	}
	if as := byInvoice["payment_application"]; len(as) != 1 || !strings.Contains(as[0].Title, "applied 600") ||
		!strings.Contains(as[0].Title, "invoice "+inv.ID+" instalment 1") || !strings.Contains(as[0].Detail, p.ID) {
		t.Errorf("applications traced by the invoice: %+v, want 600.00 to instalment 1 of %s", as, inv.ID)
	}
	byCustomer := kinds(billingtest.Customer)
	status := map[string]string{}
	for _, it := range byCustomer["payment"] {
		status[it.EntityID] = it.Status
	}
	if len(status) != 2 || status[p.ID] != "APPLIED" || status[open.ID] != "UNAPPLIED" {
		t.Errorf("payments traced by the customer: %v, want %s APPLIED and %s UNAPPLIED", status, p.ID, open.ID)
	}
	if len(byCustomer["payment_application"]) != 1 {
		t.Errorf("applications traced by the customer: %+v, want 1", byCustomer["payment_application"])
	}
}
