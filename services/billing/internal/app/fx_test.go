package app_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

// Foreign-currency contracts (issue 14 item 5): the legal entity keeps its books in USD, the
// contract is in EUR. Rates EUR→USD: 1.10 from 2026-06-01 (the work), 1.20 from 2026-07-01 (the
// invoice), 1.15 from 2026-08-01 (the payment), 1.05 from 2026-09-01 (a later invoice).

// eurTerms is billingtest's contract in EUR: consultants billed 100.00 EUR an hour.
func (e env) eurTerms(rate string) contract.Terms {
	t := e.Terms(contract.RateEntry{Role: "CONSULTANT", Rate: billingtest.EUR(rate), From: billingtest.Day("2026-01-01")})
	t.Currency = "EUR"
	t.Lines[0].Amount = billingtest.EUR("100000.00")
	return t
}

// rates sets EUR→USD rates ("date", "rate" pairs).
func (e env) rates(pairs ...string) {
	e.T.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if err := e.UC.SetExchangeRate(e.Ctx, ledger.ExchangeRate{From: "EUR", To: "USD", Date: billingtest.Day(pairs[i]), Rate: dec(pairs[i+1])}); err != nil {
			e.T.Fatal(err)
		}
	}
}

// entryLines is journal entry id as "Dr 1100 1200.00" lines (sorted), zero lines left out.
func (e env) entryLines(id string) []string {
	e.T.Helper()
	rows, err := e.DB.Pool.Query(e.Ctx, `SELECT account_code, debit, credit FROM journal_lines WHERE entry_id = $1`, id)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var acct string
		var dr, cr decimal.Decimal
		if err := rows.Scan(&acct, &dr, &cr); err != nil {
			e.T.Fatal(err)
		}
		if dr.IsPositive() {
			out = append(out, fmt.Sprintf("Dr %s %s", acct, dr.StringFixed(2)))
		}
		if cr.IsPositive() {
			out = append(out, fmt.Sprintf("Cr %s %s", acct, cr.StringFixed(2)))
		}
	}
	slices.Sort(out)
	return out
}

func (e env) wantEntry(what, id string, want ...string) {
	e.T.Helper()
	slices.Sort(want)
	if got := e.entryLines(id); !slices.Equal(got, want) {
		e.T.Errorf("%s entry = %v, want %v", what, got, want)
	}
}

func (e env) wantBalances(what string, want map[string]string) {
	e.T.Helper()
	for acct, w := range want {
		if got := e.balance(acct); got != w {
			e.T.Errorf("%s: account %s = %s, want %s", what, acct, got, w)
		}
	}
}

// wantAgingTiesOut checks that the aging total on asOf is want and equals the receivable account's
// ledger balance on that date.
func (e env) wantAgingTiesOut(asOf, want string) {
	e.T.Helper()
	ag := e.aging(asOf)
	if ag.Total.Total().StringFixed(2) != want || ag.Ledger.StringFixed(2) != want {
		e.T.Errorf("aging on %s: total %s, ledger 1100 %s; want %s both", asOf, ag.Total.Total().StringFixed(2), ag.Ledger.StringFixed(2), want)
	}
}

// candidateWIP is the WIP carrying amount of the candidate of time entry id.
func (e env) candidateWIP(id string) string {
	e.T.Helper()
	return billingtest.Scalar[decimal.Decimal](e.Env, `SELECT wip_amount FROM invoice_candidates WHERE source_id = $1 AND status <> 'REVERSED'`, id).StringFixed(2)
}

// eurInvoice posts 10 h × 100.00 EUR on 2026-06-10 (WIP 1,100.00 USD at 1.10) and invoices it on
// 2026-07-01 at 1.20.
func (e env) eurInvoice() (contract.Contract, invoice.Invoice) {
	e.T.Helper()
	e.rates("2026-06-01", "1.10", "2026-07-01", "1.20", "2026-08-01", "1.15", "2026-09-01", "1.05")
	c := e.WithProject(e.eurTerms("100.00"))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "10"))
	e.wantBalances("work posted", map[string]string{ledger.UnbilledReceivables: "1100.00", ledger.ServiceRevenue: "-1100.00"})
	if got := e.candidateWIP("T-1"); got != "1100.00" {
		e.T.Fatalf("candidate WIP %s, want 1100.00 (1,000.00 EUR at 1.10)", got)
	}
	draft := e.propose(c.ID, "")
	wantMoney(e.T.(*testing.T), "draft", draft.Total, "1000.00 EUR")
	inv := e.postInvoice(draft.ID, "2026-07-01")
	wantMoney(e.T.(*testing.T), "invoice gross", inv.Gross(), "1000.00 EUR")
	// The receivable at the issue rate, WIP relieved at its carrying amount, the difference a gain.
	e.wantEntry("invoice", inv.JournalEntryID, "Dr 1100 1200.00", "Cr 1200 1100.00", "Cr 4900 100.00")
	e.wantBalances("invoiced", map[string]string{ledger.AccountsReceivable: "1200.00", ledger.UnbilledReceivables: "0.00",
		ledger.RealizedFXGain: "-100.00"})
	e.wantAgingTiesOut("2026-07-01", "1200.00")
	return c, inv
}

// An EUR invoice paid in full at 1.15: Dr cash 1,150.00, Dr 5900 50.00, Cr 1100 1,200.00; the
// receivable and WIP end at 0.00 and the aging ties to the ledger at each step.
func TestForeignCurrencyContractInvoiceAndPayment(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	_, inv := e.eurInvoice()
	p, _, err := e.UC.RecordPayment(e.Ctx, receivable.Payment{LegalEntityID: e.LE.ID, CustomerID: billingtest.Customer, Reference: "SEPA-FX",
		Amount: billingtest.EUR("1000.00"), Date: billingtest.Day("2026-08-05")})
	if err != nil {
		t.Fatal(err)
	}
	e.wantAgingTiesOut("2026-08-05", "1200.00") // cash on account is no receivable
	a, err := e.UC.ApplyPayment(e.Ctx, p.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.FXGain.StringFixed(2) != "-50.00" || a.Invoices[0].Summary.Status != receivable.StatusPaid {
		t.Fatalf("FX %s, %s; want -50.00 (a loss), PAID", a.FXGain.StringFixed(2), a.Invoices[0].Summary.Status)
	}
	e.wantEntry("application", a.JournalEntryID, "Dr 2400 1150.00", "Dr 5900 50.00", "Cr 1100 1200.00")
	e.wantBalances("paid", map[string]string{ledger.Cash: "1150.00", ledger.AccountsReceivable: "0.00", ledger.UnbilledReceivables: "0.00",
		ledger.CustomerOnAccount: "0.00", ledger.RealizedFXGain: "-100.00", ledger.RealizedFXLoss: "50.00"})
	e.wantAgingTiesOut("2026-08-05", "0.00")
	if s := e.standing(inv.ID); s.Status != receivable.StatusPaid {
		t.Errorf("standing %s, want PAID", s.Status)
	}
}

// A credit note of 4 h reverses at the invoice's rate (1.20, not the credit date's): Cr 1100
// 480.00, Dr 1200 440.00 (4/10 of the 1,100.00 carrying amount), Dr 4900 40.00. Re-invoicing
// those 4 h at 1.05: Dr 1100 420.00, Dr 5900 20.00, Cr 1200 440.00, so WIP ends at 0.00. A full
// credit note of that second invoice nets it to zero in every account.
func TestForeignCurrencyCreditNoteAndReinvoice(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c, inv := e.eurInvoice()
	cn, err := e.UC.CreditInvoice(e.Ctx, inv.ID, []invoice.CreditRequest{{LineNo: 1, Quantity: dec("4")}}, billingtest.Day("2026-08-10"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "credit note", cn.Gross(), "-400.00 EUR")
	e.wantEntry("credit note", cn.JournalEntryID, "Cr 1100 480.00", "Dr 1200 440.00", "Dr 4900 40.00")
	e.wantBalances("credited", map[string]string{ledger.AccountsReceivable: "720.00", ledger.UnbilledReceivables: "440.00",
		ledger.RealizedFXGain: "-60.00", ledger.RealizedFXLoss: "0.00"})
	e.wantAgingTiesOut("2026-08-10", "720.00")
	if got := e.candidateWIP("T-1"); got != "1100.00" {
		t.Errorf("candidate WIP after the credit %s, want 1100.00 (kept)", got)
	}
	draft := e.propose(c.ID, "")
	wantMoney(t, "re-invoice", draft.Total, "400.00 EUR")
	again := e.postInvoice(draft.ID, "2026-09-10")
	e.wantEntry("re-invoice", again.JournalEntryID, "Dr 1100 420.00", "Dr 5900 20.00", "Cr 1200 440.00")
	e.wantBalances("re-invoiced", map[string]string{ledger.AccountsReceivable: "1140.00", ledger.UnbilledReceivables: "0.00",
		ledger.RealizedFXGain: "-60.00", ledger.RealizedFXLoss: "20.00"})
	e.wantAgingTiesOut("2026-09-10", "1140.00")

	full, err := e.UC.CreditInvoice(e.Ctx, again.ID, nil, billingtest.Day("2026-09-20"))
	if err != nil {
		t.Fatal(err)
	}
	e.wantEntry("full credit note", full.JournalEntryID, "Cr 1100 420.00", "Cr 5900 20.00", "Dr 1200 440.00")
	e.wantBalances("second invoice fully credited", map[string]string{ledger.AccountsReceivable: "720.00",
		ledger.UnbilledReceivables: "440.00", ledger.RealizedFXGain: "-60.00", ledger.RealizedFXLoss: "0.00", ledger.TaxPayable: "0.00"})
	e.wantAgingTiesOut("2026-09-20", "720.00")
	if got := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_candidates WHERE source_id = 'T-1' AND status = 'OPEN'`); got != 1 {
		t.Errorf("the credited 4 h are not unbilled again (%d open candidates)", got)
	}
}

// A candidate billed in parts relieves exactly its carrying amount: 10 h × 100.00 EUR at 1.1111
// carry 1,111.10 USD. A cap of 333.33 EUR bills 3.3333 h relieving 370.36 (1,111.10 × 333.33 /
// 1,000.00, rounded) at 1.20 (receivable 400.00, gain 29.64); the cap raised to 666.66 bills
// another 333.33 the same way; writing off the 333.34 EUR left relieves the rest of the carrying
// amount, 370.38 (pro rata would be 370.37 and leave a cent in WIP), Dr 5400 / Cr 1200, so WIP
// ends at 0.00.
func TestForeignCurrencyCandidateBilledInPartsRelievesItsCarryingAmount(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-06-01", "1.1111", "2026-07-01", "1.20")
	terms := e.eurTerms("100.00")
	limit := money.Amount{Value: dec("333.33"), Currency: "EUR"}
	terms.Lines[0].NotToExceed = &limit
	c := e.WithProject(terms)
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "10"))
	e.wantBalances("work posted", map[string]string{ledger.UnbilledReceivables: "1111.10"})
	draft := e.propose(c.ID, "")
	wantMoney(t, "capped draft", draft.Total, "333.33 EUR")
	inv := e.postInvoice(draft.ID, "2026-07-01")
	e.wantEntry("capped invoice", inv.JournalEntryID, "Dr 1100 400.00", "Cr 1200 370.36", "Cr 4900 29.64")
	raised := e.eurTerms("100.00")
	limit2 := money.Amount{Value: dec("666.66"), Currency: "EUR"}
	raised.Lines[0].NotToExceed = &limit2
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "cap raised", raised); err != nil {
		t.Fatal(err)
	}
	draft = e.propose(c.ID, "")
	wantMoney(t, "second capped draft", draft.Total, "333.33 EUR")
	inv2 := e.postInvoice(draft.ID, "2026-07-01")
	e.wantEntry("second capped invoice", inv2.JournalEntryID, "Dr 1100 400.00", "Cr 1200 370.36", "Cr 4900 29.64")
	w, err := e.UC.WriteOffOverCap(e.Ctx, c.ID, "", billingtest.Day("2026-07-02"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "written off", w.Total, "333.34 EUR")
	e.wantEntry("write-off", w.JournalEntryID, "Dr 5400 370.38", "Cr 1200 370.38")
	e.wantBalances("written off", map[string]string{ledger.UnbilledReceivables: "0.00", ledger.AccountsReceivable: "800.00",
		ledger.WorkWrittenOff: "370.38", ledger.RealizedFXGain: "-59.28"})
	e.wantAgingTiesOut("2026-07-02", "800.00")
}

// A bill-rate amendment moves a foreign candidate's WIP and its carrying amount together: 10 h
// re-rated from 100.00 to 110.00 EUR carry 1,210.00 USD (1,100.00 EUR at the work date's 1.10),
// and the invoice at 1.20 relieves exactly that (Dr 1100 1,320.00 / Cr 1200 1,210.00 / Cr 4900
// 110.00).
func TestForeignCurrencyRerateMovesTheCarryingAmount(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-06-01", "1.10", "2026-07-01", "1.20")
	c := e.WithProject(e.eurTerms("100.00"))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "10"))
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "rate rise", e.eurTerms("110.00")); err != nil {
		t.Fatal(err)
	}
	e.wantBalances("re-rated", map[string]string{ledger.UnbilledReceivables: "1210.00"})
	if got := e.candidateWIP("T-1"); got != "1210.00" {
		t.Fatalf("candidate WIP after the re-rate %s, want 1210.00", got)
	}
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-01")
	wantMoney(t, "invoice", inv.Total, "1100.00 EUR")
	e.wantEntry("invoice", inv.JournalEntryID, "Dr 1100 1320.00", "Cr 1200 1210.00", "Cr 4900 110.00")
	e.wantBalances("invoiced", map[string]string{ledger.UnbilledReceivables: "0.00", ledger.AccountsReceivable: "1320.00"})
}

// Work on an EUR contract with no EUR→USD rate for its date parks (FX_RATE_MISSING); setting the
// rate posts it: WIP 1,100.00 USD carried by the candidate.
func TestForeignCurrencyWorkWithoutARateParksUntilTheRateIsSet(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.eurTerms("100.00"))
	r := e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "10"))["T-1"]
	if r.Outcome != ledger.Parked || r.Reason != ledger.ReasonFXMissing {
		t.Fatalf("posting %s %s, want PARKED %s", r.Outcome, r.Reason, ledger.ReasonFXMissing)
	}
	if n := e.OpenParked(); n != 1 {
		t.Fatalf("open parked exceptions %d, want 1", n)
	}
	e.wantBalances("parked", map[string]string{ledger.UnbilledReceivables: "0.00", ledger.LaborCost: "0.00"})
	e.rates("2026-06-01", "1.10")
	if got := e.outcome("T-1"); got != string(ledger.Posted) {
		t.Fatalf("after the rate: %s, want POSTED", got)
	}
	e.wantBalances("posted", map[string]string{ledger.UnbilledReceivables: "1100.00", ledger.LaborCost: "200.00"})
	if got := e.candidateWIP("T-1"); got != "1100.00" {
		t.Errorf("candidate WIP %s, want 1100.00", got)
	}
	if n := e.OpenParked(); n != 0 {
		t.Errorf("open parked exceptions %d, want 0", n)
	}
}

// The revenue run converts a foreign-currency contract's recognition at the period end's rate: a
// straight-line fee of 9,200.00 EUR over March–May (3,100.00 EUR in March, 3,000.00 in April).
// With no EUR→USD rate for 31 March the run fails (EXCHANGE_RATE_MISSING_FOR_DATE) and posts
// nothing; at 1.05 March recognizes 3,255.00 USD (Dr 2300 / Cr 4000) and the contract asset,
// 3,100.00 EUR, is 3,255.00 USD in 1200. April at 1.10: 3,300.00 USD of revenue; the asset of
// 6,100.00 EUR is 6,710.00 USD, so the reclassification moves 3,455.00 and the 155.00 translation
// of March's asset is left in 2300 (credit).
func TestForeignCurrencyRevenueRunConvertsAtThePeriodEnd(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	l := contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.FixedFee, Revenue: contract.StraightLine,
		Amount: billingtest.EUR("9200.00"), ServiceStart: billingtest.Day("2026-03-01"), ServiceEnd: billingtest.Day("2026-05-31")}
	terms := e.eurTerms("100.00")
	terms.Lines = []contract.Line{l}
	e.WithProject(terms)
	e.rates("2026-04-01", "1.10")
	_, _, err := e.UC.RecognizeRevenue(e.Ctx, e.LE.ID, "2026-03", false)
	wantReason(t, err, "EXCHANGE_RATE_MISSING_FOR_DATE")
	e.wantBalances("failed run", map[string]string{ledger.ServiceRevenue: "0.00", ledger.UnbilledReceivables: "0.00"})

	e.rates("2026-03-01", "1.05")
	mar := e.recognize("2026-03")
	wantDec(t, "March (EUR)", lineOf(t, mar).Amount, "3100.00")
	wantDec(t, "March run recognized (USD)", mar.Recognized, "3255.00")
	if len(mar.Positions) != 1 || mar.Positions[0].Currency != "USD" || mar.Positions[0].Asset.StringFixed(2) != "3255.00" {
		t.Fatalf("March position %+v, want an asset of 3255.00 USD", mar.Positions)
	}
	e.wantBalances("March", map[string]string{ledger.ServiceRevenue: "-3255.00", ledger.UnbilledReceivables: "3255.00",
		ledger.DeferredRevenue: "0.00"})

	apr := e.recognize("2026-04")
	wantDec(t, "April (EUR)", lineOf(t, apr).Amount, "3000.00")
	wantDec(t, "April run recognized (USD)", apr.Recognized, "3300.00")
	wantDec(t, "April reclassified", apr.Reclassified, "-3455.00")
	e.wantBalances("April", map[string]string{ledger.ServiceRevenue: "-6555.00", ledger.UnbilledReceivables: "6710.00",
		ledger.DeferredRevenue: "-155.00"})
}

// Reversals and expenses on an EUR contract: 10 h of 10 June (1,100.00 USD at 1.10) reversed and
// re-booked as 8 h on 20 June at 1.12 carry 896.00; a 100.00 USD billable expense is rebilled in
// EUR at USD→EUR 0.90 with the 10 % markup (99.00 EUR) and carries 108.90 USD (at 1.10). The
// invoice at 1.20 (899.00 EUR) books Dr 1100 1,078.80 and relieves exactly 1,004.90 of WIP: Cr
// 4900 73.90, and 1200 ends at 0.00.
func TestForeignCurrencyReversalsAndExpensesCarryTheirOwnRates(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-06-01", "1.10", "2026-06-15", "1.12", "2026-07-01", "1.20")
	if err := e.UC.SetExchangeRate(e.Ctx, ledger.ExchangeRate{From: "USD", To: "EUR", Date: billingtest.Day("2026-06-01"), Rate: dec("0.90")}); err != nil {
		t.Fatal(err)
	}
	c := e.WithProject(e.eurTerms("100.00"))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "10"))
	rev := hours("T-1-R", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "-10")
	rev.ReversesID = "T-1"
	e.post(rev, hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-06-20", "8"),
		expense("X-1", "2026-06-10", billingtest.USD("100.00")))
	e.wantBalances("work", map[string]string{ledger.UnbilledReceivables: "1004.90", ledger.ExpenseCost: "100.00"})
	if got, x := e.candidateWIP("T-2"), e.candidateWIP("X-1"); got != "896.00" || x != "108.90" {
		t.Fatalf("carrying amounts T-2 %s, X-1 %s; want 896.00 and 108.90", got, x)
	}
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-07-01")
	wantMoney(t, "invoice", inv.Total, "899.00 EUR")
	e.wantEntry("invoice", inv.JournalEntryID, "Dr 1100 1078.80", "Cr 1200 1004.90", "Cr 4900 73.90")
	e.wantBalances("invoiced", map[string]string{ledger.UnbilledReceivables: "0.00", ledger.AccountsReceivable: "1078.80"})
}

// A milestone line of an EUR contract has no candidate and no carrying amount: M1 (5,000.00 EUR)
// invoiced at 1.20 posts Dr 1100 6,000.00 / Cr 1200 6,000.00, no FX; its full credit note
// (at the invoice's rate, though the credit date's is 1.05) nets both accounts back to 0.00.
func TestForeignCurrencyMilestoneLineAtTheIssueRate(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.rates("2026-03-01", "1.10", "2026-04-01", "1.20", "2026-05-01", "1.05")
	terms := e.eurTerms("100.00")
	terms.Lines = []contract.Line{{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.MilestoneBilling, Revenue: contract.MilestoneRevenue,
		Amount: billingtest.EUR("5000.00"), Milestones: []contract.Milestone{{Key: "M1", Name: "Design", Amount: billingtest.EUR("5000.00"),
			Due: billingtest.Day("2026-03-31")}}}}
	c := e.WithProject(terms)
	if _, _, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "M1", billingtest.Day("2026-03-20")); err != nil {
		t.Fatal(err)
	}
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-04-02")
	e.wantEntry("milestone invoice", inv.JournalEntryID, "Dr 1100 6000.00", "Cr 1200 6000.00")
	cn, err := e.UC.CreditInvoice(e.Ctx, inv.ID, nil, billingtest.Day("2026-05-05"))
	if err != nil {
		t.Fatal(err)
	}
	e.wantEntry("milestone credit note", cn.JournalEntryID, "Cr 1100 6000.00", "Dr 1200 6000.00")
	e.wantBalances("credited", map[string]string{ledger.AccountsReceivable: "0.00", ledger.UnbilledReceivables: "0.00",
		ledger.RealizedFXGain: "0.00", ledger.RealizedFXLoss: "0.00"})
}
