package outbox_test

import (
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
)

// The incident as an operator saw it, small: events flow through two relays of one service to
// a consumer while Redis restarts empty, and later is flushed. Every event is applied, once.
func TestEveryEventIsAppliedOnceWhileTheBrokerForgetsTwice(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newLossEnv(t, false, "flow.events")
	before := republished(t, e.stream)
	e.start(e.relay(outbox.RelayConfig{BatchSize: 50}))
	e.start(e.relay(outbox.RelayConfig{BatchSize: 50}))
	e.start(e.consumer())

	const batches, perBatch = 100, 20
	produced := make(chan error, 1)
	go func() {
		for i := range batches {
			if _, err := e.produce(ctx, perBatch); err != nil {
				produced <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
			switch i {
			case batches / 3:
				e.srv.Stop() // Redis dies; its replacement comes back empty
				e.srv.Start()
			case 2 * batches / 3:
				if err := e.rdb.FlushAll(ctx).Err(); err != nil {
					produced <- err
					return
				}
			}
		}
		produced <- nil
	}()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	const total = batches * perBatch
	start := time.Now()
	waitFor(t, 20*time.Second, "every event applied and every incident resolved", func() bool {
		_, d := e.applied()
		open, err := e.queue.CountOpen(ctx, outbox.BrokerLossKind, "")
		return d == total && err == nil && open == 0
	})
	rows, distinct := e.applied()
	t.Logf("%d events applied (%d effects) %v after the last was produced; %v re-published; incidents: %d",
		distinct, rows, time.Since(start).Round(time.Millisecond), republished(t, e.stream)-before, len(e.losses(ctx)))
	if rows != total || distinct != total {
		t.Fatalf("effects = %d rows for %d events, want %d events applied once each", rows, distinct, total)
	}
	if republished(t, e.stream)-before == 0 {
		t.Fatal("nothing re-published although Redis forgot twice")
	}
	for _, l := range e.losses(ctx) {
		if l.Status != exceptions.StatusResolved {
			t.Fatalf("incident still open: %+v", l)
		}
	}
	if n := count(t, e.db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
		t.Fatalf("%d rows unpublished", n)
	}
}
