package periodclose_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
)

func TestChecklistNamesTheFailingItemsAndHonoursWaivers(t *testing.T) {
	h := decimal.RequireFromString
	f := periodclose.Facts{ParkedPostings: 2, DraftInvoices: 1, Runs: 0, PostedHours: h("10"), BilledHours: h("6"), UnbilledHours: h("3.5")}
	c := periodclose.Evaluate("le", "2026-03", f)
	err := c.Err()
	if fault.ReasonOf(err) != "CLOSE_CHECKLIST_FAILED" {
		t.Fatalf("err = %v, want CLOSE_CHECKLIST_FAILED", err)
	}
	var fe *fault.Error
	if e, ok := err.(*fault.Error); ok {
		fe = e
	}
	if fe == nil || fe.Metadata["failing_items"] != "NO_PARKED_POSTINGS,NO_DRAFT_INVOICES,RECOGNITION_RUN,HOURS_RECONCILED" {
		t.Fatalf("failing items = %v", fe)
	}
	// 10 h posted against 6 + 3.5: half an hour is neither billed nor unbilled.
	f = periodclose.Facts{DraftInvoices: 3, Runs: 1, PostedHours: h("8"), BilledHours: h("8"), UnbilledHours: h("0"),
		Waivers: map[periodclose.Item]string{periodclose.NoDraftInvoices: "billed next month", periodclose.RecognitionRun: "ignored"}}
	c = periodclose.Evaluate("le", "2026-03", f)
	if !c.Passed() || c.Err() != nil {
		t.Fatalf("waived drafts with everything else clean must pass: %+v", c.Results)
	}
	if r := c.Results[1]; !r.Waived || r.Item != periodclose.NoDraftInvoices {
		t.Errorf("draft item = %+v, want waived", r)
	}
	if periodclose.Waivable(periodclose.RecognitionRun) {
		t.Error("the recognition run must not be waivable")
	}
}

// HOURS_RECONCILED follows the latest reconciliation run of the period: a DRIFT run fails it
// naming the run even when billing's own hours agree; a CLEAN run passes with the hours agreeing;
// with no run the billing-local check (posted = billed + unbilled) alone decides.
func TestHoursReconciledFollowsTheLatestReconciliationRun(t *testing.T) {
	h := decimal.RequireFromString
	base := periodclose.Facts{Runs: 1, PostedHours: h("12"), BilledHours: h("8"), UnbilledHours: h("4")}
	item := func(f periodclose.Facts) periodclose.Result {
		for _, r := range periodclose.Evaluate("le", "2026-06", f).Results {
			if r.Item == periodclose.HoursReconciled {
				return r
			}
		}
		t.Fatal("no HOURS_RECONCILED item")
		return periodclose.Result{}
	}
	if r := item(base); !r.Passed || !strings.Contains(r.Detail, "no reconciliation run") {
		t.Errorf("no run, 12 = 8 + 4: %+v, want passed by the local check", r)
	}
	drift := base
	drift.ReconciliationRunID, drift.ReconciliationStatus, drift.ReconciliationFindings = "run-7", "DRIFT", 3
	r := item(drift)
	if r.Passed || !strings.Contains(r.Detail, "run-7") || !strings.Contains(r.Detail, "3 findings") {
		t.Errorf("DRIFT run: %+v, want failed naming run-7 and its 3 findings", r)
	}
	if err := periodclose.Evaluate("le", "2026-06", drift).Err(); err == nil || !strings.Contains(err.Error(), "HOURS_RECONCILED") {
		t.Errorf("close with a DRIFT run: %v, want CLOSE_CHECKLIST_FAILED naming HOURS_RECONCILED", err)
	}
	clean := base
	clean.ReconciliationRunID, clean.ReconciliationStatus = "run-8", "CLEAN"
	if r := item(clean); !r.Passed || !strings.Contains(r.Detail, "run-8 is CLEAN") {
		t.Errorf("CLEAN run: %+v, want passed naming run-8", r)
	}
	off := clean
	off.UnbilledHours = h("3.5")
	if r := item(off); r.Passed {
		t.Errorf("CLEAN run but 12 posted against 8 + 3.5: %+v, want failed", r)
	}
}
