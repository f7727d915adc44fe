package gateway

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/ratelimit"
	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

const salesforcePath = "/webhooks/salesforce/salesforce/opportunities"

// The T&E tool's secret opens only the T&E door: a Salesforce delivery signed with it is refused
// 401 SECRET_NOT_FOR_ROUTE, whether the path names the Salesforce source or the T&E tool, and
// nothing reaches the project service. The Salesforce secret itself converts, with the
// Salesforce route's token, which carries projects:write and nothing else.
func TestWebhookSecretIsBoundToItsRoute(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	tne := testSecrets[webhook.Binding{Route: "timeexpense.approved", Source: "tne"}]
	for _, path := range []string{salesforcePath, "/webhooks/salesforce/tne/opportunities"} {
		rec := e.deliver(path, tne, closedWon(t))
		if p := problemOf(t, rec); rec.Code != http.StatusUnauthorized || p.Reason != webhook.ReasonSecretNotForRoute {
			t.Errorf("%s signed with the T&E secret: %d %s, want 401 %s", path, rec.Code, p.Reason, webhook.ReasonSecretNotForRoute)
		}
	}
	// Another source's secret on the same route is refused the same way.
	acme := testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "acme"}]
	if rec := e.deliver(salesforcePath, acme, closedWon(t)); problemOf(t, rec).Reason != webhook.ReasonSecretNotForRoute {
		t.Errorf("the salesforce source signed with acme's secret: %d %s", rec.Code, rec.Body)
	}
	if n := len(e.project.Calls()); n != 0 {
		t.Fatalf("%d calls reached the project service, want 0", n)
	}

	rec := e.deliver(salesforcePath, testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "salesforce"}], closedWon(t))
	if rec.Code != http.StatusOK {
		t.Fatalf("authentic Salesforce delivery: %d %s", rec.Code, rec.Body)
	}
	calls := e.project.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls reached the project service, want 1", len(calls))
	}
	if p := calls[0].principal; p.Subject != "gw-salesforce" || !slices.Equal(p.Scopes, []string{"projects:write"}) {
		t.Errorf("the conversion came with %q scopes %v, want the Salesforce route's token with projects:write only", p.Subject, p.Scopes)
	}
	if !calls[0].hasDeadline {
		t.Error("the webhook's upstream call had no deadline")
	}
	// The refusals are in the quarantine, marked unsigned, with the reason.
	list, err := e.g.hooks.Quarantine(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Reason != webhook.ReasonSecretNotForRoute || list[0].Signed {
		t.Errorf("quarantine %+v, want 3 unsigned SECRET_NOT_FOR_ROUTE entries", list)
	}
}

// A route whose token could do more than the route needs is not used: the gateway refuses to
// start with it, and a delivery never goes out with it. A route with a secret but no token
// stops the start too, unless the shared development token stands in.
func TestWebhookRouteTokens(t *testing.T) {
	t.Parallel()
	var e *testEnv
	e = newTestEnv(t, func(o *Options) {
		o.WebhookTokens["salesforce.opportunities"] = lazyToken(func() string { return e.token("gw-broad", "projects:write", "costrates:write") })
	})
	err := e.g.CheckWebhookTokens(context.Background())
	if err == nil || !strings.Contains(err.Error(), "costrates:write") {
		t.Fatalf("start-up check with a broad token: %v, want a refusal naming costrates:write", err)
	}
	rec := e.deliver(salesforcePath, testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "salesforce"}], closedWon(t))
	if p := problemOf(t, rec); rec.Code != http.StatusServiceUnavailable || p.Reason != "GATEWAY_CREDENTIALS_UNAVAILABLE" {
		t.Errorf("delivery with a broad route token: %d %s, want 503 GATEWAY_CREDENTIALS_UNAVAILABLE", rec.Code, p.Reason)
	}
	if n := len(e.project.Calls()); n != 0 {
		t.Errorf("%d calls reached the project service with the broad token", n)
	}

	base := newTestEnv(t, nil).g.opts
	base.WebhookTokens = map[string]grpcx.TokenSource{"timeexpense.approved": staticToken("x")}
	if _, err := New(context.Background(), base); err == nil || !strings.Contains(err.Error(), "salesforce.opportunities") {
		t.Errorf("New without the Salesforce route's token: %v, want an error naming the route", err)
	}
	base.SharedWebhookToken = staticToken("shared")
	if g, err := New(context.Background(), base); err != nil {
		t.Errorf("New with the shared development token: %v", err)
	} else {
		g.Close()
	}
	base.Webhooks.Secrets = webhook.Secrets{{Route: "nosuch.route", Source: "x"}: {[]byte("0123456789abcdef")}}
	if _, err := New(context.Background(), base); err == nil || !strings.Contains(err.Error(), "nosuch.route") {
		t.Errorf("New with a secret for an unknown route: %v", err)
	}
}

type lazyToken func() string

func (f lazyToken) Token(context.Context) (string, error) { return f(), nil }

// A source over its rate gets 429 RATE_LIMITED with Retry-After, and its surplus deliveries reach
// no service; another source on the same route keeps going.
func TestWebhookSourceRateLimit(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(o *Options) { o.Webhooks.Limit = ratelimit.New(0.01, 2) })
	sf := testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "salesforce"}]
	var codes []int
	for range 4 {
		codes = append(codes, e.deliver(salesforcePath, sf, closedWon(t)).Code)
	}
	if !slices.Equal(codes, []int{200, 200, 429, 429}) {
		t.Fatalf("4 deliveries with a burst of 2: %v, want [200 200 429 429]", codes)
	}
	rec := e.deliver(salesforcePath, sf, closedWon(t))
	p := problemOf(t, rec)
	if p.Reason != ReasonRateLimited || rec.Header().Get("Retry-After") != "100" {
		t.Errorf("limited delivery: %s, Retry-After %q; want RATE_LIMITED, 100 (one per 100 s)", p.Reason, rec.Header().Get("Retry-After"))
	}
	acme := testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "acme"}]
	if rec := e.deliver("/webhooks/salesforce/acme/opportunities", acme, closedWon(t)); rec.Code != http.StatusOK {
		t.Errorf("another source while salesforce is limited: %d %s", rec.Code, rec.Body)
	}
	if n := len(e.project.Calls()); n != 3 {
		t.Errorf("%d conversions reached the project service, want 3 (2 + acme's)", n)
	}
	// Rate-limited deliveries are not quarantine material.
	if list, _ := e.g.hooks.Quarantine(context.Background(), 100); len(list) != 0 {
		t.Errorf("quarantine holds %d entries after rate-limited deliveries, want 0", len(list))
	}
}

// Junk cannot push real entries out of the quarantine or invent metric labels: past the refusal
// budget unsigned deliveries are refused and counted but not recorded, a signed replay stays in
// its source's own stream, and a source nobody configured is counted as "unknown".
func TestQuarantineAndLabelsResistJunk(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(o *Options) { o.Webhooks.RefusedLimit = ratelimit.New(0.01, 3) })
	sf := testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "salesforce"}]
	body := closedWon(t)
	if rec := e.deliver(salesforcePath, sf, body); rec.Code != http.StatusOK {
		t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
	}
	if rec := e.deliver(salesforcePath, sf, body); rec.Code != http.StatusConflict {
		t.Fatalf("replay: %d %s", rec.Code, rec.Body)
	}
	for i := range 40 {
		rec := e.deliver(salesforcePath, []byte("not-the-secret-0123456789"), closedWon(t))
		if p := problemOf(t, rec); rec.Code != http.StatusUnauthorized || p.Reason != webhook.ReasonSignatureInvalid {
			t.Fatalf("junk %d: %d %s, want 401 SIGNATURE_INVALID", i, rec.Code, p.Reason)
		}
	}
	junkSource := "junk-" + strings.Repeat("x", 20)
	if rec := e.deliver("/webhooks/salesforce/"+junkSource+"/opportunities", sf, closedWon(t)); rec.Code != http.StatusUnauthorized && rec.Code != http.StatusNotFound {
		t.Fatalf("unknown source: %d %s", rec.Code, rec.Body)
	}
	list, err := e.g.hooks.Quarantine(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var replays, unsigned int
	for _, q := range list {
		switch {
		case q.Reason == webhook.ReasonReplayedEvent && q.Signed && q.Source == "salesforce":
			replays++
		case !q.Signed:
			unsigned++
		}
	}
	// The budget is per claimed source: 3 of the salesforce junk, and the unknown source's one.
	if replays != 1 || unsigned != 4 || len(list) != 5 {
		t.Errorf("quarantine: %d signed replays, %d unsigned of %d entries; want 1, 4 (3 + 1), 5", replays, unsigned, len(list))
	}
	if n := len(e.logs.lines(`"webhook rejected"`)); n != 5 {
		t.Errorf("%d 'webhook rejected' log lines, want 5 (junk past the budget is only counted)", n)
	}
	rec := scrape(e.g)
	if strings.Contains(rec, junkSource) {
		t.Error("the metrics carry a source name nobody configured")
	}
	if !strings.Contains(rec, `accrue_webhook_deliveries_total{outcome="SIGNATURE_INVALID",route="salesforce.opportunities",source="salesforce"}`) ||
		!strings.Contains(rec, `source="unknown"`) {
		t.Errorf("metrics lack the configured source's refusals or the unknown label:\n%s", grepLines(rec, "accrue_webhook_deliveries_total"))
	}
}

// A webhook's upstream call has a deadline: a service that never answers costs the sender
// UpstreamTimeout, answered 504 without transport details, and the event id stays usable.
func TestWebhookUpstreamDeadline(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(o *Options) { o.UpstreamTimeout = 300 * time.Millisecond })
	e.project.block.Store(true)
	start := time.Now()
	rec := e.deliver(salesforcePath, testSecrets[webhook.Binding{Route: "salesforce.opportunities", Source: "salesforce"}], closedWon(t))
	took := time.Since(start)
	p := problemOf(t, rec)
	if rec.Code != http.StatusGatewayTimeout || took > 3*time.Second {
		t.Fatalf("delivery to a hanging service: %d after %s, want 504 after about 300ms", rec.Code, took)
	}
	if strings.Contains(p.Detail, "context deadline") {
		t.Errorf("detail %q shows gRPC internals", p.Detail)
	}
}
