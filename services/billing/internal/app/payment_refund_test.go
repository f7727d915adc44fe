package app_test

import (
	"testing"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

func (e env) refund(paymentID, ref, amount, date string) (receivable.Refund, receivable.Payment, bool, error) {
	e.T.Helper()
	return e.UC.RefundPayment(e.Ctx, paymentID, billingtest.USD(amount), billingtest.Day(date), ref)
}

// An overpayment refunded: a 1,000.00 invoice paid with 1,300.00 leaves 300.00 on account
// (2400 credit 300.00). A refund of 400.00 is REFUND_EXCEEDS_UNAPPLIED and writes nothing; one of
// 120.00 leaves 180.00 on account (Dr 2400 120.00 / Cr cash 120.00: cash 1,180.00); the same refund
// again is the first one; its reference on another refund is REFUND_REFERENCE_TAKEN; a refund
// dated before the payment, in another currency or in a closed period is refused. The statement of
// July shows the payment (applied 1,000.00, refunded 120.00, 180.00 unapplied) and the refund.
// Refunding the last 180.00 empties 2400 (cash 1,000.00 = the invoice).
func TestRefundOfCashOnAccount(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	inv := e.invoiceOf1000("", "2026-06-30")
	p := e.pay("BANK-1", "1300.00", "2026-07-10")
	if _, err := e.UC.ApplyPayment(e.Ctx, p.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	if st := e.standing(inv.ID); st.Status != receivable.StatusPaid {
		t.Fatalf("invoice %s, want PAID", st.Status)
	}
	if got := e.balance(ledger.CustomerOnAccount); got != "-300.00" {
		t.Fatalf("on account %s, want -300.00 (the overpayment)", got)
	}
	refunds := func() int64 { return billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM payment_refunds`) }

	_, _, _, err := e.refund(p.ID, "RF-0", "400.00", "2026-07-15")
	wantReason(t, err, "REFUND_EXCEEDS_UNAPPLIED")
	if n, bal := refunds(), e.balance(ledger.CustomerOnAccount); n != 0 || bal != "-300.00" {
		t.Fatalf("after the refused refund: %d refunds, on account %s; want 0 and -300.00", n, bal)
	}

	r, after, replayed, err := e.refund(p.ID, "RF-1", "120.00", "2026-07-15")
	if err != nil || replayed {
		t.Fatalf("refund: %v (replayed %v)", err, replayed)
	}
	if after.Unapplied().StringFixed(2) != "180.00" || after.Refunded.StringFixed(2) != "120.00" || !r.FXGain().IsZero() {
		t.Fatalf("payment after the refund: unapplied %s, refunded %s, FX %s; want 180.00, 120.00, 0", after.Unapplied(), after.Refunded, r.FXGain())
	}
	for acct, want := range map[string]string{ledger.CustomerOnAccount: "-180.00", ledger.Cash: "1180.00", ledger.AccountsReceivable: "0.00"} {
		if got := e.balance(acct); got != want {
			t.Errorf("account %s = %s, want %s", acct, got, want)
		}
	}
	again, _, replayed, err := e.refund(p.ID, "RF-1", "120.00", "2026-07-15")
	if err != nil || !replayed || again.ID != r.ID || refunds() != 1 {
		t.Fatalf("the same refund again: %v, replayed %v, id %s (first %s), %d refunds", err, replayed, again.ID, r.ID, refunds())
	}
	_, _, _, err = e.refund(p.ID, "RF-1", "20.00", "2026-07-15")
	wantReason(t, err, "REFUND_REFERENCE_TAKEN")
	_, _, _, err = e.refund(p.ID, "RF-2", "20.00", "2026-07-09")
	wantReason(t, err, "REFUND_DATE_INVALID")
	_, _, _, err = e.UC.RefundPayment(e.Ctx, p.ID, billingtest.EUR("20.00"), billingtest.Day("2026-07-15"), "RF-2")
	wantReason(t, err, "REFUND_CURRENCY_MISMATCH")
	if _, _, err := e.Store.SetPeriod(e.Ctx, e.LE.ID, "2026-08", ledger.PeriodClosed, "test"); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = e.refund(p.ID, "RF-2", "20.00", "2026-08-03")
	wantReason(t, err, "PERIOD_CLOSED")
	if n := refunds(); n != 1 {
		t.Fatalf("%d refunds after the refused ones, want 1", n)
	}

	st, err := e.UC.CustomerStatement(e.Ctx, e.LE.ID, billingtest.Customer, billingtest.Day("2026-07-01"), billingtest.Day("2026-07-31"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Payments) != 1 || st.Payments[0].Applied.StringFixed(2) != "1000.00" || st.Payments[0].Refunded.StringFixed(2) != "120.00" ||
		st.Payments[0].Unapplied().StringFixed(2) != "180.00" {
		t.Fatalf("statement payments %+v, want BANK-1 applied 1000.00, refunded 120.00, 180.00 unapplied", st.Payments)
	}
	if len(st.Refunds) != 1 || st.Refunds[0].Reference != "RF-1" || st.Refunds[0].Amount.String() != "120.00 USD" {
		t.Fatalf("statement refunds %+v, want RF-1 of 120.00", st.Refunds)
	}

	if _, after, _, err = e.refund(p.ID, "RF-3", "180.00", "2026-07-20"); err != nil || !after.Unapplied().IsZero() {
		t.Fatalf("refund of the rest: %v, unapplied %s", err, after.Unapplied())
	}
	for acct, want := range map[string]string{ledger.CustomerOnAccount: "0.00", ledger.Cash: "1000.00"} {
		if got := e.balance(acct); got != want {
			t.Errorf("after the last refund: account %s = %s, want %s", acct, got, want)
		}
	}
	_, _, _, err = e.refund(p.ID, "RF-4", "0.01", "2026-07-21")
	wantReason(t, err, "REFUND_EXCEEDS_UNAPPLIED")
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM audit_log WHERE action = 'payment.refunded'`); n != 2 {
		t.Errorf("%d payment.refunded audit records, want 2", n)
	}
	events := e.published(billingv1.EventTypePaymentRefunded)
	if len(events) != 2 {
		t.Fatalf("payment.refunded published %d times, want 2 (once per refund, not for the replay)", len(events))
	}
	if ev, ok := events[1].payload.(*billingv1.PaymentRefunded); !ok || events[1].subject != p.ID || ev.GetRefundReference() != "RF-3" ||
		ev.GetAmount().GetAmount() != "180.00" || ev.GetUnapplied().GetAmount() != "0.00" || ev.GetCrossIds().GetCustomerId() != billingtest.Customer {
		t.Fatalf("last payment.refunded %v (subject %s), want RF-3 of 180.00 leaving 0.00 on account", events[1].payload, events[1].subject)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
		HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Fatalf("%d unbalanced journal entries", n)
	}
}

// A EUR payment of 500.00 on account of a USD legal entity, received at 1.10 (2400 carries
// 550.00 USD): refunding EUR 200.00 at 1.15 pays out 230.00 USD, takes 220.00 off 2400 and
// realizes a 10.00 FX loss (Dr 2400 220.00, Dr 5900 10.00 / Cr cash 230.00); refunding the last
// EUR 300.00 at 1.05 pays out 315.00, takes the 330.00 left off 2400 and realizes a 15.00 gain.
// 2400 ends at 0.00; cash 550 − 230 − 315 = 5.00 = the net FX (15 − 10).
func TestForeignCurrencyRefundRealizesFX(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	for _, r := range []ledger.ExchangeRate{{From: "EUR", To: "USD", Date: billingtest.Day("2026-07-01"), Rate: dec("1.10")},
		{From: "EUR", To: "USD", Date: billingtest.Day("2026-07-20"), Rate: dec("1.15")},
		{From: "EUR", To: "USD", Date: billingtest.Day("2026-07-25"), Rate: dec("1.05")}} {
		if err := e.UC.SetExchangeRate(e.Ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	p, _, err := e.UC.RecordPayment(e.Ctx, receivable.Payment{LegalEntityID: e.LE.ID, CustomerID: billingtest.Customer, Reference: "SEPA-9",
		Amount: billingtest.EUR("500.00"), Date: billingtest.Day("2026-07-01")})
	if err != nil {
		t.Fatal(err)
	}
	eur := func(s string) money.Amount { return billingtest.EUR(s) }
	r, _, _, err := e.UC.RefundPayment(e.Ctx, p.ID, eur("200.00"), billingtest.Day("2026-07-20"), "RF-EUR-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Cash.StringFixed(2) != "230.00" || r.Carrying.StringFixed(2) != "220.00" || r.FXGain().StringFixed(2) != "-10.00" {
		t.Fatalf("first refund: cash %s, carrying %s, FX %s; want 230.00, 220.00, -10.00", r.Cash, r.Carrying, r.FXGain())
	}
	for acct, want := range map[string]string{ledger.CustomerOnAccount: "-330.00", ledger.Cash: "320.00", ledger.RealizedFXLoss: "10.00"} {
		if got := e.balance(acct); got != want {
			t.Errorf("after the first refund: account %s = %s, want %s", acct, got, want)
		}
	}
	r, after, _, err := e.UC.RefundPayment(e.Ctx, p.ID, eur("300.00"), billingtest.Day("2026-07-25"), "RF-EUR-2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Cash.StringFixed(2) != "315.00" || r.Carrying.StringFixed(2) != "330.00" || r.FXGain().StringFixed(2) != "15.00" || !after.Unapplied().IsZero() {
		t.Fatalf("last refund: cash %s, carrying %s, FX %s, unapplied %s; want 315.00, 330.00, 15.00, 0", r.Cash, r.Carrying, r.FXGain(), after.Unapplied())
	}
	for acct, want := range map[string]string{ledger.CustomerOnAccount: "0.00", ledger.Cash: "5.00", ledger.RealizedFXGain: "-15.00", ledger.RealizedFXLoss: "10.00"} {
		if got := e.balance(acct); got != want {
			t.Errorf("after the last refund: account %s = %s, want %s", acct, got, want)
		}
	}
}
