package dispatchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/egress"
	"github.com/accrue/accrue/gateway/internal/dispatch/events"
	"github.com/accrue/accrue/gateway/internal/dispatch/store"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/childproc"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/stream"
)

// The kill -9 test re-executes this test binary as the dispatcher (TestMain dispatches on
// childEnv): its consumer group and deliverer on the test's database and Redis prefix.
const (
	childEnv       = "DISPATCH_TEST_CHILD"
	childDBEnv     = "DISPATCH_TEST_DB_URL"
	childPrefixEnv = "DISPATCH_TEST_PREFIX"
	childLease     = 2 * time.Second
)

func runChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 2 }
	pool, err := pg.Connect(ctx, os.Getenv(childDBEnv), 8)
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	rdb, err := redisx.Connect(ctx, redistest.Addr())
	if err != nil {
		return fail(err)
	}
	queue := exceptions.NewQueue(pool, quiet())
	st := store.New(pgstore.New(pool, outbox.Writer{Producer: "dispatcher"}, queue))
	guard, _ := egress.NewGuard("127.0.0.1")
	svc := app.New(st, guard, catalogue.Known)
	cfg := consumerConfig(os.Getenv(childPrefixEnv))
	cfg.Consumer = "dispatcher-1"
	c, err := stream.NewConsumer(cfg, rdb, pool, queue, events.Fanout(svc), quiet())
	if err != nil {
		return fail(err)
	}
	go func() { _ = c.Run(ctx) }()
	dc := fastConfig()
	dc.Lease = childLease
	_ = app.NewDeliverer(st, egress.NewSender(guard, time.Second), dc, quiet()).Run(ctx)
	return 0
}

func startChild(t *testing.T, r *rig) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDBEnv+"="+r.db.URL, childPrefixEnv+"="+r.prefix)
	cmd.Stderr = os.Stderr
	if err := childproc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// kill -9 of the dispatcher in the middle of deliveries loses no event; a restarted dispatcher
// sends what was in flight again, with the same webhook-id.
func TestKillDispatcherMidDeliveryLosesNothing(t *testing.T) {
	r := newRig(t, "127.0.0.1")
	rc := newReceiver(t)
	rc.delay = 300 * time.Millisecond
	sub := r.subscribe(rc.url())
	rc.secret = func() string { return sub.Secret }
	published := map[string][]string{}
	for range 3 {
		s := newID()
		published[s] = r.publish(s, 3)
	}
	first := startChild(t, r)
	// Kill it while requests are in flight: after some answers, with more arriving.
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.requests()) < 2 || len(rc.inbound) <= len(rc.requests()) {
		if time.Now().After(deadline) {
			t.Fatalf("the dispatcher delivered %d events in 20s", len(rc.requests()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	before := len(rc.requests())
	startChild(t, r)
	got := rc.waitUnique(9, 30*time.Second)
	dups := checkOncePerIDInOrder(t, got, published)
	for _, g := range got {
		var ce struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(g.body, &ce); err != nil || ce.ID != g.id {
			t.Errorf("a request's webhook-id %s carries CloudEvent id %q", g.id, ce.ID)
		}
	}
	t.Logf("killed after %d answered requests; %d requests in all for 9 events (%d duplicates, same webhook-id)", before, len(got), dups)
}
