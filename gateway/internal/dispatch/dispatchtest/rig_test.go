package dispatchtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/egress"
	"github.com/accrue/accrue/gateway/internal/dispatch/events"
	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func quiet() *slog.Logger {
	if os.Getenv("DISPATCH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// rig is a dispatcher's database and Redis keys, with the billing outbox relay publishing the
// events the tests write.
type rig struct {
	t      testing.TB
	db     *pgtest.DB
	rdb    *redis.Client
	prefix string
	queue  *exceptions.Queue
	st     *store.Store
	svc    *app.Service
	guard  *egress.Guard
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

func newRig(t testing.TB, allow string) *rig {
	t.Helper()
	r := &rig{t: t, db: pgtest.New(t, store.Migrations())}
	r.rdb, r.prefix = redistest.New(t)
	r.queue = exceptions.NewQueue(r.db.Pool, quiet())
	r.st = store.New(pgstore.New(r.db.Pool, outbox.Writer{Producer: "dispatcher"}, r.queue))
	g, err := egress.NewGuard(allow)
	if err != nil {
		t.Fatal(err)
	}
	r.guard = g
	r.svc = app.New(r.st, g, catalogue.Known)
	r.ctx, r.stop = context.WithCancel(context.Background())
	t.Cleanup(func() { r.stop(); r.wg.Wait() })
	r.run(outbox.NewRelay(r.db.Pool, r.rdb, outbox.RelayConfig{StreamPrefix: r.prefix, PollInterval: 50 * time.Millisecond}, quiet()))
	return r
}

func (r *rig) run(runner interface{ Run(context.Context) error }) {
	r.wg.Add(1)
	go func() { defer r.wg.Done(); _ = runner.Run(r.ctx) }()
}

// consume starts the dispatcher's consumer group on the billing stream in this process.
func (r *rig) consume() {
	r.t.Helper()
	c, err := stream.NewConsumer(consumerConfig(r.prefix), r.rdb, r.db.Pool, r.queue, events.Fanout(r.svc), quiet())
	if err != nil {
		r.t.Fatal(err)
	}
	r.run(c)
}

func consumerConfig(prefix string) stream.Config {
	return stream.Config{Stream: billingv1.EventStream, Group: events.Group, Types: catalogue.Types(billingv1.EventStream),
		StreamPrefix: prefix, Block: 100 * time.Millisecond, Linger: stream.NoLinger, ClaimMinIdle: time.Second,
		ClaimInterval: 500 * time.Millisecond}
}

// deliver starts a deliverer in this process.
func (r *rig) deliver(cfg app.DeliveryConfig, timeout time.Duration) {
	r.run(app.NewDeliverer(r.st, egress.NewSender(r.guard, timeout), cfg, quiet()))
}

// subscribe creates a subscription to invoice.posted and period.closed at url and returns it
// with its secret.
func (r *rig) subscribe(url string) subscription.Subscription {
	r.t.Helper()
	sub, err := r.svc.Create(context.Background(), app.CreateInput{URL: url,
		EventTypes: []string{billingv1.EventTypeInvoicePosted, billingv1.EventTypePeriodClosed}, Description: "test"})
	if err != nil {
		r.t.Fatalf("Create: %v", err)
	}
	return sub
}

// publish writes invoice.posted events of subject through the billing outbox and returns their
// ids in order.
func (r *rig) publish(subject string, n int) []string {
	r.t.Helper()
	w := outbox.Writer{Producer: "billing"}
	var ids []string
	for i := range n {
		envs, err := w.Enqueue(context.Background(), r.db.Pool, outbox.Event{Stream: billingv1.EventStream,
			Type: billingv1.EventTypeInvoicePosted, Subject: subject, Payload: &billingv1.InvoicePosted{Invoice: &billingv1.Invoice{
				InvoiceId: subject, Number: subject + "-" + strconv.Itoa(i)}}})
		if err != nil {
			r.t.Fatal(err)
		}
		ids = append(ids, envs[0].GetEventId())
	}
	return ids
}

// received is one request a receiver got.
type received struct {
	id, subject string
	at          time.Time
	verified    bool
	body        []byte
	headers     http.Header
}

// receiver is a partner's endpoint: it verifies each request with the Standard Webhooks
// algorithm written here independently of the dispatcher's (base64-decoded secret after
// "whsec_", HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}", any of the
// space-separated "v1,<base64>" signatures), records it and answers 204.
type receiver struct {
	t       testing.TB
	secret  func() string
	addr    string
	delay   time.Duration
	mu      sync.Mutex
	got     []received
	srv     *http.Server
	inbound chan struct{}
}

func newReceiver(t testing.TB) *receiver {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t, addr: lis.Addr().String(), inbound: make(chan struct{}, 1024)}
	rc.serve(lis)
	t.Cleanup(rc.down)
	return rc
}

func (rc *receiver) url() string { return "http://" + rc.addr + "/hooks" }

func (rc *receiver) serve(lis net.Listener) {
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.handle), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rc.srv.Serve(lis) }()
}

// down closes the listener (connections are refused) and the open connections.
func (rc *receiver) down() {
	if rc.srv != nil {
		_ = rc.srv.Close()
		rc.srv = nil
	}
}

// up listens again on the same address.
func (rc *receiver) up() {
	rc.t.Helper()
	var lis net.Listener
	var err error
	for range 50 {
		if lis, err = net.Listen("tcp", rc.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.serve(lis)
}

func (rc *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rc.inbound <- struct{}{}
	if rc.delay > 0 {
		select {
		case <-time.After(rc.delay):
		case <-req.Context().Done():
			return
		}
	}
	var ce struct {
		Subject string `json:"subject"`
	}
	_ = json.Unmarshal(body, &ce)
	ok := verifyStandardWebhook(rc.secret(), req.Header, body, time.Now())
	rc.mu.Lock()
	rc.got = append(rc.got, received{id: req.Header.Get("webhook-id"), subject: ce.Subject, at: time.Now(), verified: ok,
		body: body, headers: req.Header.Clone()})
	rc.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitUnique waits until the receiver has n distinct webhook-ids.
func (rc *receiver) waitUnique(n int, within time.Duration) []received {
	rc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := rc.requests()
		seen := map[string]bool{}
		for _, g := range got {
			seen[g.id] = true
		}
		if len(seen) >= n {
			return got
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("the receiver got %d distinct events of %d within %s", len(seen), n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// verifyStandardWebhook is the Standard Webhooks verification, written from the spec.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Split(h.Get("webhook-signature"), " ") {
		if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// checkOncePerIDInOrder asserts every id of each subject arrived, duplicates only with the same
// webhook-id, and first arrivals in publication order per subject; it returns the duplicates.
func checkOncePerIDInOrder(t testing.TB, got []received, published map[string][]string) int {
	t.Helper()
	first := map[string]int{}
	dups := 0
	for i, g := range got {
		if !g.verified {
			t.Errorf("request %d (%s) failed verification", i, g.id)
		}
		if _, ok := first[g.id]; ok {
			dups++
			continue
		}
		first[g.id] = i
	}
	total := 0
	for subject, ids := range published {
		total += len(ids)
		for k, id := range ids {
			i, ok := first[id]
			if !ok {
				t.Errorf("event %d of %s (%s) never arrived", k, subject, id)
				continue
			}
			if got[i].subject != subject {
				t.Errorf("event %s arrived with subject %q, want %q", id, got[i].subject, subject)
			}
			if k > 0 {
				if prev, ok := first[ids[k-1]]; ok && prev > i {
					t.Errorf("subject %s: event %d arrived before event %d", subject, k, k-1)
				}
			}
		}
	}
	if len(first) != total {
		t.Errorf("%d distinct events arrived, %d were published", len(first), total)
	}
	return dups
}

func fastConfig() app.DeliveryConfig {
	return app.DeliveryConfig{Schedule: subscription.Schedule{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second},
		Lease: 5 * time.Second, Poll: 50 * time.Millisecond, EndpointConcurrency: 4, BreakerFailures: 3, BreakerCooldown: 300 * time.Millisecond}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
