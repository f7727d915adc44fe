package app_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

// A retainer of 5,000.00 at 100.00/h: the first proposal bills the 5,000.00 advance; 30 h
// (3,000.00) are then drawn down against it (the invoice nets 0.00); 30 h more draw the last
// 2,000.00 and bill 1,000.00 (net 1,000.00); a further proposal bills nothing. The receivable is
// 6,000.00, every journal entry balances and unbilled receivables hold recognized − billed
// (6,000.00 − 6,000.00).
func TestRetainerAdvanceIsDrawnDownUntilExhausted(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.withLine(contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.Retainer, Revenue: contract.AsDelivered,
		Amount: billingtest.USD("5000.00"), ServiceStart: billingtest.Day("2026-01-01"),
		RateCard: []contract.RateEntry{billingtest.Rate("CONSULTANT", "100.00", "2026-01-01", "")}})

	adv := e.postInvoice(e.propose(c.ID, "2026-01-31").ID, "2026-01-31")
	wantMoney(t, "advance", adv.Total, "5000.00 USD")
	if len(adv.Lines) != 1 || adv.Lines[0].Item != invoice.RetainerAdvanceItem {
		t.Fatalf("lines %+v, want the advance", adv.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("second proposal without work: %v, want NOTHING_TO_BILL", err)
	}

	e.post(hours("T1", billingtest.Consult, billingtest.TaskBill, "2026-02-10", "30"))
	feb := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-02-28")
	wantMoney(t, "February (30 h drawn)", feb.Total, "0.00 USD")
	if len(feb.Lines) != 2 || feb.Lines[0].Amount.Value.StringFixed(2) != "3000.00" || feb.Lines[1].Amount.Value.StringFixed(2) != "-3000.00" ||
		feb.Lines[1].Item != invoice.RetainerAppliedItem(feb.ID) {
		t.Fatalf("February lines %+v, want 3000.00 of time and -3000.00 retainer applied", feb.Lines)
	}

	e.post(hours("T2", billingtest.Consult, billingtest.TaskBill, "2026-03-10", "30"))
	mar := e.postInvoice(e.propose(c.ID, "2026-03-31").ID, "2026-03-31")
	wantMoney(t, "March (2,000.00 drawn + 1,000.00 billed)", mar.Total, "1000.00 USD")
	if len(mar.Lines) != 2 || mar.Lines[0].Amount.Value.StringFixed(2) != "3000.00" || mar.Lines[1].Amount.Value.StringFixed(2) != "-2000.00" {
		t.Fatalf("March lines %+v, want 3000.00 of time and -2000.00 retainer applied", mar.Lines)
	}
	read, err := e.UC.Invoice(e.Ctx, mar.ID)
	if err != nil || len(read.Lines) != 2 || read.Lines[1].ItemType != invoice.ItemTypeRetainer || read.Lines[1].Amount.Value.StringFixed(2) != "-2000.00" {
		t.Fatalf("March invoice read back: %v %+v", err, read.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after everything was billed: %v, want NOTHING_TO_BILL", err)
	}

	if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); ar != "6000.00" || wip != "0.00" {
		t.Fatalf("receivable %s, unbilled receivables %s; want 6000.00 and 0.00", ar, wip)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
		HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Fatalf("%d unbalanced journal entries", n)
	}
}

// A retainer of 5,000.00 at 100.00/h under terms 50 % at 30 days / 50 % at 60 days.
//   - January: the 5,000.00 advance.
//   - February: 30 h (3,000.00) drawn down: the invoice nets 0.00, so it has one instalment of 0.00
//     due on issue (not two open 0.00), is PAID from posting and is never in the aging.
//   - A credit note of 10 h of February's time credits 1,000.00 of time and gives the 1,000.00
//     drawdown back (+1,000.00 on the applied line): it nets 0.00 and the balance is 3,000.00 again.
//     Crediting the applied line alone would raise the invoice: CREDIT_EXCEEDS_INVOICED.
//   - March: the 10 h credited and 25 h new (3,500.00) draw the 3,000.00 balance and bill 500.00.
//   - A credit note of 5 h of March's new time credits the part billed beyond the balance first
//     (−500.00, no drawdown back); April bills those 5 h once more (500.00, nothing left to draw).
//
// Every hour is billed once net: 30 − 10 + 35 − 5 + 5 = 55 h = 5,500.00 of time, drawn 5,000.00;
// the receivable is 5,000 + 0 + 0 + 500 − 500 + 500 = 5,500.00 and equals the aging total.
func TestRetainerCreditNoteGivesTheDrawdownBack(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	if err := e.UC.SetPaymentTerms(e.Ctx, receivable.Terms{LegalEntityID: e.LE.ID, Code: "50-30/50-60",
		Instalments: []receivable.Instalment{{Percent: dec("50"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.UC.SetReceivablesPolicy(e.Ctx, receivable.Policy{LegalEntityID: e.LE.ID, DefaultTerms: "50-30/50-60", Tolerance: dec("0")}); err != nil {
		t.Fatal(err)
	}
	c := e.withLine(contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.Retainer, Revenue: contract.AsDelivered,
		Amount: billingtest.USD("5000.00"), ServiceStart: billingtest.Day("2026-01-01"),
		RateCard: []contract.RateEntry{billingtest.Rate("CONSULTANT", "100.00", "2026-01-01", "")}})
	e.postInvoice(e.propose(c.ID, "2026-01-31").ID, "2026-01-31")

	e.post(hours("T1", billingtest.Consult, billingtest.TaskBill, "2026-02-10", "30"))
	feb := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-02-28")
	wantMoney(t, "February", feb.Gross(), "0.00 USD")
	st := e.standing(feb.ID)
	if st.Status != receivable.StatusPaid || len(st.Dues) != 1 || !st.Dues[0].Amount.Value.IsZero() || st.Dues[0].DueDate != billingtest.Day("2026-02-28") {
		t.Fatalf("February standing %s with %+v, want PAID with one 0.00 instalment due 2026-02-28", st.Status, st.Dues)
	}
	if a := e.aging("2026-05-31"); len(a.Customers) != 1 || a.Total.Total().StringFixed(2) != "5000.00" || !a.Ledger.Equal(a.Total.Total()) {
		t.Fatalf("aging %+v (ledger %s), want only the advance's 5000.00", a.Total, a.Ledger)
	}

	_, err := e.UC.CreditInvoice(e.Ctx, feb.ID, []invoice.CreditRequest{{LineNo: 2}}, billingtest.Day("2026-03-02"))
	wantReason(t, err, "CREDIT_EXCEEDS_INVOICED")
	cn, err := e.UC.CreditInvoice(e.Ctx, feb.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: dec("10")}}, billingtest.Day("2026-03-02"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note of 10 h", cn.Total, "0.00 USD")
	if len(cn.Lines) != 2 || cn.Lines[0].Amount.Value.StringFixed(2) != "-1000.00" || cn.Lines[1].Amount.Value.StringFixed(2) != "1000.00" ||
		cn.Lines[1].Item != invoice.RetainerAppliedItem(feb.ID) {
		t.Fatalf("credit note lines %+v, want -1000.00 of time and +1000.00 back on the applied line", cn.Lines)
	}
	if st := e.standing(feb.ID); st.Status != receivable.StatusPaid || !st.Open.IsZero() {
		t.Fatalf("February after the credit note: %s open %s, want PAID and 0.00", st.Status, st.Open)
	}

	e.post(hours("T2", billingtest.Consult, billingtest.TaskBill, "2026-03-10", "25"))
	mar := e.postInvoice(e.propose(c.ID, "2026-03-31").ID, "2026-03-31")
	wantMoney(t, "March (3,500.00 of time − 3,000.00 drawn)", mar.Total, "500.00 USD")
	if len(mar.Lines) != 3 || mar.Lines[0].Quantity.String() != "10" || mar.Lines[1].Quantity.String() != "25" ||
		mar.Lines[2].Amount.Value.StringFixed(2) != "-3000.00" {
		t.Fatalf("March lines %+v, want the 10 h credited, the 25 h and -3000.00 applied", mar.Lines)
	}
	cn2, err := e.UC.CreditInvoice(e.Ctx, mar.ID, []invoice.CreditRequest{{LineNo: 2, Quantity: dec("5")}}, billingtest.Day("2026-04-02"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cn2.Lines) != 1 || cn2.Total.Value.StringFixed(2) != "-500.00" {
		t.Fatalf("credit of 5 h of March: %s %+v, want -500.00 of time only", cn2.Total, cn2.Lines)
	}
	apr := e.postInvoice(e.propose(c.ID, "2026-04-30").ID, "2026-04-30")
	if apr.Total.Value.StringFixed(2) != "500.00" || len(apr.Lines) != 1 || apr.Lines[0].Quantity.String() != "5" {
		t.Fatalf("April %s %+v, want the 5 h once: 500.00 and no drawdown", apr.Total, apr.Lines)
	}
	if _, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); !errors.Is(err, invoice.ErrNothingToBill) {
		t.Fatalf("proposal after everything was billed: %v, want NOTHING_TO_BILL", err)
	}

	hoursNet := billingtest.Scalar[decimal.Decimal](e.Env, `SELECT COALESCE(sum(l.quantity), 0) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE i.contract_id = $1 AND i.status = 'POSTED' AND l.candidate_id IS NOT NULL`, c.ID)
	drawn := billingtest.Scalar[decimal.Decimal](e.Env, `SELECT COALESCE(sum(l.amount), 0) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
		WHERE i.contract_id = $1 AND i.status = 'POSTED' AND l.billing_item LIKE 'retainer:applied:%'`, c.ID)
	if hoursNet.String() != "55" || drawn.StringFixed(2) != "-5000.00" {
		t.Fatalf("hours billed net %s, drawn %s; want 55 (every hour once) and -5000.00", hoursNet, drawn)
	}
	a := e.aging("2026-06-30")
	if ar := e.balance(ledger.AccountsReceivable); ar != "5500.00" || a.Total.Total().StringFixed(2) != "5500.00" || !a.Ledger.Equal(a.Total.Total()) {
		t.Fatalf("receivable %s, aging %s (ledger %s); want 5500.00 each", ar, a.Total.Total(), a.Ledger)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id
		HAVING sum(debit) <> sum(credit)) x`); n != 0 {
		t.Fatalf("%d unbalanced journal entries", n)
	}
}
