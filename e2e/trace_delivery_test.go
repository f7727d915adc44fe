package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
)

// The console's trace of an invoice shows its outbound webhook delivery: a partner subscribed to
// invoice.posted, the invoice is posted, and tracing the invoice id through the gateway lists the
// dispatcher's DELIVERY item (the subscription, DELIVERED) beside billing's records.
func TestTraceOfAnInvoiceShowsItsWebhookDelivery(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	var received atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	st, _, body := env.Do(http.MethodPost, "/v1/webhook-subscriptions", map[string]any{
		"url": receiver.URL, "event_types": []string{billingv1.EventTypeInvoicePosted}, "description": "trace test"},
		env.Bearer([]string{"webhooks:manage"}, "Idempotency-Key", "sub-"+env.ID()))
	if st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", st, body)
	}
	var sub struct {
		Subscription map[string]any `json:"subscription"`
	}
	if err := json.Unmarshal(body, &sub); err != nil {
		t.Fatalf("subscription answer %s: %v", body, err)
	}
	subID, _ := sub.Subscription["subscription_id"].(string)
	if subID == "" {
		subID, _ = sub.Subscription["subscriptionId"].(string)
	}
	if subID == "" {
		t.Fatalf("subscription answer %s: no subscription id", body)
	}

	le := createLegalEntity(t, env, "TR01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "traced")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "ARCHITECT", architectCostRate)
	importApproved(t, env, ada, fx, date(2026, 6, 8), "3", "trace-1")
	var p billingv1.ProposeInvoiceResponse
	inv := proposeOrPost(t, env, "/v1/contracts/"+fx.contractID+"/invoices:propose", "tp", `{}`, &p)
	var posted billingv1.PostInvoiceResponse
	inv = proposeOrPost(t, env, "/v1/invoices/"+inv.GetInvoiceId()+":post", "tpost", `{"issue_date":{"year":2026,"month":7,"day":1}}`, &posted)

	ops := env.Bearer([]string{"ops:read"})
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		st, _, body := env.Do(http.MethodGet, "/v1/ops/console/trace?key="+url.QueryEscape(inv.GetInvoiceId()), nil, ops)
		if st != http.StatusOK {
			t.Fatalf("trace: %d %s", st, body)
		}
		var tr struct {
			Items []struct {
				Service  string `json:"service"`
				Kind     string `json:"kind"`
				Title    string `json:"title"`
				Status   string `json:"status"`
				EntityID string `json:"entity_id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatalf("trace answer %s: %v", body, err)
		}
		last = string(body)
		var invoice, delivered bool
		for _, it := range tr.Items {
			invoice = invoice || (it.Service == "billing" && strings.Contains(strings.ToLower(it.Kind), "invoice"))
			delivered = delivered || (it.Service == harness.Dispatcher && it.Kind == "DELIVERY" &&
				it.Title == "webhook "+billingv1.EventTypeInvoicePosted && it.Status == "DELIVERED" && it.EntityID == subID)
		}
		if invoice && delivered {
			if received.Load() < 1 {
				t.Fatal("the trace shows a delivery the receiver never got")
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no billing invoice and DELIVERED dispatcher item in the trace of %s within 30s; last answer: %s", inv.GetInvoiceId(), last)
}
