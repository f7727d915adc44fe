package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// A foreign retainer is drawn down at the advance's rate. USD legal entity, EUR contract with a
// retainer of 5,000.00 EUR at 100.00 EUR/h; EUR→USD 1.10 from January, 1.12 from February (the
// work), 1.20 from March, 1.25 from April.
//   - Advance, 2026-01-31 at 1.10: Dr 1100 5,500.00 / Cr 1200 5,500.00.
//   - 30 h on 2026-02-10 and 30 h on 2026-02-20, WIP 3,360.00 each (3,000.00 EUR at 1.12).
//   - Drawdown 1, the first 30 h, 2026-03-10 at 1.20: time Cr 1200 3,360.00 (its carrying amount),
//     applied −3,000.00 EUR Dr 1200 3,300.00 (at the advance's 1.10), receivable 0.00; FX netted
//     per project: 240.00 gain on the time (3,600.00 − 3,360.00) and 300.00 loss on the applied
//     line (3,600.00 − 3,300.00) → Dr 5900 60.00.
//   - Drawdown 2, the next 30 h, 2026-04-10 at 1.25: time Cr 1200 3,360.00, applied −2,000.00 EUR
//     Dr 1200 2,200.00 (the rest of the advance's 5,500.00), receivable 1,000.00 EUR = Dr 1100
//     1,250.00, Cr 4900 90.00 (1,250.00 + 2,200.00 − 3,360.00). The advance is exhausted: 1200 is
//     0.00 (the old rule debited the applied lines at 1.20 and 1.25, 3,600.00 + 2,500.00, and left
//     600.00 in it).
//   - A full credit note of drawdown 1 nets it to zero in every account (at its 1.20 and the
//     carrying amounts it relieved: Dr 1200 3,360.00 / Cr 1200 3,300.00 / Cr 5900 60.00): 1200 is
//     60.00 (the 30 h back in WIP at 3,360.00 less the 3,000.00 EUR of advance back at 3,300.00).
//   - The 30 h drawn again at 1.25 relieve the same figures: 1200 is 0.00 again.
func TestForeignRetainerDrawsDownAtTheAdvanceRate(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-01-01", "1.10", "2026-02-01", "1.12", "2026-03-01", "1.20", "2026-04-01", "1.25")
	c := e.WithProject(eurRetainer(e))

	adv := e.postInvoice(e.propose(c.ID, "2026-01-31").ID, "2026-01-31")
	wantMoney(t, "advance", adv.Total, "5000.00 EUR")
	e.wantEntry("advance", adv.JournalEntryID, "Dr 1100 5500.00", "Cr 1200 5500.00")

	e.post(hours("T1", billingtest.Consult, billingtest.TaskBill, "2026-02-10", "30"))
	e.post(hours("T2", billingtest.Consult, billingtest.TaskBill, "2026-02-20", "30"))
	if a, b := e.candidateWIP("T1"), e.candidateWIP("T2"); a != "3360.00" || b != "3360.00" {
		t.Fatalf("candidate WIP %s and %s, want 3360.00 each (3,000.00 EUR at 1.12)", a, b)
	}

	d1 := e.postInvoice(e.propose(c.ID, "2026-02-15").ID, "2026-03-10")
	wantMoney(t, "drawdown 1", d1.Gross(), "0.00 EUR")
	if len(d1.Lines) != 2 || d1.Lines[1].Item != invoice.RetainerAppliedItem(d1.ID) || d1.Lines[1].Amount.Value.StringFixed(2) != "-3000.00" {
		t.Fatalf("drawdown 1 lines %+v, want 3000.00 of time and -3000.00 retainer applied", d1.Lines)
	}
	e.wantEntry("drawdown 1", d1.JournalEntryID, "Cr 1200 3360.00", "Dr 1200 3300.00", "Dr 5900 60.00")
	e.wantAppliedLine(d1.JournalEntryID, "3000.00", "1.10")
	e.wantBalances("drawdown 1", map[string]string{ledger.AccountsReceivable: "5500.00", ledger.UnbilledReceivables: "1160.00",
		ledger.RealizedFXGain: "0.00", ledger.RealizedFXLoss: "60.00"})

	d2 := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-04-10")
	wantMoney(t, "drawdown 2", d2.Gross(), "1000.00 EUR")
	e.wantEntry("drawdown 2", d2.JournalEntryID, "Dr 1100 1250.00", "Cr 1200 3360.00", "Dr 1200 2200.00", "Cr 4900 90.00")
	e.wantBalances("advance exhausted", map[string]string{ledger.AccountsReceivable: "6750.00", ledger.UnbilledReceivables: "0.00",
		ledger.RealizedFXGain: "-90.00", ledger.RealizedFXLoss: "60.00", ledger.ServiceRevenue: "-6720.00"})

	cn, err := e.UC.CreditInvoice(e.Ctx, d1.ID, nil, billingtest.Day("2026-04-15"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note of drawdown 1", cn.Gross(), "0.00 EUR")
	e.wantEntry("credit note of drawdown 1", cn.JournalEntryID, "Dr 1200 3360.00", "Cr 1200 3300.00", "Cr 5900 60.00")
	e.wantNetsToZero(d1.JournalEntryID, cn.JournalEntryID)
	e.wantBalances("drawdown 1 credited", map[string]string{ledger.AccountsReceivable: "6750.00", ledger.UnbilledReceivables: "60.00",
		ledger.RealizedFXGain: "-90.00", ledger.RealizedFXLoss: "0.00"})

	again := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-04-20")
	wantMoney(t, "the 30 h drawn again", again.Gross(), "0.00 EUR")
	e.wantEntry("the 30 h drawn again", again.JournalEntryID, "Cr 1200 3360.00", "Dr 1200 3300.00", "Dr 5900 60.00")
	e.wantBalances("drawn again", map[string]string{ledger.AccountsReceivable: "6750.00", ledger.UnbilledReceivables: "0.00",
		ledger.RealizedFXGain: "-90.00", ledger.RealizedFXLoss: "60.00", ledger.ServiceRevenue: "-6720.00"})
}

// An advance billed twice: the first (2026-01-31 at 1.10) is credited in full, which reverses it
// at its own 1.10 (Dr 1200 5,500.00 / Cr 1100 5,500.00), and billed again on 2026-03-05 at 1.20
// (Dr 1100 6,000.00 / Cr 1200 6,000.00). The live advance is the second: 30 h of work (3,360.00
// at 1.12) drawn down on 2026-04-10 at 1.25 debit 1200 at 1.20, 3,600.00: Cr 1200 3,360.00 / Dr
// 1200 3,600.00 / Cr 4900 240.00. 1200 is then −2,400.00, the 2,000.00 EUR left of the advance
// at its 1.20.
func TestForeignRetainerDrawsTheLiveAdvance(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-01-01", "1.10", "2026-02-01", "1.12", "2026-03-01", "1.20", "2026-04-01", "1.25")
	c := e.WithProject(eurRetainer(e))
	first := e.postInvoice(e.propose(c.ID, "2026-01-31").ID, "2026-01-31")
	cn, err := e.UC.CreditInvoice(e.Ctx, first.ID, nil, billingtest.Day("2026-02-05"))
	if err != nil {
		t.Fatal(err)
	}
	e.wantEntry("advance credited", cn.JournalEntryID, "Dr 1200 5500.00", "Cr 1100 5500.00")
	second := e.postInvoice(e.propose(c.ID, "2026-02-05").ID, "2026-03-05")
	wantMoney(t, "advance billed again", second.Total, "5000.00 EUR")
	e.wantEntry("advance billed again", second.JournalEntryID, "Dr 1100 6000.00", "Cr 1200 6000.00")

	e.post(hours("T1", billingtest.Consult, billingtest.TaskBill, "2026-02-10", "30"))
	d := e.postInvoice(e.propose(c.ID, "2026-02-28").ID, "2026-04-10")
	wantMoney(t, "drawdown", d.Gross(), "0.00 EUR")
	e.wantEntry("drawdown", d.JournalEntryID, "Cr 1200 3360.00", "Dr 1200 3600.00", "Cr 4900 240.00")
	e.wantAppliedLine(d.JournalEntryID, "3000.00", "1.2")
	e.wantBalances("drawn", map[string]string{ledger.AccountsReceivable: "6000.00", ledger.UnbilledReceivables: "-2400.00",
		ledger.RealizedFXGain: "-240.00", ledger.RealizedFXLoss: "0.00"})
}

// eurRetainer is billingtest's contract in EUR with one RETAINER line of 5,000.00 EUR from
// 2026-01-01, consultants at 100.00 EUR an hour.
func eurRetainer(e env) contract.Terms {
	terms := e.Terms()
	terms.Currency = "EUR"
	terms.Lines = []contract.Line{{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.Retainer, Revenue: contract.AsDelivered,
		Amount: billingtest.EUR("5000.00"), ServiceStart: billingtest.Day("2026-01-01"),
		RateCard: []contract.RateEntry{{Role: "CONSULTANT", Rate: billingtest.EUR("100.00"), From: billingtest.Day("2026-01-01")}}}}
	return terms
}

// wantAppliedLine checks the 1200 line of journal entry id that carries the retainer applied
// line: its transaction amount (EUR) and its rate (the advance's).
func (e env) wantAppliedLine(id, txn, rate string) {
	e.T.Helper()
	n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_lines WHERE entry_id = $1 AND account_code = $2
		AND txn_amount = $3::numeric AND fx_rate = $4::numeric`, id, ledger.UnbilledReceivables, txn, rate)
	if n != 1 {
		e.T.Errorf("entry %s has %d 1200 lines of %s EUR at %s, want 1 (the retainer applied line)", id, n, txn, rate)
	}
}

// wantNetsToZero checks that journal entries a and b net to zero in every account: b's lines are
// a's with the sides swapped.
func (e env) wantNetsToZero(a, b string) {
	e.T.Helper()
	swapped := slices.Clone(e.entryLines(a))
	for i, l := range swapped {
		if side, rest, _ := strings.Cut(l, " "); side == "Dr" {
			swapped[i] = "Cr " + rest
		} else {
			swapped[i] = "Dr " + rest
		}
	}
	slices.Sort(swapped)
	if got := e.entryLines(b); !slices.Equal(got, swapped) {
		e.T.Errorf("entry %v does not reverse %v", got, swapped)
	}
}
