package app_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// Projects and billable tasks of the run's second and third contracts (the first is
// billingtest.Project on billingtest.TaskBill).
const (
	runProject2, runTask2 = "01a22200-0000-7000-8000-0000000001a2", "01a22200-0000-7000-8000-0000000001b2"
	runProject3, runTask3 = "01a22200-0000-7000-8000-0000000001a3", "01a22200-0000-7000-8000-0000000001b3"
)

// runContracts is a legal entity with three contracts: tm, time and materials with 10.5 h of
// the architect at 90.00 (945.00) on 2026-06-10; capped, a not-to-exceed of 1,000.00 with 3 × 8
// h of the consultant at 50.00 (1,200.00) on 2026-06-10..12; idle, nothing delivered.
func runContracts(t *testing.T) (e env, tm, capped, idle contract.Contract) {
	e = newEnv(t, legalentity.Reject)
	tm = e.WithProject(e.Terms(billingtest.StandardCard()...))
	terms := e.Terms(billingtest.StandardCard()...)
	capAt := billingtest.USD("1000.00")
	terms.Lines[0].NotToExceed = &capAt
	capped = e.contractWithProject("O2", runProject2, runTask2, terms)
	idle = e.contractWithProject("O3", runProject3, runTask3, e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "10.5"))
	for i, d := range []string{"2026-06-10", "2026-06-11", "2026-06-12"} {
		s := hours("C-"+string(rune('1'+i)), billingtest.Consult, runTask2, d, "8")
		s.ProjectID = runProject2
		e.post(s)
	}
	return e, tm, capped, idle
}

// contractWithProject creates a contract of terms (external id ext) with project on it, whose
// task bills contract line L1.
func (e env) contractWithProject(ext, project, task string, terms contract.Terms) contract.Contract {
	e.T.Helper()
	c, _, err := e.UC.UpsertContract(e.Ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: ext}, 1, terms, false)
	if err != nil {
		e.T.Fatal(err)
	}
	if err := e.UC.ApplyProject(e.Ctx, ledger.Project{ID: project, LegalEntityID: e.LE.ID, ContractID: c.ID,
		Tasks: map[string]ledger.Task{task: {Billable: true, LineKey: "L1"}}}, "PROJECT_STATUS_ACTIVE", 2); err != nil {
		e.T.Fatal(err)
	}
	return c
}

// runAll runs billing for the legal entity up to cutOff ("" all) and returns the outcomes by
// contract, failing the test on error.
func (e env) runAll(cutOff string, ids ...string) map[string]invoice.RunOutcome {
	e.T.Helper()
	var d civil.Date
	if cutOff != "" {
		d = billingtest.Day(cutOff)
	}
	run, err := e.UC.ProposeInvoices(e.Ctx, e.LE.ID, d, ids)
	if err != nil {
		e.T.Fatalf("invoice run: %v", err)
	}
	out := map[string]invoice.RunOutcome{}
	for i, o := range run.Outcomes {
		if i > 0 && run.Outcomes[i-1].ContractID >= o.ContractID {
			e.T.Fatalf("outcomes not in contract id order: %s then %s", run.Outcomes[i-1].ContractID, o.ContractID)
		}
		out[o.ContractID] = o
	}
	return out
}

// wantDraft fails unless o is a draft of total over cap overCap with lines lines.
func wantDraft(t *testing.T, what string, o invoice.RunOutcome, total, overCap string, lines int) {
	t.Helper()
	if o.Invoice == nil {
		t.Fatalf("%s: no draft (%s %s), want one of %s", what, o.Reason, o.Message, total)
	}
	wantMoney(t, what+" total", o.Invoice.Total, total)
	wantMoney(t, what+" over cap", o.Invoice.OverCap, overCap)
	if o.Invoice.Status != invoice.Draft || o.LineCount != lines || o.Reason != "" {
		t.Fatalf("%s: %s with %d lines (reason %q), want DRAFT with %d", what, o.Invoice.Status, o.LineCount, o.Reason, lines)
	}
}

// wantNone fails unless o has no draft, for reason.
func wantNone(t *testing.T, what string, o invoice.RunOutcome, reason string) {
	t.Helper()
	if o.Invoice != nil || o.Reason != reason {
		t.Fatalf("%s: draft %v reason %q, want no draft: %s", what, o.Invoice != nil, o.Reason, reason)
	}
}

// One run over the legal entity drafts 945.00 (10.5 h × 90.00) for the T&M contract and 1,000.00
// for the capped one, reporting its 200.00 over cap (4 h of the third 8 h day stay unbilled:
// lines of 8 h, 8 h and 4 h), and NOTHING_TO_BILL for the idle contract — the figures
// ProposeInvoice gives each. A second run proposes nothing new; 2 more hours after the
// cut-off are billed by a run with a later cut-off only (180.00), never the 10.5 h again.
func TestInvoiceRunProposesEachContractOnce(t *testing.T) {
	e, tm, capped, idle := runContracts(t)

	got := e.runAll("2026-06-30")
	if len(got) != 3 {
		t.Fatalf("%d outcomes, want 3 (one per contract)", len(got))
	}
	wantDraft(t, "T&M contract", got[tm.ID], "945.00 USD", "0.00 USD", 1)
	wantDraft(t, "capped contract", got[capped.ID], "1000.00 USD", "200.00 USD", 3)
	wantNone(t, "idle contract", got[idle.ID], "NOTHING_TO_BILL")
	inv, err := e.UC.Invoice(e.Ctx, got[capped.ID].Invoice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var qty []string
	for _, l := range inv.Lines {
		qty = append(qty, l.Quantity.String()+" h "+l.Amount.String())
	}
	if len(qty) != 3 || qty[0] != "8 h 400.00 USD" || qty[1] != "8 h 400.00 USD" || qty[2] != "4 h 200.00 USD" {
		t.Fatalf("capped draft lines = %v, want 8 h 400.00, 8 h 400.00, 4 h 200.00", qty)
	}
	if n, sum := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoices`),
		billingtest.Scalar[string](e.Env, `SELECT sum(total)::text FROM invoices`); n != 2 || sum != "1945.00" {
		t.Fatalf("%d invoices of %s, want 2 of 1945.00", n, sum)
	}

	again := e.runAll("2026-06-30")
	for _, c := range []contract.Contract{tm, capped, idle} {
		wantNone(t, "second run", again[c.ID], "NOTHING_TO_BILL")
	}

	e.post(hours("T-2", billingtest.Architect, billingtest.TaskBill, "2026-07-05", "2"))
	wantNone(t, "run up to June after July's hours", e.runAll("2026-06-30", tm.ID)[tm.ID], "NOTHING_TO_BILL")
	july := e.runAll("2026-07-31")
	wantDraft(t, "July run", july[tm.ID], "180.00 USD", "0.00 USD", 1)
	wantNone(t, "July run, capped contract", july[capped.ID], "NOTHING_TO_BILL")
	if lines := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_lines l JOIN invoice_candidates c ON c.id = l.candidate_id
		WHERE c.source_id = 'T-1' AND l.live`); lines != 1 {
		t.Fatalf("T-1 is on %d live lines, want 1", lines)
	}
}

// A run for listed contracts proposes for those only; a contract that is not the legal
// entity's refuses the whole run (CONTRACT_NOT_FOUND) before anything is written.
func TestInvoiceRunOfListedContracts(t *testing.T) {
	e, tm, capped, _ := runContracts(t)
	_, err := e.UC.ProposeInvoices(e.Ctx, e.LE.ID, civil.Date{}, []string{tm.ID, "01a22200-0000-7000-8000-0000000009ff"})
	wantReason(t, err, "CONTRACT_NOT_FOUND")
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoices`); n != 0 {
		t.Fatalf("%d invoices after a refused run, want 0", n)
	}
	got := e.runAll("", capped.ID, capped.ID)
	if len(got) != 1 {
		t.Fatalf("%d outcomes, want 1 (the listed contract, once)", len(got))
	}
	wantDraft(t, "listed capped contract", got[capped.ID], "1000.00 USD", "200.00 USD", 3)
}

// A contract another transaction holds (a proposal or amendment in progress) is reported
// INVOICE_RUN_CONTRACT_BUSY without holding up the run; the next run bills it.
func TestInvoiceRunReportsABusyContractAndGoesOn(t *testing.T) {
	e, tm, capped, _ := runContracts(t)
	tx, err := e.DB.Pool.Begin(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(e.Ctx, `SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE`, tm.ID); err != nil {
		t.Fatal(err)
	}
	got := e.runAll("")
	if err := tx.Rollback(e.Ctx); err != nil {
		t.Fatal(err)
	}
	wantNone(t, "held contract", got[tm.ID], "INVOICE_RUN_CONTRACT_BUSY")
	wantDraft(t, "capped contract", got[capped.ID], "1000.00 USD", "200.00 USD", 3)
	wantDraft(t, "next run", e.runAll("")[tm.ID], "945.00 USD", "0.00 USD", 1)
}

// Two runs at once make one set of lines: each contract is drafted by exactly one of them (the
// other finds it busy or already billed), 4 live lines and 1,945.00 in all.
func TestConcurrentInvoiceRunsMakeOneSetOfLines(t *testing.T) {
	e, tm, capped, _ := runContracts(t)
	const runs = 2
	results := make([]invoice.Run, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.UC.ProposeInvoices(context.Background(), e.LE.ID, civil.Date{}, nil)
		}()
	}
	wg.Wait()
	drafted := map[string]int{}
	for i, run := range results {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		for _, o := range run.Outcomes {
			switch {
			case o.Invoice != nil:
				drafted[o.ContractID]++
			case o.Reason == "NOTHING_TO_BILL", o.Reason == "INVOICE_RUN_CONTRACT_BUSY":
			default:
				t.Fatalf("run %d, contract %s: %s %s", i, o.ContractID, o.Reason, o.Message)
			}
		}
	}
	if drafted[tm.ID] != 1 || drafted[capped.ID] != 1 || len(drafted) != 2 {
		t.Fatalf("drafts per contract = %v, want one each for the T&M and capped contracts", drafted)
	}
	lines := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_lines WHERE live`)
	total := billingtest.Scalar[string](e.Env, `SELECT sum(total)::text FROM invoices`)
	if lines != 4 || total != "1945.00" {
		t.Fatalf("%d live lines, %s billed; want 4 and 1945.00", lines, total)
	}
}

// A run over more contracts than one chunk (app.RunChunk, chunks proposed by app.RunWorkers at
// once) answers once for every contract, in contract id order: 2 × RunChunk + 1 contracts, the
// one with 10.5 h drafted at 945.00, every other NOTHING_TO_BILL.
func TestInvoiceRunOverSeveralChunks(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	tm := e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "10.5"))
	for i := range 2 * app.RunChunk {
		if _, _, err := e.UC.UpsertContract(e.Ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "R-" + strconv.Itoa(i)},
			1, e.Terms(billingtest.StandardCard()...), false); err != nil {
			t.Fatal(err)
		}
	}
	got := e.runAll("")
	if len(got) != 2*app.RunChunk+1 {
		t.Fatalf("%d outcomes, want %d", len(got), 2*app.RunChunk+1)
	}
	nothing := 0
	for id, o := range got {
		if id == tm.ID {
			wantDraft(t, "T&M contract", o, "945.00 USD", "0.00 USD", 1)
			continue
		}
		if o.Reason == "NOTHING_TO_BILL" && o.Invoice == nil {
			nothing++
		}
	}
	if nothing != 2*app.RunChunk {
		t.Fatalf("%d contracts with nothing to bill, want %d", nothing, 2*app.RunChunk)
	}
}
