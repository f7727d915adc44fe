package app_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// fixedLine is a fixed-fee line L1 of amount recognized by method.
func fixedLine(amount string, method contract.RevenueMethod) contract.Line {
	return contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.FixedFee, Revenue: method, Amount: billingtest.USD(amount)}
}

func (e env) withLine(l contract.Line) contract.Contract {
	e.T.Helper()
	terms := e.Terms()
	terms.Lines = []contract.Line{l}
	return e.WithProject(terms)
}

// recognize runs recognition of period and fails the test on error.
func (e env) recognize(period string) revenue.Run {
	e.T.Helper()
	run, _, err := e.UC.RecognizeRevenue(e.Ctx, e.LE.ID, period, false)
	if err != nil {
		e.T.Fatalf("recognize %s: %v", period, err)
	}
	return run
}

func (e env) estimate(contractID, period, etc string) {
	e.T.Helper()
	if _, err := e.UC.SetRevenueEstimate(e.Ctx, revenue.Estimate{ContractID: contractID, LineKey: "L1", EffectivePeriod: period,
		EstimateToComplete: billingtest.USD(etc)}); err != nil {
		e.T.Fatalf("estimate: %v", err)
	}
}

// cost posts hours of the consultant (20.00/h) on the non-billable task: cost only.
func (e env) cost(id, date, h string) {
	e.T.Helper()
	if r := e.post(hours(id, billingtest.Consult, billingtest.TaskPM, date, h))[id]; r.Outcome != ledger.Posted {
		e.T.Fatalf("cost %s: %s %s", id, r.Outcome, r.Reason)
	}
}

func lineOf(t *testing.T, run revenue.Run) revenue.Recorded {
	t.Helper()
	if len(run.Lines) != 1 {
		t.Fatalf("run %s: %d lines, want 1", run.Period, len(run.Lines))
	}
	return run.Lines[0]
}

func wantDec(t *testing.T, what string, got interface{ StringFixed(int32) string }, want string) {
	t.Helper()
	if s := got.StringFixed(2); s != want {
		t.Errorf("%s = %s, want %s", what, s, want)
	}
}

// Percent complete, price 200,000.00: March costs 40,000.00 of an estimate at completion of
// 100,000.00 (40 %) → 80,000.00; April costs to date 60,000.00 of 100,000.00 (60 %) → 120,000.00
// to date, 40,000.00 this period; May the estimate to complete rises to 60,000.00 (costs to date
// 60,000.00 of 120,000.00: 50 %) → 100,000.00 to date, a catch-up of −20,000.00.
func TestPercentCompleteRecognizesCumulativelyWithCatchUp(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.withLine(fixedLine("200000.00", contract.PercentComplete))
	e.cost("c-mar", "2026-03-10", "2000")
	e.estimate(c.ID, "2026-03", "60000.00")
	mar := lineOf(t, e.recognize("2026-03"))
	wantDec(t, "March", mar.Amount, "80000.00")
	wantDec(t, "March progress (%)", mar.Progress.Mul(decimal.NewFromInt(100)), "40.00")

	e.cost("c-apr", "2026-04-10", "1000")
	e.estimate(c.ID, "2026-04", "40000.00")
	apr := lineOf(t, e.recognize("2026-04"))
	wantDec(t, "April cost to date", apr.CostToDate, "60000.00")
	wantDec(t, "April to date", apr.ToDate, "120000.00")
	wantDec(t, "April", apr.Amount, "40000.00")

	e.estimate(c.ID, "2026-05", "60000.00")
	may := lineOf(t, e.recognize("2026-05"))
	wantDec(t, "May estimate at completion", *may.EstimateTotal, "120000.00")
	wantDec(t, "May to date", may.ToDate, "100000.00")
	wantDec(t, "May catch-up", may.Amount, "-20000.00")
	if may.LossContract {
		t.Error("a contract earning 200,000.00 on 120,000.00 of cost is flagged as a loss contract")
	}
	// Revenue in the ledger is what was recognized: 80,000 + 40,000 − 20,000 (credit).
	if got := e.balance(ledger.ServiceRevenue); got != "-100000.00" {
		t.Errorf("service revenue balance = %s, want -100000.00", got)
	}
}

// Straight line 10,000.00 over 1 March – 31 May: 31, 30 and 31 days of 92, the last month takes
// the residual.
func TestStraightLineSpreadsByDaysWithTheResidualLast(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	l := fixedLine("10000.00", contract.StraightLine)
	l.ServiceStart, l.ServiceEnd = billingtest.Day("2026-03-01"), billingtest.Day("2026-05-31")
	e.withLine(l)
	want := map[string]string{"2026-03": "3369.57", "2026-04": "3260.87", "2026-05": "3369.56", "2026-06": "0.00"}
	for _, p := range []string{"2026-03", "2026-04", "2026-05", "2026-06"} {
		wantDec(t, p, lineOf(t, e.recognize(p)).Amount, want[p])
	}
	if got := e.balance(ledger.ServiceRevenue); got != "-10000.00" {
		t.Errorf("service revenue = %s, want -10000.00", got)
	}
}

// A time-and-materials line recognized by milestones: 100 h × 50.00 billed in March (5,000.00),
// milestone M1 (3,000.00) done in March → contract liability 2,000.00; M2 (3,000.00) done in
// April → recognized 6,000.00, contract asset 1,000.00. The ledger's unbilled receivables and
// deferred revenue hold exactly the report's asset and liability; running a period twice posts
// nothing new.
func TestContractAssetAndLiabilityTieToTheLedger(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	l := contract.Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.TimeAndMaterials, Revenue: contract.MilestoneRevenue,
		Amount: billingtest.USD("6000.00"), RateCard: billingtest.StandardCard(),
		Milestones: []contract.Milestone{{Key: "M1", Name: "Design", Amount: billingtest.USD("3000.00"), Due: billingtest.Day("2026-03-31")},
			{Key: "M2", Name: "Go-live", Amount: billingtest.USD("3000.00"), Due: billingtest.Day("2026-04-30")}}}
	c := e.withLine(l)
	e.post(hours("t1", billingtest.Consult, billingtest.TaskBill, "2026-03-05", "100"))
	inv := e.postInvoice(e.propose(c.ID, "").ID, "2026-03-31")
	wantMoney(t, "billed", inv.Total, "5000.00 USD")
	if _, _, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "M1", billingtest.Day("2026-03-20")); err != nil {
		t.Fatal(err)
	}
	mar := e.recognize("2026-03")
	wantDec(t, "March recognized", lineOf(t, mar).Amount, "3000.00")
	pos := e.position(c.ID, "2026-03-31")
	wantDec(t, "March recognized to date", pos.Recognized, "3000.00")
	wantDec(t, "March billed", pos.Billed, "5000.00")
	wantDec(t, "March liability", pos.Liability, "2000.00")
	wantDec(t, "March asset", pos.Asset, "0.00")
	wantDec(t, "ledger unbilled receivables", pos.LedgerUnbilled, "0.00")
	wantDec(t, "ledger deferred revenue", pos.LedgerDeferred, "-2000.00")
	if b := e.balance(ledger.DeferredRevenue); b != "-2000.00" {
		t.Errorf("trial balance deferred revenue = %s, want -2000.00 (the liability)", b)
	}

	// The same period again: nothing new.
	entries := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries`)
	again := e.recognize("2026-03")
	if len(again.Lines) != 0 || len(again.Positions) != 0 || !again.Recognized.IsZero() {
		t.Errorf("second run of March: %d lines, %d positions, %s recognized; want nothing", len(again.Lines), len(again.Positions), again.Recognized)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries`); n != entries {
		t.Errorf("second run of March posted %d entries, want none", n-entries)
	}

	if _, _, err := e.UC.CompleteMilestone(e.Ctx, c.ID, "L1", "M2", billingtest.Day("2026-04-10")); err != nil {
		t.Fatal(err)
	}
	// A dry run shows the entries and writes nothing.
	dry, dryEntries, err := e.UC.RecognizeRevenue(e.Ctx, e.LE.ID, "2026-04", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dryEntries) != 2 || !dry.Recognized.Equal(dry.Lines[0].Amount) {
		t.Errorf("dry run: %d entries, want the revenue entry and the reclassification", len(dryEntries))
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries`); n != entries {
		t.Errorf("the dry run posted %d entries", n-entries)
	}
	apr := e.recognize("2026-04")
	wantDec(t, "April recognized", lineOf(t, apr).Amount, "3000.00")
	wantDec(t, "April reclassified", apr.Reclassified, "-1000.00")
	pos = e.position(c.ID, "2026-04-30")
	wantDec(t, "April recognized to date", pos.Recognized, "6000.00")
	wantDec(t, "April asset", pos.Asset, "1000.00")
	wantDec(t, "April liability", pos.Liability, "0.00")
	wantDec(t, "ledger unbilled receivables", pos.LedgerUnbilled, "1000.00")
	wantDec(t, "ledger deferred revenue", pos.LedgerDeferred, "0.00")
	if b := e.balance(ledger.UnbilledReceivables); b != "1000.00" {
		t.Errorf("trial balance unbilled receivables = %s, want 1000.00 (the asset)", b)
	}
	if b := e.balance(ledger.ServiceRevenue); b != "-6000.00" {
		t.Errorf("service revenue = %s, want -6000.00 (what was recognized)", b)
	}

	// The report of March–April: revenue 6,000.00 against 100 h × 20.00 of labor; WIP 5,000.00
	// added, 5,000.00 billed, 1,000.00 reclassified to the contract asset; all by milestones.
	rep, err := e.UC.RevenueReport(e.Ctx, e.LE.ID, "2026-03", "2026-04")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Contracts) != 1 || len(rep.Projects) != 1 || len(rep.WIP) != 1 || len(rep.ByMethod) != 1 {
		t.Fatalf("report rows: %d contracts, %d projects, %d wip, %d methods", len(rep.Contracts), len(rep.Projects), len(rep.WIP), len(rep.ByMethod))
	}
	pnl := rep.Contracts[0]
	wantDec(t, "contract revenue", pnl.Revenue, "6000.00")
	wantDec(t, "contract labor", pnl.Labor, "2000.00")
	wantDec(t, "contract margin", pnl.Margin(), "4000.00")
	wantDec(t, "project revenue", rep.Projects[0].Revenue, "6000.00")
	w := rep.WIP[0]
	wantDec(t, "WIP opening", w.Opening, "0.00")
	wantDec(t, "WIP added", w.Added, "5000.00")
	wantDec(t, "WIP billed", w.Billed, "5000.00")
	wantDec(t, "WIP reclassified", w.Reclassified, "1000.00")
	wantDec(t, "WIP closing", w.Closing(), "1000.00")
	wantDec(t, "milestone revenue", rep.ByMethod[0].Recognized, "6000.00")
	if csv := string(rep.CSV()); !strings.Contains(csv, "contract_pnl,"+c.ID+",margin,4000.00,USD\n") ||
		!strings.Contains(csv, "revenue_by_method,MILESTONE,recognized,6000.00,USD\n") {
		t.Errorf("CSV lacks the contract margin or the milestone revenue:\n%s", csv)
	}
}

func (e env) position(contractID, asOf string) revenue.ContractPosition {
	e.T.Helper()
	list, err := e.UC.ContractPositions(e.Ctx, e.LE.ID, contractID, billingtest.Day(asOf))
	if err != nil || len(list) != 1 {
		e.T.Fatalf("positions: %v (%d)", err, len(list))
	}
	return list[0]
}

// A loss contract: estimate at completion 120,000.00 against a price of 100,000.00 provides the
// whole 20,000.00 loss at once, flags the contract (KPI and exception) and books it.
func TestLossContractProvidesTheExpectedLossAtOnce(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.withLine(fixedLine("100000.00", contract.PercentComplete))
	e.estimate(c.ID, "2026-03", "120000.00")
	run := e.recognize("2026-03")
	l := lineOf(t, run)
	if !l.LossContract || len(run.LossContracts) != 1 || run.LossContracts[0] != c.ID {
		t.Fatalf("loss contract not flagged: %+v", run.LossContracts)
	}
	wantDec(t, "loss provision", l.LossProvision, "20000.00")
	wantDec(t, "loss this period", l.LossAmount, "20000.00")
	if b := e.balance(ledger.ContractLossExpense); b != "20000.00" {
		t.Errorf("contract loss expense = %s, want 20000.00", b)
	}
	if b := e.balance(ledger.ContractLossProvision); b != "-20000.00" {
		t.Errorf("provision for contract losses = %s, want -20000.00", b)
	}
	if n, err := e.Store.CountLossContracts(e.Ctx, e.LE.ID); err != nil || n != 1 {
		t.Errorf("loss_contracts KPI = %d (%v), want 1", n, err)
	}
	if n, err := e.Queue.CountOpen(e.Ctx, "revenue.loss_contract", ""); err != nil || n != 1 {
		t.Errorf("open loss-contract exceptions = %d (%v), want 1", n, err)
	}
	// Next period nothing changed: no further loss.
	wantDec(t, "April loss", lineOf(t, e.recognize("2026-04")).LossAmount, "0.00")
}

// A closed period refuses the run; closing is refused with the failing checklist items until
// they pass (or, for draft invoices, are waived), and then publishes period.closed.
func TestCloseChecklistGuardsTheClose(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("t1", billingtest.Consult, billingtest.TaskBill, "2026-03-05", "8"))
	e.propose(c.ID, "2026-03-31") // a draft dated in March

	_, err := e.UC.ClosePeriod(e.Ctx, e.LE.ID, "2026-03")
	wantReason(t, err, "CLOSE_CHECKLIST_FAILED")
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Metadata["failing_items"] != "NO_DRAFT_INVOICES,RECOGNITION_RUN" {
		t.Fatalf("failing items = %v, want NO_DRAFT_INVOICES,RECOGNITION_RUN", fe)
	}
	list, err := e.UC.CloseChecklist(e.Ctx, e.LE.ID, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Results {
		if r.Item == "HOURS_RECONCILED" && (!r.Passed || !strings.Contains(r.Detail, "posted 8 h")) {
			t.Errorf("hours item: %+v", r)
		}
	}
	e.recognize("2026-03")
	if _, err := e.UC.WaiveCloseItem(e.Ctx, e.LE.ID, "2026-03", "NO_DRAFT_INVOICES", "billed in April by agreement"); err != nil {
		t.Fatal(err)
	}
	_, err = e.UC.WaiveCloseItem(e.Ctx, e.LE.ID, "2026-03", "RECOGNITION_RUN", "no")
	wantReason(t, err, "CLOSE_ITEM_NOT_WAIVABLE")
	// The latest reconciliation run of March found drift: HOURS_RECONCILED fails naming the run,
	// though billing's own 8 h agree; a later clean run lets the close through.
	t0 := time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC)
	driftRun := reconcile.Run{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: e.LE.ID, Period: "2026-03", Status: reconcile.Drift,
		TriggeredBy: "schedule", StartedAt: t0, FinishedAt: t0.Add(time.Second), Findings: []reconcile.Finding{{Check: "time",
			Code: "APPROVED_NOT_POSTED", EntityType: "time_entry", EntityIDs: []string{"t9"}, Detail: "approved 2 h, not posted"}}}
	if err := e.Store.SaveReconciliation(e.Ctx, driftRun); err != nil {
		t.Fatal(err)
	}
	_, err = e.UC.ClosePeriod(e.Ctx, e.LE.ID, "2026-03")
	wantReason(t, err, "CLOSE_CHECKLIST_FAILED")
	if !errors.As(err, &fe) || fe.Metadata["failing_items"] != "HOURS_RECONCILED" {
		t.Fatalf("failing items with a drift run = %v, want HOURS_RECONCILED", fe)
	}
	if list, err = e.UC.CloseChecklist(e.Ctx, e.LE.ID, "2026-03"); err != nil {
		t.Fatal(err)
	}
	if r := list.Results[4]; r.Item != "HOURS_RECONCILED" || r.Passed || !strings.Contains(r.Detail, driftRun.ID) || !strings.Contains(r.Detail, "1 findings") {
		t.Errorf("hours item with a drift run: %+v, want failed naming %s", r, driftRun.ID)
	}
	cleanRun := reconcile.Run{ID: uuid.Must(uuid.NewV7()).String(), LegalEntityID: e.LE.ID, Period: "2026-03", Status: reconcile.Clean,
		TriggeredBy: "schedule", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Second)}
	if err := e.Store.SaveReconciliation(e.Ctx, cleanRun); err != nil {
		t.Fatal(err)
	}
	p, err := e.UC.ClosePeriod(e.Ctx, e.LE.ID, "2026-03")
	if err != nil || p.Status != ledger.PeriodClosed {
		t.Fatalf("close: %v %v", p.Status, err)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM outbox WHERE event_type = 'period.closed'`); n != 1 {
		t.Errorf("period.closed published %d times, want 1", n)
	}
	_, _, err = e.UC.RecognizeRevenue(e.Ctx, e.LE.ID, "2026-03", false)
	wantReason(t, err, "PERIOD_CLOSED")
	_, err = e.UC.OpenPeriod(e.Ctx, e.LE.ID, "2026-03")
	wantReason(t, err, "PERIOD_REOPEN_REQUIRED")
	if p, err = e.UC.ReopenPeriod(e.Ctx, e.LE.ID, "2026-03", "late supplier bill"); err != nil || p.Status != ledger.PeriodOpen {
		t.Fatalf("reopen: %v %v", p.Status, err)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM audit_log WHERE action = 'period.reopened' AND reason = 'late supplier bill'`); n != 1 {
		t.Errorf("reopen audit records = %d, want 1", n)
	}
}

// A soft-closed period: time dated in it is rejected like in a closed one (the legal entity
// rejects late entries), and only a principal with billing:finance posts an invoice in it.
func TestSoftClosedPeriodIsFinancesOnly(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("t1", billingtest.Consult, billingtest.TaskBill, "2026-03-05", "8"))
	draft := e.propose(c.ID, "")
	if _, err := e.UC.SoftClosePeriod(e.Ctx, e.LE.ID, "2026-03"); err != nil {
		t.Fatal(err)
	}
	if r := e.post(hours("t2", billingtest.Consult, billingtest.TaskBill, "2026-03-06", "2"))["t2"]; r.Outcome != ledger.RejectedClosedPeriod {
		t.Errorf("time in a soft-closed period: %s, want %s", r.Outcome, ledger.RejectedClosedPeriod)
	}
	clerk := auth.WithPrincipal(e.Ctx, auth.Principal{Subject: "clerk", Scopes: []string{"invoices:write"}, LegalEntities: auth.Entities{All: true}})
	_, err := e.UC.PostInvoice(clerk, draft.ID, billingtest.Day("2026-03-31"))
	wantReason(t, err, "PERIOD_CLOSED")
	finance := auth.WithPrincipal(e.Ctx, auth.Principal{Subject: "controller", Scopes: []string{"invoices:write", app.ScopeFinance},
		LegalEntities: auth.Entities{All: true}})
	if inv, err := e.UC.PostInvoice(finance, draft.ID, billingtest.Day("2026-03-31")); err != nil || inv.Number == "" {
		t.Fatalf("finance posting in the soft-closed period: %v", err)
	}
}

// Estimates need a line of the contract, its currency and no negative amount.
func TestRevenueEstimateIsValidated(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.withLine(fixedLine("1000.00", contract.PercentComplete))
	set := func(line string, etc money.Amount) error {
		_, err := e.UC.SetRevenueEstimate(e.Ctx, revenue.Estimate{ContractID: c.ID, LineKey: line, EffectivePeriod: "2026-03", EstimateToComplete: etc})
		return err
	}
	wantReason(t, set("NOPE", billingtest.USD("1.00")), "CONTRACT_LINE_NOT_FOUND")
	wantReason(t, set("L1", billingtest.EUR("1.00")), "CURRENCY_MISMATCH")
	wantReason(t, set("L1", billingtest.USD("-1.00")), revenue.ReasonNegativeAmount)
	// Without an estimate, a percent-complete line is skipped and says why.
	if l := lineOf(t, e.recognize("2026-03")); l.Skipped != revenue.SkipNoEstimate {
		t.Errorf("line without an estimate: skipped %q, want %s", l.Skipped, revenue.SkipNoEstimate)
	}
}
