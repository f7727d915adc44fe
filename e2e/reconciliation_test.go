package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// runReconciliation runs reconciliation of the legal entity's June 2026 over REST.
func runReconciliation(t testing.TB, env *harness.Env, leID string) *opsv1.ReconciliationRun {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/reconciliation/runs",
		restJSON(t, &opsv1.RunReconciliationRequest{LegalEntityId: leID, Period: "2026-06"}),
		env.Bearer([]string{"ops:write"}, "Idempotency-Key", uuid.NewString()))
	if st != http.StatusOK {
		t.Fatalf("POST /v1/reconciliation/runs: %d: %s", st, body)
	}
	var resp opsv1.RunReconciliationResponse
	decode(t, body, &resp)
	return resp.GetRun()
}

// cleanRun runs reconciliation until a run is clean (events of the setup still travelling
// between services are drift for a moment) and returns it.
func cleanRun(t testing.TB, env *harness.Env, leID string) *opsv1.ReconciliationRun {
	t.Helper()
	var run *opsv1.ReconciliationRun
	harness.Eventually(t, 30*time.Second, 250*time.Millisecond, func() error {
		if run = runReconciliation(t, env, leID); run.GetStatus() != opsv1.ReconciliationStatus_RECONCILIATION_STATUS_CLEAN {
			return fmt.Errorf("run %s: %s, findings %v", run.GetRunId(), run.GetStatus(), run.GetFindings())
		}
		return nil
	})
	return run
}

func totalsOf(run *opsv1.ReconciliationRun) map[string]string {
	out := map[string]string{}
	for _, t := range run.GetTotals() {
		k := t.GetName()
		if t.GetCurrencyCode() != "" {
			k += " " + t.GetCurrencyCode()
		}
		out[k] = t.GetValue()
	}
	return out
}

// findingOf returns the run's finding of code naming id, or nil.
func findingOf(run *opsv1.ReconciliationRun, code, id string) *opsv1.ReconciliationFinding {
	for _, f := range run.GetFindings() {
		for _, x := range f.GetEntityIds() {
			if f.GetCode() == code && x == id {
				return f
			}
		}
	}
	return nil
}

// corrupt runs a statement on billing's database (a test's deliberate corruption).
func corrupt(t testing.TB, env *harness.Env, sql string, args ...any) {
	t.Helper()
	if _, err := env.DB("billing").Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// Continuous reconciliation of a legal entity's June 2026 (issue 18, item 3):
//   - clean: 8 h and 4 h approved in time & expense are the 12 h the ledger posted and the 12 h of
//     invoice candidates (8 billed on a posted invoice, 4 unbilled); a 1,250.00 supplier bill line
//     is allocated 1,250.00; no unbalanced entry; every published event consumed;
//   - drift, all found by one run with their ids: a journal line corrupted in SQL (the entry id,
//     ENTRY_UNBALANCED), the bill line's amount changed in SQL (ALLOCATION_DIFFERS), and a 6 h
//     entry approved while billing was down whose event was then deleted from the stream: the
//     entry approved and not posted (APPROVED_NOT_POSTED) and its event never consumed by billing
//     (EVENT_NOT_CONSUMED); each finding is an open exception of billing's queue;
//   - the operator re-drives the event named by the finding with one replay call (what
//     `accruectl replay --service timeexpense --event-id ID` sends), the SQL edits are undone, and
//     the next run is clean again with 18 h everywhere; the findings' exceptions are resolved.
func TestReconciliationFindsDriftAndRecordsCleanTotals(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("billing", "ACCRUE_RECONCILE_GRACE", "1ms"))
	ctx := context.Background()
	le := createLegalEntity(t, env, "RC01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	leID := le.GetLegalEntityId()
	fx := newPostingProject(t, env, le, "recon")
	ada := newPostingResource(t, env, le, "Ada Reconciled", "CONSULTANT", consultantCostRate)
	importApproved(t, env, ada, fx, date(2026, 6, 1), "8", "rc-1")
	importApproved(t, env, ada, fx, date(2026, 6, 2), "4", "rc-2")
	var draft billingv1.ProposeInvoiceResponse
	inv := proposeOrPost(t, env, "/v1/contracts/"+fx.contractID+"/invoices:propose", "rc-p1", `{"cut_off":{"year":2026,"month":6,"day":1}}`, &draft)
	var posted billingv1.PostInvoiceResponse
	proposeOrPost(t, env, "/v1/invoices/"+inv.GetInvoiceId()+":post", "rc-post1", `{"issue_date":{"year":2026,"month":6,"day":30}}`, &posted)
	st, body, line := recordSupplierLine(t, env, leID, &billingv1.SupplierBillLine{VendorId: "V-RC", VendorName: "Subco", BillNumber: "RC-1",
		LineNumber: 1, Amount: usd("1250.00"), BillDate: date(2026, 6, 30), ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 30),
		Description: "load testing", ProjectId: fx.projectID})
	if st != http.StatusCreated {
		t.Fatalf("supplier line: %d %s", st, body)
	}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM supplier_bill_lines WHERE id = $1 AND status = 'ALLOCATED'`, line.GetLineId()); n != 1 {
			return fmt.Errorf("line %s not allocated yet", line.GetLineId())
		}
		return nil
	})

	clean := cleanRun(t, env, leID)
	want := map[string]string{"time.hours_approved": "12", "ledger.hours_posted": "12", "ledger.hours_billable_posted": "12",
		"candidates.hours_billed": "8", "candidates.hours_unbilled": "4", "time.entries_approved": "2",
		"supplier.bill_lines_amount USD": "1250", "supplier.allocated_amount USD": "1250", "journal.entries_unbalanced": "0"}
	got := totalsOf(clean)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("clean run total %s = %q, want %s (all: %v)", k, got[k], v, got)
		}
	}
	if got["events.checked"] == "" || got["events.checked"] == "0" {
		t.Errorf("clean run checked %q events, want the setup's events", got["events.checked"])
	}

	// Drift 1: a ledger line corrupted in SQL.
	var entryID string
	if err := env.DB("billing").QueryRow(ctx, `UPDATE journal_lines SET debit = debit + 1
		WHERE (entry_id, line_no) = (SELECT l.entry_id, l.line_no FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
			WHERE e.legal_entity_id = $1 AND e.source_type = 'time_entry' AND l.debit > 0 ORDER BY e.id, l.line_no LIMIT 1)
		RETURNING entry_id::text`, leID).Scan(&entryID); err != nil {
		t.Fatal(err)
	}
	// Drift 2: the supplier bill line no longer matches its allocation.
	corrupt(t, env, `UPDATE supplier_bill_lines SET amount = 1300.00 WHERE id = $1`, line.GetLineId())
	// Drift 3: an entry approved while billing is down, its event dropped from the stream.
	const approvals = `SELECT count(*) FROM outbox WHERE event_type = 'time_entries.approved' AND published_at IS NOT NULL`
	before := env.Count("timeexpense", approvals)
	env.Kill("billing", syscall.SIGTERM)
	imported := mustImport(t, env, timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 3), "6", true), "rc-3-"+env.ID())))
	lostEntry := imported.GetResults()[0].GetEntryId()
	var eventID string
	harness.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		if n := env.Count("timeexpense", approvals); n != before+1 {
			return fmt.Errorf("%d approval events published, want %d", n, before+1)
		}
		return env.DB("timeexpense").QueryRow(ctx, `SELECT event_id::text FROM outbox
			WHERE event_type = 'time_entries.approved' AND published_at IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&eventID)
	})
	rdb, prefix := env.Redis()
	dropped := 0
	for _, e := range rdb.XRange(ctx, prefix+"timeexpense.events", "-", "+").Val() {
		if e.Values["event_id"] == eventID {
			dropped += int(rdb.XDel(ctx, prefix+"timeexpense.events", e.ID).Val())
		}
	}
	if dropped != 1 {
		t.Fatalf("deleted %d stream entries of event %s, want 1", dropped, eventID)
	}
	env.Restart("billing")
	waitBillingAPI(t, env)

	drift := runReconciliation(t, env, leID)
	if drift.GetStatus() != opsv1.ReconciliationStatus_RECONCILIATION_STATUS_DRIFT {
		t.Errorf("run after the drift: %s, want DRIFT", drift.GetStatus())
	}
	findings := map[string]*opsv1.ReconciliationFinding{
		"ENTRY_UNBALANCED " + entryID:            findingOf(drift, "ENTRY_UNBALANCED", entryID),
		"ALLOCATION_DIFFERS " + line.GetLineId(): findingOf(drift, "ALLOCATION_DIFFERS", line.GetLineId()),
		"APPROVED_NOT_POSTED " + lostEntry:       findingOf(drift, "APPROVED_NOT_POSTED", lostEntry),
		"EVENT_NOT_CONSUMED " + eventID:          findingOf(drift, "EVENT_NOT_CONSUMED", eventID),
	}
	for what, f := range findings {
		if f == nil {
			t.Errorf("the run has no finding %s: %v", what, drift.GetFindings())
			continue
		}
		if f.GetExceptionId() == "" {
			t.Errorf("finding %s has no exception", what)
		}
	}
	if f := findings["EVENT_NOT_CONSUMED "+eventID]; f != nil && (f.GetProducer() != "timeexpense" || f.GetConsumer() != "billing") {
		t.Errorf("event finding: producer %q consumer %q, want timeexpense → billing", f.GetProducer(), f.GetConsumer())
	}
	open := listExceptions(t, env, "billing", "status=EXCEPTION_STATUS_OPEN&kind=reconciliation.time")
	if e := findException(open, "reconciliation.time", lostEntry); e == nil || e.GetReason() != "APPROVED_NOT_POSTED" {
		t.Errorf("no open exception APPROVED_NOT_POSTED about %s in billing's queue: %v", lostEntry, open)
	}
	// The same drift found again is the same exception (deduplicated per finding).
	again := runReconciliation(t, env, leID)
	if f := findingOf(again, "ENTRY_UNBALANCED", entryID); f == nil || f.GetExceptionId() != findings["ENTRY_UNBALANCED "+entryID].GetExceptionId() {
		t.Errorf("the second run's finding of entry %s: %v, want the same exception", entryID, f)
	}
	// The console's Reconciliation view lists the drift run with its offending ids.
	var view struct {
		Runs []struct {
			RunID      string `json:"run_id"`
			Period     string `json:"period"`
			Status     string `json:"status"`
			DriftCount int    `json:"drift_count"`
			FinishTime string `json:"finish_time"`
			Drifts     []struct {
				Check string   `json:"check"`
				Code  string   `json:"code"`
				IDs   []string `json:"ids"`
			} `json:"drifts"`
		} `json:"runs"`
	}
	st, _, body = env.Do(http.MethodGet, "/v1/ops/console/reconciliation?legal_entity_id="+leID+"&period=2026-06", nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/ops/console/reconciliation: %d %s", st, body)
	}
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatalf("console reconciliation: %v: %s", err, body)
	}
	var seenDrift bool
	for _, r := range view.Runs {
		if r.RunID != drift.GetRunId() {
			continue
		}
		seenDrift = true
		if r.Status != "DRIFT" || r.Period != "2026-06" || r.DriftCount != int(drift.GetFindingCount()) || len(r.Drifts) != r.DriftCount || r.FinishTime == "" {
			t.Errorf("console run %s: status %s period %s drift_count %d drifts %d finish %q, want DRIFT 2026-06 %d",
				r.RunID, r.Status, r.Period, r.DriftCount, len(r.Drifts), r.FinishTime, drift.GetFindingCount())
		}
		found := false
		for _, d := range r.Drifts {
			if d.Check == "journal" && d.Code == "ENTRY_UNBALANCED" && slices.Contains(d.IDs, entryID) {
				found = true
			}
		}
		if !found {
			t.Errorf("console run %s does not name entry %s as ENTRY_UNBALANCED: %+v", r.RunID, entryID, r.Drifts)
		}
	}
	if !seenDrift {
		t.Errorf("console lists %d runs %+v, without the drift run %s", len(view.Runs), view.Runs, drift.GetRunId())
	}
	var got2 opsv1.GetReconciliationRunResponse
	if st, _, body := env.Do(http.MethodGet, "/v1/reconciliation/runs/"+drift.GetRunId(), nil, env.Bearer(opsRead)); st != http.StatusOK {
		t.Errorf("GET the drift run: %d %s", st, body)
	} else if decode(t, body, &got2); got2.GetRun().GetFindingCount() != drift.GetFindingCount() || len(got2.GetRun().GetFindings()) != len(drift.GetFindings()) {
		t.Errorf("stored run has %d findings, the run answered %d", len(got2.GetRun().GetFindings()), len(drift.GetFindings()))
	}

	// The operator re-drives the lost event with one call, and undoes the SQL edits.
	f := findings["EVENT_NOT_CONSUMED "+eventID]
	if f == nil {
		t.FailNow()
	}
	st, _, body = env.Do(http.MethodPost, "/v1/ops/"+f.GetProducer()+"/events:replay", map[string]any{"eventIds": f.GetEntityIds()},
		env.Bearer([]string{"ops:read", "ops:write"}, "Idempotency-Key", uuid.NewString()))
	var replayed opsv1.ReplayEventsResponse
	if st != http.StatusOK {
		t.Fatalf("replay: %d %s", st, body)
	}
	if decode(t, body, &replayed); replayed.GetReplayedCount() != 1 {
		t.Fatalf("replay = %v, want 1 event re-driven", &replayed)
	}
	waitPostingStatus(t, env, timeexpensev1.PostingStatus_POSTING_STATUS_POSTED, lostEntry)
	corrupt(t, env, `UPDATE journal_lines SET debit = debit - 1
		WHERE (entry_id, line_no) = (SELECT entry_id, line_no FROM journal_lines WHERE entry_id = $1 AND debit > 0 ORDER BY line_no LIMIT 1)`, entryID)
	corrupt(t, env, `UPDATE supplier_bill_lines SET amount = 1250.00 WHERE id = $1`, line.GetLineId())

	after := cleanRun(t, env, leID)
	got = totalsOf(after)
	for k, v := range map[string]string{"time.hours_approved": "18", "ledger.hours_posted": "18", "candidates.hours_billed": "8",
		"candidates.hours_unbilled": "10", "supplier.allocated_amount USD": "1250"} {
		if got[k] != v {
			t.Errorf("run after the re-drive: %s = %q, want %s", k, got[k], v)
		}
	}
	resolved := listExceptions(t, env, "billing", "status=EXCEPTION_STATUS_RESOLVED&kind=reconciliation.time")
	if e := findException(resolved, "reconciliation.time", lostEntry); e == nil {
		t.Errorf("the exception of %s is not resolved after the clean run", lostEntry)
	}
	var list opsv1.ListReconciliationRunsResponse
	st, _, body = env.Do(http.MethodGet, "/v1/reconciliation/runs?legal_entity_id="+leID+"&period=2026-06&page_size=1", nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("list runs: %d %s", st, body)
	}
	if decode(t, body, &list); len(list.GetRuns()) != 1 || list.GetRuns()[0].GetRunId() != after.GetRunId() || list.GetNextPageToken() == "" {
		t.Errorf("latest run %v, want %s with more pages", list.GetRuns(), after.GetRunId())
	}
}
