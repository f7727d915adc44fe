package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/accrue/accrue/gateway/internal/ratelimit"
	"github.com/accrue/accrue/internal/platform/correlation"
)

// Metrics are not on the public listener (they are served on the admin address).
func TestPublicListenerServesNoMetrics(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	rec := e.do(http.MethodGet, "/metrics", nil, nil)
	if p := problemOf(t, rec); rec.Code != http.StatusNotFound || p.Reason != "NOT_FOUND" {
		t.Errorf("GET /metrics on the public handler: %d %s, want 404 NOT_FOUND", rec.Code, p.Reason)
	}
	if rec := e.do(http.MethodGet, "/debug/pprof/", nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on the public handler: %d, want 404", rec.Code)
	}
	if !strings.Contains(scrape(e.g), "accrue_gateway_requests_total{") {
		t.Error("the registry behind the admin listener has no request counts")
	}
}

// A client over its rate gets 429 RATE_LIMITED with Retry-After; other clients are not held
// back, and the refusals are logged once, not once per request.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(o *Options) { o.ClientLimit = ratelimit.New(0.5, 2) })
	busy := map[string]string{"Authorization": "Bearer " + e.token("busy-client", "ops:read")}
	var codes []int
	for range 5 {
		codes = append(codes, e.do(http.MethodGet, "/v1/ops/gateway/webhook-quarantine", nil, busy).Code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 || codes[4] != 429 {
		t.Fatalf("5 requests with a burst of 2: %v, want 200 200 429 429 429", codes)
	}
	rec := e.do(http.MethodGet, "/v1/ops/gateway/webhook-quarantine", nil, busy)
	if p := problemOf(t, rec); p.Reason != ReasonRateLimited || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("limited request: %s, Retry-After %q; want RATE_LIMITED, 2", p.Reason, rec.Header().Get("Retry-After"))
	}
	other := map[string]string{"Authorization": "Bearer " + e.token("quiet-client", "ops:read")}
	if rec := e.do(http.MethodGet, "/v1/ops/gateway/webhook-quarantine", nil, other); rec.Code != http.StatusOK {
		t.Errorf("another client while busy-client is limited: %d %s", rec.Code, rec.Body)
	}
	if n := len(e.logs.lines("rate limit reached", "busy-client")); n != 1 {
		t.Errorf("%d 'rate limit reached' lines for 4 refusals, want 1", n)
	}
	if !strings.Contains(scrape(e.g), "accrue_gateway_client_rate_limited_total 4") {
		t.Errorf("metrics: %s", grepLines(scrape(e.g), "rate_limited"))
	}
}

// An upstream failure that is not a service's answer (no ErrorInfo: a refused connection here)
// reaches the caller as a plain 503 without hosts or ports; the log keeps the transport error
// with the correlation id.
func TestTransportErrorsAreMasked(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	const id = "mask-check-0001"
	rec := e.do(http.MethodGet, "/v1/resources", nil, map[string]string{
		"Authorization": "Bearer " + e.token("reader", "resources:read"), correlation.Header: id})
	p := problemOf(t, rec)
	if rec.Code != http.StatusServiceUnavailable || p.Reason != "UNAVAILABLE" || p.CorrelationID != id {
		t.Fatalf("call to a dead upstream: %d %+v, want 503 UNAVAILABLE with the correlation id", rec.Code, p)
	}
	for _, leak := range []string{"dial", "127.0.0.1", "refused", "transport"} {
		if strings.Contains(p.Detail, leak) {
			t.Errorf("detail %q leaks %q", p.Detail, leak)
		}
	}
	if lines := e.logs.lines("upstream call failed", id, "127.0.0.1:1"); len(lines) != 1 {
		t.Errorf("log lines with the transport error and the correlation id: %d, want 1:\n%s", len(lines), e.logs)
	}
}
