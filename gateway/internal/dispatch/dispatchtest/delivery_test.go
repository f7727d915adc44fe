package dispatchtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/internal/platform/fault"
)

// downFor is how long the receiver stays down: 2 minutes in `make chaos`
// (ACCRUE_WEBHOOK_CHAOS_DOWN=2m), 2 seconds in `make test`.
func downFor(t *testing.T) time.Duration {
	if v := os.Getenv("ACCRUE_WEBHOOK_CHAOS_DOWN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return 2 * time.Second
}

// A receiver down for a while, then back, gets every event exactly once by event id, in order
// per subject, each verified by an independent Standard Webhooks verifier; a tampered body
// fails that verification.
func TestReceiverDownThenBackGetsEveryEventOnceInOrderPerSubject(t *testing.T) {
	down := downFor(t)
	r := newRig(t, "127.0.0.1")
	rc := newReceiver(t)
	sub := r.subscribe(rc.url())
	rc.secret = func() string { return sub.Secret }
	r.consume()
	cfg := fastConfig()
	if down > 10*time.Second { // the chaos run: retries over the whole outage (and the breaker)
		cfg.Schedule = subscription.Schedule{}
		for range 40 {
			cfg.Schedule = append(cfg.Schedule, 5*time.Second)
		}
	}
	r.deliver(cfg, 2*time.Second)

	rc.down()
	published := map[string][]string{}
	for _, subject := range []string{newID(), newID(), newID()} {
		published[subject] = r.publish(subject, 5)
	}
	time.Sleep(down)
	rc.up()
	got := rc.waitUnique(15, down+30*time.Second)
	time.Sleep(300 * time.Millisecond) // anything still in flight would show as a duplicate
	got = rc.requests()
	if dups := checkOncePerIDInOrder(t, got, published); dups != 0 {
		t.Errorf("%d duplicates without any crash; want exactly once", dups)
	}

	// Tampering with one byte of a body breaks the signature.
	g := got[0]
	tampered := append([]byte(nil), g.body...)
	tampered[len(tampered)-2] ^= 1
	if verifyStandardWebhook(sub.Secret, g.headers, tampered, time.Now()) {
		t.Error("a tampered body verified")
	}
	if !verifyStandardWebhook(sub.Secret, g.headers, g.body, time.Now()) {
		t.Error("the delivered body does not verify")
	}
	if subscription.Verify(sub.Secret, g.headers.Get("webhook-id"), g.headers.Get("webhook-timestamp"),
		g.headers.Get("webhook-signature"), tampered, time.Now(), 5*time.Minute) == nil {
		t.Error("the dispatcher's own verifier accepted a tampered body")
	}

	// Every attempt is logged: the first event of a subject failed while the receiver was down.
	first := published[got[0].subject][0]
	d, attempts, err := r.svc.Attempts(context.Background(), sub.ID, first)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != subscription.Delivered || len(attempts) < 2 || attempts[len(attempts)-1].StatusCode != 204 || attempts[0].StatusCode != 0 {
		t.Errorf("delivery %+v attempts %+v: want delivered after failed attempts, the last answered 204", d, attempts)
	}
	t.Logf("receiver down %s: %d requests for 15 events; first event's attempts: %d", down, len(got), len(attempts))
}

// One endpoint that takes 30 s to answer does not delay deliveries to a healthy endpoint.
func TestSlowEndpointDoesNotDelayAHealthyOne(t *testing.T) {
	r := newRig(t, "127.0.0.1")
	slow, healthy := newReceiver(t), newReceiver(t)
	slow.delay = 30 * time.Second
	slowSub, healthySub := r.subscribe(slow.url()), r.subscribe(healthy.url())
	slow.secret = func() string { return slowSub.Secret }
	healthy.secret = func() string { return healthySub.Secret }
	r.consume()
	cfg := fastConfig()
	r.deliver(cfg, 40*time.Second)

	// Baseline: one event with both endpoints idle.
	published := map[string][]string{}
	for range 8 {
		s := newID()
		published[s] = r.publish(s, 1)
	}
	start := time.Now()
	got := healthy.waitUnique(8, 10*time.Second)
	elapsed := time.Since(start)
	checkOncePerIDInOrder(t, got, published)
	if n := len(slow.inbound); n == 0 {
		t.Error("the slow endpoint was never called (the test proves nothing)")
	}
	if len(slow.requests()) != 0 {
		t.Error("the slow endpoint answered already")
	}
	// Normal latency here is the relay, the consumer and a poll: well under two seconds even
	// on a loaded machine; the slow endpoint's 30 s would show.
	if elapsed > 5*time.Second {
		t.Errorf("the healthy endpoint got its 8 events after %s", elapsed)
	}
	if n := len(slow.inbound); n > 2*cfg.EndpointConcurrency {
		t.Errorf("the slow endpoint holds %d requests; per-endpoint concurrency is %d", n, cfg.EndpointConcurrency)
	}
	t.Logf("healthy endpoint: 8 events in %s while the slow one held %d requests", elapsed, len(slow.inbound))
}

// URLs reaching loopback or link-local (cloud metadata) addresses are refused with a stable
// reason unless the allow-list permits them; delivery checks the address again.
func TestSSRFGuard(t *testing.T) {
	ctx := context.Background()
	strict := newRig(t, "")
	for _, u := range []string{"http://127.0.0.1:8080/hooks", "http://169.254.169.254/latest/meta-data", "http://[::1]/x",
		"http://10.1.2.3/x", "http://localhost:9/x"} {
		_, err := strict.svc.Create(ctx, app.CreateInput{URL: u, EventTypes: []string{"invoice.posted"}})
		if fault.ReasonOf(err) != "WEBHOOK_URL_FORBIDDEN" {
			t.Errorf("%s: %v, want WEBHOOK_URL_FORBIDDEN", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/x", "/relative", "http://user:pw@example.com/"} {
		_, err := strict.svc.Create(ctx, app.CreateInput{URL: u, EventTypes: []string{"invoice.posted"}})
		if fault.ReasonOf(err) != "WEBHOOK_URL_INVALID" {
			t.Errorf("%s: %v, want WEBHOOK_URL_INVALID", u, err)
		}
	}
	if _, err := strict.svc.Create(ctx, app.CreateInput{URL: "http://93.184.215.14/hooks", EventTypes: []string{"no.such"}}); fault.ReasonOf(err) != "WEBHOOK_EVENT_TYPE_UNKNOWN" {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := strict.svc.Create(ctx, app.CreateInput{URL: "http://93.184.215.14/hooks", EventTypes: []string{"invoice.posted"}, Shape: "nope"}); fault.ReasonOf(err) != "WEBHOOK_SHAPE_UNKNOWN" {
		t.Errorf("unknown shape: %v", err)
	}
	if _, err := strict.svc.Create(ctx, app.CreateInput{URL: "http://93.184.215.14/hooks", EventTypes: []string{"invoice.posted"}}); err != nil {
		t.Errorf("a public address: %v", err)
	}
	if _, err := strict.guard.DialContext(ctx, "tcp", "127.0.0.1:80"); fault.ReasonOf(err) != "WEBHOOK_URL_FORBIDDEN" {
		t.Errorf("dialling loopback at delivery time: %v, want WEBHOOK_URL_FORBIDDEN", err)
	}

	allowed := newRig(t, "127.0.0.1,169.254.169.254/32")
	for _, u := range []string{"http://127.0.0.1:8080/hooks", "http://169.254.169.254/latest/meta-data"} {
		if _, err := allowed.svc.Create(ctx, app.CreateInput{URL: u, EventTypes: []string{"invoice.posted"}}); err != nil {
			t.Errorf("%s allow-listed: %v", u, err)
		}
	}
	if _, err := allowed.svc.Create(ctx, app.CreateInput{URL: "http://169.254.1.1/x", EventTypes: []string{"invoice.posted"}}); fault.ReasonOf(err) != "WEBHOOK_URL_FORBIDDEN" {
		t.Errorf("outside the allow-list: %v", err)
	}
}

// Finished deliveries past the retention are pruned with their attempts and events; pending
// ones stay.
func TestPruneKeepsPendingDeliveries(t *testing.T) {
	r := newRig(t, "127.0.0.1")
	rc := newReceiver(t)
	sub := r.subscribe(rc.url())
	rc.secret = func() string { return sub.Secret }
	r.consume()
	r.deliver(fastConfig(), 2*time.Second)
	published := map[string][]string{}
	s := newID()
	published[s] = r.publish(s, 3)
	rc.waitUnique(3, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	rc.down()
	pending := r.publish(newID(), 1)
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _, err := r.svc.Deliveries(ctx, sub.ID, subscription.Pending, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].EventID == pending[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pending delivery was not recorded: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	n, err := r.svc.Prune(ctx, -time.Hour) // everything recorded before an hour from now
	if err != nil || n != 3 {
		t.Fatalf("pruned %d deliveries (%v), want the 3 delivered", n, err)
	}
	all, _, err := r.svc.Deliveries(ctx, sub.ID, "", "", 10)
	if err != nil || len(all) != 1 || all[0].EventID != pending[0] {
		t.Fatalf("left %+v (%v), want only the pending delivery", all, err)
	}
	var events, attempts int
	if err := r.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM webhook_attempts
		WHERE event_id <> $1)`, pending[0]).Scan(&events, &attempts); err != nil {
		t.Fatal(err)
	}
	if events != 1 || attempts != 0 {
		t.Errorf("%d events and %d attempts of pruned deliveries left, want 1 event and none", events, attempts)
	}
}
