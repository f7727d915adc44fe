package app_test

import (
	"errors"
	"testing"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
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
