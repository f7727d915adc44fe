package stream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/stream"
)

// flaky is a handler that fails the first failures deliveries of every event with err, then
// applies it.
type flaky struct {
	failures int
	err      error

	mu    sync.Mutex
	calls map[string]int
	seen  map[string][]int64
}

func newFlaky(failures int, err error) *flaky {
	return &flaky{failures: failures, err: err, calls: map[string]int{}, seen: map[string][]int64{}}
}

func (f *flaky) handle(ctx context.Context, msgs []stream.Message) error {
	f.mu.Lock()
	fail := false
	for _, m := range msgs {
		id := m.Envelope.GetEventId()
		f.calls[id]++
		f.seen[id] = append(f.seen[id], m.Deliveries)
		fail = fail || f.calls[id] <= f.failures
	}
	f.mu.Unlock()
	if fail {
		return f.err
	}
	for _, m := range msgs {
		if err := applyEffects(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (f *flaky) deliveries(id string) []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen[id])
}

func (f *flaky) setFailures(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = n
}

func TestFailedApplyIsRetriedWithinASecondNotAfterTheClaimIdle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createGroup(t, testGroup)
	h := newFlaky(2, errors.New("could not serialize access"))
	// Defaults: ClaimMinIdle 30 s; only the consumer's own redelivery can apply it sooner.
	run(t, e.consumer(t, stream.Config{}, h.handle))
	env := newEnvelope(t, "entry-flaky", "8h", "corr-flaky")
	start := time.Now()
	xadd(t, e.rdb, e.stream(), env)
	waitFor(t, 10*time.Second, "the flaky event applied", func() bool { return effects(t, e.db, env.GetEventId()) == 1 })
	took := time.Since(start)
	t.Logf("failed twice, applied %v after it was published (deliveries %v)", took.Round(time.Millisecond), h.deliveries(env.GetEventId()))
	if took > 2*time.Second {
		t.Fatalf("applied after %v, want under 2 s", took)
	}
	if d := h.deliveries(env.GetEventId()); !slices.Equal(d, []int64{1, 2, 3}) {
		t.Fatalf("deliveries = %v, want [1 2 3]", d)
	}
	waitFor(t, 2*time.Second, "nothing pending", func() bool { return pending(t, e.rdb, e.stream(), testGroup) == 0 })
}

func TestPoisonStillDeadLettersAfterMaxDeliveriesAndWaitsForAHuman(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	rec := newRecorder()
	rec.poisoned.Store(true)
	run(t, e.consumer(t, stream.Config{}, rec.handle))
	poison := newEnvelope(t, "entry-poison", "poison", "corr-poison")
	start := time.Now()
	xadd(t, e.rdb, e.stream(), poison)
	kind := stream.DeadLetterKind(testGroup, testStream)
	waitFor(t, 10*time.Second, "the dead letter", func() bool {
		n, err := e.queue.CountOpen(ctx, kind, "RATE_MISSING_FOR_DATE")
		return err == nil && n == 1
	})
	t.Logf("poison dead-lettered %v after it was published", time.Since(start).Round(time.Millisecond))
	if d := rec.deliveriesOf(poison.GetEventId()); !slices.Equal(d, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("deliveries = %v, want [1 2 3 4 5] (MaxDeliveries 5)", d)
	}
	list, err := e.queue.List(ctx, exceptions.Filter{Kind: kind})
	if err != nil || len(list) != 1 || list[0].NextRetryAt != nil {
		t.Fatalf("exceptions = %+v, %v; want one, without an automatic retry (a business cause)", list, err)
	}
	waitFor(t, 2*time.Second, "the poison entry acknowledged", func() bool { return pending(t, e.rdb, e.stream(), testGroup) == 0 })
}

func TestTransientDeadLetterIsRetriedAutomatically(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	down := fault.New(fault.Unavailable, pg.ReasonDatabaseUnavailable, "the database is unavailable")
	h := newFlaky(1000, down)
	run(t, e.consumer(t, stream.Config{MaxDeliveries: 2, DeadLetterRetryAfter: 100 * time.Millisecond}, h.handle))
	env := newEnvelope(t, "entry-transient", "8h", "corr-transient")
	xadd(t, e.rdb, e.stream(), env)
	kind := stream.DeadLetterKind(testGroup, testStream)
	waitFor(t, 10*time.Second, "the transient dead letter", func() bool {
		n, err := e.queue.CountOpen(ctx, kind, pg.ReasonDatabaseUnavailable)
		return err == nil && n == 1
	})
	list, err := e.queue.List(ctx, exceptions.Filter{Kind: kind})
	if err != nil || len(list) != 1 || list[0].NextRetryAt == nil {
		t.Fatalf("exceptions = %+v, %v; want one scheduled for an automatic retry", list, err)
	}
	// The cause clears: the exception queue's retrier applies the event without anyone asking.
	h.setFailures(0)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- exceptions.Retrier{Queue: e.queue, Interval: 50 * time.Millisecond, Base: 100 * time.Millisecond}.Run(rctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 10*time.Second, "the automatic retry", func() bool {
		ex, err := e.queue.Get(ctx, list[0].ID)
		return err == nil && ex.Status == exceptions.StatusResolved
	})
	if ex, _ := e.queue.Get(ctx, list[0].ID); ex.ResolvedBy != "system" || effects(t, e.db, env.GetEventId()) != 1 {
		t.Fatalf("exception after the retry = %+v with %d effects; want resolved by the system, applied once", ex, effects(t, e.db, env.GetEventId()))
	}
}

// A 2-second Postgres outage (every connection to the service's database cut, new ones refused)
// fails the event's apply; it is applied within 5 s of Postgres accepting connections again.
func TestEventFailedByAPostgresOutageIsAppliedSoonAfterItEnds(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	allow := func(on bool) {
		t.Helper()
		if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", e.db.Name, on)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS true", e.db.Name))
	})
	rec := newRecorder()
	run(t, e.consumer(t, stream.Config{}, rec.handle))

	allow(false)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, e.db.Name); err != nil {
		t.Fatal(err)
	}
	env := newEnvelope(t, "entry-outage", "8h", "corr-outage")
	xadd(t, e.rdb, e.stream(), env)
	waitFor(t, 5*time.Second, "the first, failed delivery", func() bool { return rec.seen(env.GetEventId()) || pending(t, e.rdb, e.stream(), testGroup) == 1 })
	time.Sleep(2 * time.Second)
	allow(true)
	back := time.Now()
	waitFor(t, 10*time.Second, "the event applied after the outage", func() bool {
		var n int
		return e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM effects WHERE event_id = $1`, env.GetEventId()).Scan(&n) == nil && n == 1
	})
	took := time.Since(back)
	t.Logf("applied %v after Postgres accepted connections again (deliveries %v)", took.Round(time.Millisecond), rec.deliveriesOf(env.GetEventId()))
	if took > 5*time.Second {
		t.Fatalf("applied %v after the outage ended, want within 5 s", took)
	}
	if n, _ := e.queue.CountOpen(ctx, "", ""); n != 0 {
		t.Errorf("%d exceptions open after the outage, want 0", n)
	}
}
