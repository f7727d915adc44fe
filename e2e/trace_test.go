package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// One webhook is one trace, asynchronous consequences included. Every process exports its spans
// over OTLP/gRPC to a collector in the test (the real exporters and wiring, not an in-process
// stand-in). A delivery of approved time, sent with a W3C traceparent, produces spans in that
// trace from the gateway (HTTP server, gRPC client), timeexpense (gRPC server, its Postgres
// statements, the outbox write, the relay's XADD) and billing (the stream consumer continuing the
// trace from the event envelope, the posting batch and its statements), each under its cause.
func TestOneWebhookIsOneTraceFromGatewayToPosting(t *testing.T) {
	t.Parallel()
	collector := harness.StartTraceCollector(t)
	env := harness.Start(t, harness.WithTraces(collector.Endpoint()))
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "traced")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	in := timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 29), "4", true)
	in.ExternalReference = &commonv1.ExternalReference{ObjectType: "TimeEntry", ExternalId: "TR-1"}
	raw, err := protojson.Marshal(&webhooksv1.TimeEntriesApprovedEvent{EventId: "evt-trace-" + env.ID(),
		Items: []*timeexpensev1.ImportItem{timeItem(in)}})
	if err != nil {
		t.Fatal(err)
	}
	traceID, callerSpan := randomHex(16), randomHex(8)
	const path = "/webhooks/timeexpense/workday/approved-entries"
	headers := env.WebhookHeadersFor(path, "workday", raw, time.Time{})
	headers["traceparent"] = "00-" + traceID + "-" + callerSpan + "-01"
	st, _, body := env.Do(http.MethodPost, path, raw, headers)
	if st != http.StatusOK {
		t.Fatalf("webhook: %d, want 200: %s", st, body)
	}
	var resp timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &resp)
	checkImportResults(t, &resp, 1)
	waitPostingStatus(t, env, stPosted, resp.GetResults()[0].GetEntryId())

	_, prefix := env.Redis()
	httpRoute := "POST /webhooks/timeexpense/{source}/approved-entries"
	importRPC := "accrue.timeexpense.v1.TimeExpenseService/ImportApprovedEntries"
	want := []struct{ service, name string }{
		{"gateway", httpRoute},
		{"gateway", importRPC},
		{"timeexpense", importRPC},
		{"timeexpense", "outbox.write timeexpense.events"},
		{"timeexpense", "outbox.publish " + prefix + "timeexpense.events"},
		{"billing", "timeexpense.events process"},
		{"billing", "billing.post_batch"},
	}
	// Statements are traced in both services, under the work that issued them.
	statementsUnder := []struct{ service, under string }{{"timeexpense", importRPC}, {"billing", "billing.post_batch"}}
	var spans []harness.Span
	harness.Eventually(t, 20*time.Second, 100*time.Millisecond, func() error {
		spans = collector.Trace(traceID)
		for _, w := range want {
			if find(spans, w.service, w.name) == nil {
				return fmt.Errorf("no %s span %q in the trace yet (%d spans)", w.service, w.name, len(spans))
			}
		}
		for _, w := range statementsUnder {
			if statements(spans, w.service, find(spans, w.service, w.under).ID) == 0 {
				return fmt.Errorf("no Postgres statement span of %s under %q yet", w.service, w.under)
			}
		}
		// One connected trace: every span's parent is in it, or is the caller's span. (A span
		// ends, and is exported, before its parent: the trace may still be arriving.)
		ids := map[string]bool{callerSpan: true}
		for _, s := range spans {
			ids[s.ID] = true
		}
		for _, s := range spans {
			if !ids[s.Parent] {
				return fmt.Errorf("the parent %s of %s span %q is not in the trace", s.Parent, s.Service, s.Name)
			}
		}
		return nil
	})
	t.Logf("trace %s (%d spans):\n%s", traceID, len(spans), harness.FormatTrace(spans))

	byID := map[string]harness.Span{}
	for _, s := range spans {
		byID[s.ID] = s
	}
	// Each step hangs under its cause.
	chain := []struct{ service, name string }{want[6], want[5], want[3], want[2], want[1], want[0]}
	for i := 0; i+1 < len(chain); i++ {
		child, parent := find(spans, chain[i].service, chain[i].name), find(spans, chain[i+1].service, chain[i+1].name)
		if !descends(byID, *child, parent.ID) {
			t.Errorf("%s %q is not under %s %q", child.Service, child.Name, parent.Service, parent.Name)
		}
	}
	if root := find(spans, "gateway", httpRoute); root.Parent != callerSpan {
		t.Errorf("the gateway's span has parent %q, want the caller's %s", root.Parent, callerSpan)
	}
	if p := find(spans, "timeexpense", want[4].name); !descends(byID, *p, find(spans, want[3].service, want[3].name).ID) {
		t.Errorf("the relay's publish span is not under the outbox write")
	}
	for _, s := range spans {
		if s.StatusError {
			t.Errorf("%s span %q ended in error", s.Service, s.Name)
		}
	}

	// A REST call's span is named after its route, not its path (ids stay out of span names).
	getProject(t, env, fx.projectID)
	restRoute := "GET /v1/projects/{project_id=*}"
	harness.Eventually(t, 10*time.Second, 100*time.Millisecond, func() error {
		for _, s := range collector.Spans() {
			if s.Service == "gateway" && s.Name == restRoute && s.Attributes["http.response.status_code"] == "200" {
				return nil
			}
		}
		return fmt.Errorf("no gateway span %q yet", restRoute)
	})
}

// statements counts the Postgres statement spans of service under the span ancestor.
func statements(spans []harness.Span, service, ancestor string) int {
	byID := map[string]harness.Span{}
	for _, s := range spans {
		byID[s.ID] = s
	}
	n := 0
	for _, s := range spans {
		if s.Service == service && s.Attributes["db.system.name"] == "postgresql" && descends(byID, s, ancestor) {
			n++
		}
	}
	return n
}

func find(spans []harness.Span, service, name string) *harness.Span {
	for i := range spans {
		if spans[i].Service == service && spans[i].Name == name {
			return &spans[i]
		}
	}
	return nil
}

// descends reports whether s is ancestor's descendant (or ancestor itself) in byID.
func descends(byID map[string]harness.Span, s harness.Span, ancestor string) bool {
	for range len(byID) + 1 {
		if s.ID == ancestor {
			return true
		}
		p, ok := byID[s.Parent]
		if !ok {
			return false
		}
		s = p
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
