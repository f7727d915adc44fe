package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
)

// Through the gateway: a dry-run recognition answers JSON, the close checklist names the missing
// run, a close is refused as problem+json with CLOSE_CHECKLIST_FAILED, and the revenue report
// downloads as CSV (not a JSON envelope).
func TestRevenueRoutesThroughTheGateway(t *testing.T) {
	env := harness.Start(t)
	le := createLegalEntity(t, env, "RV01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT).GetLegalEntityId()
	base := "/v1/legal-entities/" + le + "/periods/2026-06"
	if st, _, body := env.Do(http.MethodPost, base+":recognize", map[string]any{"dry_run": true}, env.Bearer(billingWrite)); st != http.StatusOK ||
		!strings.Contains(string(body), `"dry_run":true`) {
		t.Fatalf("dry run: %d %s", st, body)
	}
	if st, _, body := env.Do(http.MethodGet, base+"/close-checklist", nil, env.Bearer(billingRead)); st != http.StatusOK ||
		!strings.Contains(string(body), `"RECOGNITION_RUN"`) || strings.Contains(string(body), `"ready":true`) {
		t.Fatalf("checklist: %d %s", st, body)
	}
	st, h, body := env.Do(http.MethodPost, base+":close", map[string]any{}, env.Bearer(billingWrite))
	if st != http.StatusBadRequest || !strings.Contains(h.Get("Content-Type"), "problem+json") || !strings.Contains(string(body), "CLOSE_CHECKLIST_FAILED") {
		t.Fatalf("close without a run: %d %s %s", st, h.Get("Content-Type"), body)
	}
	st, h, body = env.Do(http.MethodGet, "/v1/legal-entities/"+le+"/revenue-report:csv?from_period=2026-06&to_period=2026-06", nil,
		env.Bearer(billingRead))
	if st != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(body), "section,key,measure,amount,currency\n") {
		t.Fatalf("CSV report: %d %s %q", st, h.Get("Content-Type"), body)
	}
}
