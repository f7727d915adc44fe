package stream_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/stream"
)

func TestConsumerDeadLettersPoisonAndRetryApplies(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	rec := newRecorder()
	rec.poisoned.Store(true)

	a := newEnvelope(t, "entry-a", "8h", "corr-a")
	poison := newEnvelope(t, "entry-p", "poison", "corr-poison")
	b := newEnvelope(t, "entry-b", "2h", "corr-b")
	e.createGroup(t, testGroup)
	xadd(t, e.rdb, e.stream(), a)
	poisonEntry := xadd(t, e.rdb, e.stream(), poison)
	xadd(t, e.rdb, e.stream(), b)

	c := e.consumer(t, stream.Config{ClaimMinIdle: 50 * time.Millisecond, ClaimInterval: 50 * time.Millisecond, MaxDeliveries: 3}, rec.handle)
	run(t, c)

	// The events around the poison message are applied, and so is one published after it.
	waitFor(t, 5*time.Second, "the two good events", func() bool { return effects(t, e.db, "") == 2 })
	later := newEnvelope(t, "entry-c", "1h", "corr-c")
	xadd(t, e.rdb, e.stream(), later)
	waitFor(t, 5*time.Second, "the event published after the poison one", func() bool { return effects(t, e.db, later.GetEventId()) == 1 })

	// After MaxDeliveries the poison entry is dead-lettered, recorded and acknowledged.
	kind := stream.DeadLetterKind(testGroup, testStream)
	waitFor(t, 5*time.Second, "the dead-letter exception", func() bool {
		n, err := e.queue.CountOpen(ctx, kind, "")
		return err == nil && n == 1
	})
	waitFor(t, 5*time.Second, "the poison entry to be acknowledged", func() bool { return pending(t, e.rdb, e.stream(), testGroup) == 0 })

	dlq, err := e.rdb.XRange(ctx, e.stream()+".dlq", "-", "+").Result()
	if err != nil || len(dlq) != 1 {
		t.Fatalf("dead-letter stream = %v, %v; want 1 entry", dlq, err)
	}
	raw, _ := proto.Marshal(poison)
	want := map[string]string{"event_id": poison.GetEventId(), "type": eventType, "source_stream": testStream,
		"source_id": poisonEntry, "group": testGroup, "reason": "RATE_MISSING_FOR_DATE", "deliveries": "3"}
	for k, v := range want {
		if dlq[0].Values[k] != v {
			t.Errorf("dead letter %s = %v, want %v", k, dlq[0].Values[k], v)
		}
	}
	var dlqEnv commonv1.EventEnvelope
	if err := proto.Unmarshal([]byte(dlq[0].Values["envelope"].(string)), &dlqEnv); err != nil || !proto.Equal(&dlqEnv, poison) {
		t.Errorf("dead letter envelope differs from the original (%v)", err)
	}

	list, err := e.queue.List(ctx, exceptions.Filter{Kind: kind})
	if err != nil || len(list) != 1 {
		t.Fatalf("exceptions = %v, %v", list, err)
	}
	ex := list[0]
	if ex.Status != exceptions.StatusOpen || ex.Reason != "RATE_MISSING_FOR_DATE" || ex.CorrelationID != "corr-poison" ||
		ex.EntityType != eventType || ex.EntityID != "entry-p" || ex.Attempts != 1 || string(ex.Payload) != string(raw) {
		t.Fatalf("exception = %+v", ex)
	}

	// Delivered exactly MaxDeliveries times, never again after the dead letter.
	time.Sleep(300 * time.Millisecond)
	d := rec.deliveriesOf(poison.GetEventId())
	if len(d) == 0 || slices.Max(d) != 3 {
		t.Fatalf("deliveries seen for the poison event = %v, want up to 3", d)
	}
	if got := effects(t, e.db, poison.GetEventId()); got != 0 {
		t.Fatalf("poison event has %d effects while failing", got)
	}

	// A retry while the cause persists keeps the exception open, with one more attempt.
	ex, err = e.queue.Retry(ctx, ex.ID, "ops-alice")
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if ex.Status != exceptions.StatusOpen || ex.Attempts != 2 || ex.Reason != "RATE_MISSING_FOR_DATE" {
		t.Fatalf("after a failed retry: %+v", ex)
	}

	// The cause is fixed (the rate arrives): the retry applies the event once and resolves.
	rec.poisoned.Store(false)
	ex, err = e.queue.Retry(ctx, ex.ID, "ops-alice")
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if ex.Status != exceptions.StatusResolved || ex.ResolvedBy != "ops-alice" || ex.Attempts != 3 {
		t.Fatalf("after a successful retry: %+v", ex)
	}
	if got := effects(t, e.db, poison.GetEventId()); got != 1 {
		t.Fatalf("poison event effects after retry = %d, want 1", got)
	}
	var corr string
	if err := e.db.Pool.QueryRow(ctx, `SELECT correlation_id FROM effects WHERE event_id = $1`, poison.GetEventId()).Scan(&corr); err != nil || corr != "corr-poison" {
		t.Errorf("retried effect correlation id = %q, %v", corr, err)
	}
	if _, err := e.queue.Retry(ctx, ex.ID, "ops-alice"); fault.ReasonOf(err) != exceptions.ReasonNotOpen {
		t.Fatalf("second retry error = %v, want %s", err, exceptions.ReasonNotOpen)
	}

	// The same event published again (a replay) is recognised and not applied twice.
	xadd(t, e.rdb, e.stream(), poison)
	waitFor(t, 5*time.Second, "the republished event to be consumed", func() bool {
		g, err := e.rdb.XInfoGroups(ctx, e.stream()).Result()
		return err == nil && len(g) == 1 && g[0].Lag == 0 && g[0].Pending == 0
	})
	if got := effects(t, e.db, poison.GetEventId()); got != 1 {
		t.Fatalf("poison event effects after republication = %d, want 1", got)
	}
	if got := effects(t, e.db, ""); got != 4 {
		t.Fatalf("total effects = %d, want 4 (a, b, c, poison)", got)
	}
}

func TestConsumerDeadLettersUndecodableEntries(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	noEnvelope, _ := e.rdb.XAdd(ctx, &redis.XAddArgs{Stream: e.stream(), Values: []any{"event_id", "x", "type", eventType}}).Result()
	// An envelope without an event id cannot be deduplicated.
	xadd(t, e.rdb, e.stream(), &commonv1.EventEnvelope{Type: eventType, Subject: "entry-x"})
	good := newEnvelope(t, "entry-1", "8h", "corr-1")
	xadd(t, e.rdb, e.stream(), good)
	c := e.consumer(t, stream.Config{}, newRecorder().handle)

	if n, err := c.ReadOnce(ctx); err != nil || n != 3 {
		t.Fatalf("ReadOnce = %d, %v", n, err)
	}
	if got := effects(t, e.db, good.GetEventId()); got != 1 {
		t.Fatalf("the good event was not applied (%d effects)", got)
	}
	if n, err := e.queue.CountOpen(ctx, stream.DeadLetterKind(testGroup, testStream), stream.ReasonUndecodable); err != nil || n != 2 {
		t.Fatalf("open EVENT_UNDECODABLE exceptions = %d, %v; want 2", n, err)
	}
	dlq, _ := e.rdb.XRange(ctx, e.stream()+".dlq", "-", "+").Result()
	if len(dlq) != 2 || dlq[0].Values["source_id"] != noEnvelope || dlq[0].Values["deliveries"] != "1" {
		t.Fatalf("dead letters = %v", dlq)
	}
	if p := pending(t, e.rdb, e.stream(), testGroup); p != 0 {
		t.Fatalf("%d undecodable entries left pending", p)
	}
}
