package periodclose_test

import (
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
