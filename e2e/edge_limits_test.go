package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/e2e/internal/harness"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// One key per door, limits per sender, and nothing internal in answers, on the running system:
//   - the T&E tool's secret (its route: approved entries) cannot convert a deal through the
//     Salesforce route, whichever source the path names: 401 SECRET_NOT_FOR_ROUTE, quarantined
//     as unsigned, nothing written; the Salesforce secret converts it;
//   - a source over its rate gets 429 RATE_LIMITED with Retry-After while another source keeps
//     converting; a client over its rate likewise;
//   - a service that is down answers 503 without hosts or ports; the gateway log has them.
func TestWebhookSecretsLimitsAndMaskedErrors(t *testing.T) {
	t.Parallel()
	env := harness.Start(t,
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_WEBHOOK_RPS", "1"),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_WEBHOOK_BURST", "2"),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_CLIENT_RPS", "1"),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_CLIENT_BURST", "20"))
	createLegalEntityUS01(t, env)
	commit := time.Date(2026, 5, 27, 10, 0, 0, 0, time.UTC).UnixMilli()
	oppID, acct := "006EDGE-"+env.ID(), "001EDGE-"+env.ID()
	body := salesforceClosedWon(uuid.NewString(), oppID, acct, commit)

	tne := env.WebhookRouteSecret("timeexpense.approved", "workday")
	for _, path := range []string{"/webhooks/salesforce/salesforce/opportunities", "/webhooks/salesforce/workday/opportunities"} {
		h := map[string]string{harness.SignatureHeader: harness.SignWebhook(tne, time.Now(), body)}
		st, hdr, resp := env.Do(http.MethodPost, path, body, h)
		expectProblem(t, path+" signed with the T&E route's secret", http.StatusUnauthorized, "SECRET_NOT_FOR_ROUTE", st, hdr, resp)
	}
	if got := countRecords(t, env); got != (records{}) {
		t.Fatalf("records after the refused deliveries: %+v, want none", got)
	}
	refused := 0
	for _, q := range quarantined(t, env) {
		if q.Reason == "SECRET_NOT_FOR_ROUTE" && q.Route == "salesforce.opportunities" && q.BodySHA256 == sha256Hex(body) {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("quarantine holds %d SECRET_NOT_FOR_ROUTE deliveries of the deal, want 2", refused)
	}
	const sfPath = "/webhooks/salesforce/salesforce/opportunities"
	if st, _, resp := env.PostWebhook(sfPath, "salesforce", body); st != http.StatusOK {
		t.Fatalf("the Salesforce secret: %d %s", st, resp)
	}
	if n := accountCustomers(t, env, "salesforce", acct); n != 1 {
		t.Errorf("%d customers for the converted deal's account, want 1", n)
	}

	// Salesforce has used 1 of its burst of 2: of 4 more changes at once, at most 1 passes.
	noAction := bytes.Replace(body, []byte(`"StageName":"Closed Won"`), []byte(`"StageName":"Prospecting"`), 1)
	limited := 0
	for range 4 {
		st, hdr, resp := env.PostWebhook(sfPath, "salesforce", noAction)
		if st == http.StatusTooManyRequests {
			expectProblem(t, "a change over the source's rate", http.StatusTooManyRequests, "RATE_LIMITED", st, hdr, resp)
			if hdr.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", hdr.Get("Retry-After"))
			}
			limited++
		}
	}
	if limited < 3 {
		t.Errorf("%d of 4 changes over the rate refused, want at least 3", limited)
	}
	opp := opportunity("HUB-"+env.ID(), "HUBA-"+env.ID(), 100)
	opp.CrmSystem = ""
	hub := restJSON(t, &webhooksv1.CrmOpportunityEvent{EventId: uuid.NewString(), Opportunity: opp})
	if st, _, resp := env.PostWebhook("/webhooks/crm/hubspot/opportunities", "hubspot", hub); st != http.StatusOK {
		t.Errorf("another source while Salesforce is limited: %d %s", st, resp)
	}

	// A client over its rate (1/s, burst 20; every e2e token is one client).
	codes := map[int]int{}
	for range 30 {
		st, _, _ := env.Do(http.MethodGet, "/v1/legal-entities", nil, env.Bearer([]string{"billing:read"}))
		codes[st]++
	}
	if codes[http.StatusTooManyRequests] < 5 || codes[http.StatusOK] < 15 {
		t.Errorf("30 requests of one client at once: %v, want about 20 OK and the rest 429", codes)
	}

	// A dead service: the caller gets 503 and the correlation id, the log gets the transport error.
	env.Kill("customer", syscall.SIGKILL)
	time.Sleep(1500 * time.Millisecond) // the client's bucket refills a little
	st, hdr, resp := env.Do(http.MethodGet, "/v1/customers", nil, env.Bearer([]string{"customers:read"}, "X-Correlation-ID", "edge-mask-"+env.ID()))
	p := expectProblem(t, "a call to a dead service", http.StatusServiceUnavailable, "UNAVAILABLE", st, hdr, resp)
	for _, leak := range []string{"dial", "127.0.0.1", "refused", "transport"} {
		if strings.Contains(p.Detail, leak) {
			t.Errorf("detail %q leaks %q", p.Detail, leak)
		}
	}
	logged := false
	for _, l := range strings.Split(env.Logs(harness.Gateway), "\n") {
		logged = logged || strings.Contains(l, "upstream call failed") && strings.Contains(l, "edge-mask-"+env.ID()) && strings.Contains(l, env.GRPCAddr("customer"))
	}
	if !logged {
		t.Error("the gateway log has no line with the transport error, the upstream address and the correlation id")
	}
}
