package e2e

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// Scopes of the invoice API.
var (
	invoicesWrite = []string{"invoices:write"}
	invoicesRead  = []string{"invoices:read"}
)

// invoiceReply is an answer of the invoice API carrying one invoice.
type invoiceReply interface {
	proto.Message
	GetInvoice() *billingv1.Invoice
}

// proposeOrPost posts body to path with an Idempotency-Key, expects 200 and returns the invoice
// of the answer.
func proposeOrPost(t testing.TB, env *harness.Env, path, key, body string, out invoiceReply) *billingv1.Invoice {
	t.Helper()
	st, _, resp := env.Do(http.MethodPost, path, []byte(body), env.Bearer(invoicesWrite, "Idempotency-Key", key+"-"+env.ID()))
	if st != http.StatusOK {
		t.Fatalf("POST %s: %d: %s", path, st, resp)
	}
	decode(t, resp, out)
	return out.GetInvoice()
}

// balances returns the balance (debit − credit) of each account in a trial balance.
func balances(tb *billingv1.GetTrialBalanceResponse) map[string]string {
	out := map[string]string{}
	for _, l := range tb.GetLines() {
		out[l.GetAccountCode()] = l.GetBalance().GetAmount()
	}
	return out
}

// importApproved imports one approved billable entry of hours on d and waits until it is posted.
func importApproved(t testing.TB, env *harness.Env, resourceID string, fx *postingFixture, d *commonv1.Date, hours, ref string) {
	t.Helper()
	resp := mustImport(t, env, timeItem(withRef(timeIn(resourceID, fx.projectID, fx.billable, d, hours, true), ref+"-"+env.ID())))
	waitPostingStatus(t, env, stPosted, resp.GetResults()[0].GetEntryId())
}

// Issue 14's must-show through the gateway's REST routes: 10.5 h × 90.00 = 945.00 invoiced and
// posted as number 1 of the legal entity's year; 2 more hours next time as 180.00 and never the
// 10.5 again; a credit note of 4 h on the first invoice (−360.00), then the next invoice bills
// those 4 h once (360.00). The receivable then holds 945 + 180 − 360 + 360 = 1,125.00.
func TestInvoicesCreditNotesAndReinvoicingThroughREST(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "IN01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "invoiced")
	linus := newPostingResource(t, env, le, "Linus Torvalds", "ARCHITECT", architectCostRate)
	importApproved(t, env, linus, fx, date(2026, 6, 8), "10.5", "inv-1")

	propose := "/v1/contracts/" + fx.contractID + "/invoices:propose"
	var p1 billingv1.ProposeInvoiceResponse
	first := proposeOrPost(t, env, propose, "p1", `{"cut_off":{"year":2026,"month":6,"day":30}}`, &p1)
	if first.GetTotal().GetAmount() != "945.00" || len(first.GetLines()) != 1 || first.GetStatus() != billingv1.InvoiceStatus_INVOICE_STATUS_DRAFT {
		t.Fatalf("first proposal %v, want a draft of one line, 945.00", first)
	}
	var post1 billingv1.PostInvoiceResponse
	first = proposeOrPost(t, env, "/v1/invoices/"+first.GetInvoiceId()+":post", "post1", `{"issue_date":{"year":2026,"month":7,"day":1}}`, &post1)
	if first.GetNumber() != "IN01-2026-000001" || first.GetStatus() != billingv1.InvoiceStatus_INVOICE_STATUS_POSTED {
		t.Fatalf("posted %s %s, want IN01-2026-000001 POSTED", first.GetNumber(), first.GetStatus())
	}

	importApproved(t, env, linus, fx, date(2026, 7, 6), "2", "inv-2")
	var p2 billingv1.ProposeInvoiceResponse
	second := proposeOrPost(t, env, propose, "p2", `{}`, &p2)
	if second.GetTotal().GetAmount() != "180.00" || len(second.GetLines()) != 1 {
		t.Fatalf("second proposal %v, want the 2 h only: 180.00", second)
	}
	var post2r billingv1.PostInvoiceResponse
	proposeOrPost(t, env, "/v1/invoices/"+second.GetInvoiceId()+":post", "post2", `{"issue_date":{"year":2026,"month":7,"day":31}}`, &post2r)

	st, _, body := env.Do(http.MethodPost, "/v1/invoices/"+first.GetInvoiceId()+":credit",
		[]byte(`{"issue_date":{"year":2026,"month":8,"day":3},"lines":[{"line_no":1,"quantity":"4"}]}`),
		env.Bearer(invoicesWrite, "Idempotency-Key", "cn1-"+env.ID()))
	if st != http.StatusOK {
		t.Fatalf("credit: %d: %s", st, body)
	}
	var cr billingv1.CreditInvoiceResponse
	decode(t, body, &cr)
	if cn := cr.GetCreditNote(); cn.GetTotal().GetAmount() != "-360.00" || cn.GetNumber() != "CN-IN01-2026-000001" {
		t.Fatalf("credit note %v, want CN-IN01-2026-000001 of -360.00", cn)
	}

	var p3 billingv1.ProposeInvoiceResponse
	third := proposeOrPost(t, env, propose, "p3", `{}`, &p3)
	if third.GetTotal().GetAmount() != "360.00" || len(third.GetLines()) != 1 || third.GetLines()[0].GetQuantity() != "4" {
		t.Fatalf("third proposal %v, want the credited 4 h once: 360.00", third)
	}
	var post3 billingv1.PostInvoiceResponse
	proposeOrPost(t, env, "/v1/invoices/"+third.GetInvoiceId()+":post", "post3", `{"issue_date":{"year":2026,"month":8,"day":31}}`, &post3)
	if post3.GetInvoice().GetNumber() != "IN01-2026-000003" {
		t.Fatalf("third invoice numbered %q, want IN01-2026-000003", post3.GetInvoice().GetNumber())
	}
	// Nothing more to bill: a problem document with its stable reason.
	st, hdr, body := env.Do(http.MethodPost, propose, []byte(`{}`), env.Bearer(invoicesWrite, "Idempotency-Key", "p4-"+env.ID()))
	expectProblem(t, "a proposal with nothing unbilled", http.StatusBadRequest, "NOTHING_TO_BILL", st, hdr, body)

	// Reading needs invoices:read and shows the posted invoice as it was posted.
	st, _, body = env.Do(http.MethodGet, "/v1/invoices/"+first.GetInvoiceId(), nil, env.Bearer(invoicesRead))
	var got billingv1.GetInvoiceResponse
	if st != http.StatusOK {
		t.Fatalf("GET invoice: %d: %s", st, body)
	}
	decode(t, body, &got)
	if got.GetInvoice().GetTotal().GetAmount() != "945.00" || got.GetInvoice().GetNumber() != "IN01-2026-000001" {
		t.Fatalf("first invoice read back as %v", got.GetInvoice())
	}
	// Receivable 945 + 180 − 360 + 360; WIP relieved of all it held (945 + 180 − 945 − 180 + 360 − 360).
	tb := trialBalance(t, env, le.GetLegalEntityId(), "")
	if b := balances(tb); !tb.GetBalanced() || b["1100"] != "1125.00" || (b["1200"] != "0.00" && b["1200"] != "") {
		t.Fatalf("trial balance %v (balanced %v), want receivable 1125.00 and WIP 0.00", b, tb.GetBalanced())
	}
}
