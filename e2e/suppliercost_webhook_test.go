package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// A NetSuite vendorBill (the translator's fixture, its project ids replaced by real ones) delivered
// through the signed suppliercost.bills webhook records its two lines on the legal entity its
// subsidiary names (US01) and is allocated: the item line of 1,200.00 on its project, the expense
// line of 300.50 split 60/40 by the rule it names (180.30 / 120.20), Dr 5200 against Cr 2000.
// The same delivery again is a replay (409 REPLAYED_EVENT); the same bill in other bytes (a new
// event id) answers UNCHANGED for both lines. Two journal entries in all: it posted once. A bill
// naming an unknown legal entity code is refused (404 LEGAL_ENTITY_NOT_FOUND).
func TestNetSuiteVendorBillByWebhookPostsOnceAndAllocates(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	a, b := newPostingProject(t, env, le, "nsbill-a"), newPostingProject(t, env, le, "nsbill-b")
	rule := fmt.Sprintf(`{"rule":{"name":"split-ab","kind":"ALLOCATION_RULE_KIND_FIXED_SHARES","targets":[{"project_id":%q,"percent":"60"},{"project_id":%q,"percent":"40"}]}}`,
		a.projectID, b.projectID)
	if st, _, body := env.Do(http.MethodPost, "/v1/legal-entities/"+le.GetLegalEntityId()+"/allocation-rules", rule, env.Bearer(supplierWrite)); st/100 != 2 {
		t.Fatalf("rule: %d %s", st, body)
	}
	bill := strings.NewReplacer("01a2210c-0000-7000-8000-0000000000b1", a.projectID, "01a2210c-0000-7000-8000-0000000000c1", a.billable).
		Replace(string(vendorFixture(t, "netsuite-vendor-bill.json")))
	const path = "/webhooks/suppliercost/netsuite/bills"
	deliver := func(body string, want billingv1.SupplierBillLineOutcome) {
		t.Helper()
		st, _, resp := env.PostWebhook(path, "netsuite", []byte(body))
		if st != http.StatusOK {
			t.Fatalf("delivery: %d %s, want 200", st, resp)
		}
		var r webhooksv1.SupplierBillResult
		decode(t, resp, &r)
		if r.GetLegalEntityId() != le.GetLegalEntityId() || len(r.GetLines()) != 2 {
			t.Fatalf("result %v, want 2 lines on %s", &r, le.GetLegalEntityId())
		}
		for _, l := range r.GetLines() {
			if l.GetOutcome() != want || l.GetLineId() == "" {
				t.Errorf("line %d: %v, want %v", l.GetLineNumber(), l, want)
			}
		}
	}
	deliver(bill, billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED)
	st, hdr, body := env.PostWebhook(path, "netsuite", []byte(bill))
	expectProblem(t, "the same delivery again", http.StatusConflict, "REPLAYED_EVENT", st, hdr, body)
	deliver(bill+"\n", billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_UNCHANGED)

	unknown := `{"legal_entity_code": "ZZ99", "vendor_id": "V-1", "bill_number": "B-1", "bill_date": "2026-06-30", "currency": "USD",
		"lines": [{"line_number": 1, "amount": "10.00", "project_id": "` + a.projectID + `"}]}`
	st, hdr, body = env.PostWebhook(path, "netsuite", []byte(unknown))
	expectProblem(t, "a bill of an unknown legal entity code", http.StatusNotFound, "LEGAL_ENTITY_NOT_FOUND", st, hdr, body)

	want := map[string]string{a.projectID: "1380.30", b.projectID: "120.20"}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		for p, w := range want {
			var got string
			if err := env.DB("billing").QueryRow(context.Background(), `SELECT COALESCE(sum(debit - credit), 0)::numeric(18,2)::text
				FROM journal_lines WHERE account_code = '5200' AND project_id = $1`, p).Scan(&got); err != nil {
				return err
			}
			if got != w {
				return fmt.Errorf("project %s: subcontractor cost %s, want %s", p, got, w)
			}
		}
		return nil
	})
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_type = 'supplier_bill_line'`); n != 2 {
		t.Errorf("allocation entries = %d, want 2 (one per line, posted once)", n)
	}
	var ap string
	if err := env.DB("billing").QueryRow(context.Background(), `SELECT COALESCE(sum(debit - credit), 0)::numeric(18,2)::text
		FROM journal_lines WHERE account_code = '2000'`).Scan(&ap); err != nil || ap != "-1500.50" {
		t.Errorf("accounts payable %s (%v), want -1500.50", ap, err)
	}
	if n := env.Count("billing", `SELECT count(*) FROM supplier_bill_lines`); n != 2 {
		t.Errorf("bill lines = %d, want 2", n)
	}
}
