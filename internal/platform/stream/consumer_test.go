package stream_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
)

func TestConsumerAppliesBatchInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	var envs []*commonv1.EventEnvelope
	for i := range 5 {
		env := newEnvelope(t, fmt.Sprintf("entry-%d", i), "8h", fmt.Sprintf("corr-%d", i))
		envs = append(envs, env)
		xadd(t, e.rdb, e.stream(), env)
	}
	rec := newRecorder()
	c := e.consumer(t, stream.Config{BatchSize: 10}, rec.handle)

	n, err := c.ReadOnce(ctx)
	if err != nil || n != 5 {
		t.Fatalf("ReadOnce = %d, %v; want 5", n, err)
	}
	if calls := rec.calls(); len(calls) != 1 || len(calls[0]) != 5 {
		t.Fatalf("handler calls = %v, want one batch of 5", calls)
	}
	if got := effects(t, e.db, ""); got != 5 {
		t.Fatalf("effects = %d, want 5", got)
	}
	for _, env := range envs {
		var corr, cause string
		err := e.db.Pool.QueryRow(ctx, `SELECT correlation_id, causation_id FROM effects WHERE event_id = $1`, env.GetEventId()).Scan(&corr, &cause)
		if err != nil {
			t.Fatalf("effect of %s: %v", env.GetEventId(), err)
		}
		if corr != env.GetCorrelationId() || cause != env.GetEventId() {
			t.Errorf("effect of %s ran under correlation %q / causation %q", env.GetEventId(), corr, cause)
		}
		if d := rec.deliveriesOf(env.GetEventId()); !slices.Equal(d, []int64{1}) {
			t.Errorf("deliveries of %s = %v, want [1]", env.GetEventId(), d)
		}
	}
	var inbox int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM stream_inbox WHERE consumer_group = $1`, testGroup).Scan(&inbox); err != nil || inbox != 5 {
		t.Fatalf("inbox rows = %d, %v; want 5", inbox, err)
	}
	if p := pending(t, e.rdb, e.stream(), testGroup); p != 0 {
		t.Fatalf("%d entries pending after the batch committed, want 0", p)
	}
	if n, err := c.ReadOnce(ctx); err != nil || n != 0 {
		t.Fatalf("ReadOnce on a drained stream = %d, %v", n, err)
	}
}

func TestConsumerHandlerErrorRollsBackTheBatchEffects(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	good := newEnvelope(t, "entry-1", "8h", "corr-1")
	bad := newEnvelope(t, "entry-2", "poison", "corr-2")
	xadd(t, e.rdb, e.stream(), good)
	badID := xadd(t, e.rdb, e.stream(), bad)
	rec := newRecorder()
	rec.poisoned.Store(true)
	c := e.consumer(t, stream.Config{MaxDeliveries: 3}, rec.handle)

	if _, err := c.ReadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// The batch failed as a whole, then each event was applied alone: the good one once.
	if got := effects(t, e.db, good.GetEventId()); got != 1 {
		t.Fatalf("effects of the good event = %d, want 1", got)
	}
	if got := effects(t, e.db, bad.GetEventId()); got != 0 {
		t.Fatalf("effects of the failing event = %d, want 0", got)
	}
	// The failing entry stays pending for redelivery; nothing is dead-lettered yet.
	p, err := e.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: e.stream(), Group: testGroup, Start: "-", End: "+", Count: 10}).Result()
	if err != nil || len(p) != 1 || p[0].ID != badID {
		t.Fatalf("pending = %v, %v; want only the failing entry %s", p, err, badID)
	}
	if n, _ := e.queue.CountOpen(ctx, "", ""); n != 0 {
		t.Fatalf("%d exceptions after the first delivery, want 0", n)
	}
	if n := e.rdb.XLen(ctx, e.stream()+".dlq").Val(); n != 0 {
		t.Fatalf("dead-letter stream has %d entries after one delivery", n)
	}
}

func TestConsumerSkipsDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	rec := newRecorder()
	c := e.consumer(t, stream.Config{}, rec.handle)

	// The same event published twice (a relay crash after XADD, a replay), in one batch ...
	env := newEnvelope(t, "entry-1", "8h", "corr-dup")
	xadd(t, e.rdb, e.stream(), env)
	xadd(t, e.rdb, e.stream(), env)
	if n, err := c.ReadOnce(ctx); err != nil || n != 2 {
		t.Fatalf("ReadOnce = %d, %v; want 2 entries", n, err)
	}
	if got := effects(t, e.db, env.GetEventId()); got != 1 {
		t.Fatalf("effects = %d after a duplicate in one batch, want 1", got)
	}
	// ... and again later, in a batch of its own.
	xadd(t, e.rdb, e.stream(), env)
	other := newEnvelope(t, "entry-2", "4h", "corr-other")
	xadd(t, e.rdb, e.stream(), other)
	if n, err := c.ReadOnce(ctx); err != nil || n != 2 {
		t.Fatalf("ReadOnce = %d, %v", n, err)
	}
	if got := effects(t, e.db, env.GetEventId()); got != 1 {
		t.Fatalf("effects = %d after a later redelivery, want 1", got)
	}
	if got := effects(t, e.db, other.GetEventId()); got != 1 {
		t.Fatalf("effects of the new event = %d, want 1", got)
	}
	if p := pending(t, e.rdb, e.stream(), testGroup); p != 0 {
		t.Fatalf("%d duplicates left pending, want all acknowledged", p)
	}
	seen := 0
	for _, call := range rec.calls() {
		for _, id := range call {
			if id == env.GetEventId() {
				seen++
			}
		}
	}
	if seen != 1 {
		t.Fatalf("handler was given the duplicated event %d times, want 1: %v", seen, rec.calls())
	}

	// The inbox is per group: another consuming service applies the event once for itself.
	e.createGroup(t, "project")
	c2 := e.consumer(t, stream.Config{Group: "project"}, rec.handle)
	if _, err := c2.ReadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := effects(t, e.db, env.GetEventId()); got != 2 {
		t.Fatalf("effects = %d, want one per group (2)", got)
	}
}

func TestConsumerClaimsEntriesOfDeadConsumer(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	env := newEnvelope(t, "entry-1", "8h", "corr-1")
	xadd(t, e.rdb, e.stream(), env)
	// Another instance read the entry and died before applying it.
	if err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: testGroup, Consumer: "crashed-pod",
		Streams: []string{e.stream(), ">"}, Count: 10}).Err(); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	c := e.consumer(t, stream.Config{Consumer: "survivor", ClaimMinIdle: 100 * time.Millisecond, ClaimInterval: 50 * time.Millisecond}, rec.handle)
	run(t, c)

	waitFor(t, 5*time.Second, "the orphaned entry to be claimed and applied", func() bool {
		return effects(t, e.db, env.GetEventId()) == 1 && pending(t, e.rdb, e.stream(), testGroup) == 0
	})
	if d := rec.deliveriesOf(env.GetEventId()); !slices.Equal(d, []int64{2}) {
		t.Errorf("deliveries seen = %v, want [2] (the dead consumer's and the claim)", d)
	}
}

func TestConsumerWithRelayEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	w := outbox.Writer{Producer: "timeexpense"}
	var envs []*commonv1.EventEnvelope
	db := pg.NewDB(e.db.Pool)
	err := db.InTx(correlation.With(ctx, "corr-e2e"), func(ctx context.Context) error {
		var err error
		envs, err = w.Enqueue(ctx, db.Q(ctx),
			outbox.Event{Stream: testStream, Type: eventType, Subject: "entry-1", Payload: wrapperspb.String("8h")},
			outbox.Event{Stream: testStream, Type: eventType, Subject: "entry-2", Payload: wrapperspb.String("4h")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(e.db.Pool, e.rdb, outbox.RelayConfig{StreamPrefix: e.prefix}, quietLogger())
	run(t, e.consumer(t, stream.Config{}, newRecorder().handle))
	if _, err := relay.PublishOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// A replay of everything publishes both again; the consumer applies each once.
	if _, err := outbox.Replay(ctx, e.db.Pool, "", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.PublishOnce(ctx); err != nil || n != 2 {
		t.Fatalf("republished %d, %v", n, err)
	}
	waitFor(t, 5*time.Second, "all four entries consumed", func() bool {
		g, err := e.rdb.XInfoGroups(ctx, e.stream()).Result()
		return err == nil && len(g) == 1 && g[0].EntriesRead == 4 && g[0].Pending == 0
	})
	for _, env := range envs {
		if got := effects(t, e.db, env.GetEventId()); got != 1 {
			t.Fatalf("event %s applied %d times, want 1", env.GetSubject(), got)
		}
	}
	var corr string
	if err := e.db.Pool.QueryRow(ctx, `SELECT DISTINCT correlation_id FROM effects`).Scan(&corr); err != nil || corr != "corr-e2e" {
		t.Fatalf("effects correlation id = %q, %v; want the producer's corr-e2e", corr, err)
	}
}

func TestConsumerAcknowledgesTypesItDoesNotApplyWithoutATransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	mine1, mine2 := newEnvelope(t, "a", "8h", "corr-a"), newEnvelope(t, "b", "8h", "corr-b")
	other := newEnvelope(t, "c", "8h", "corr-c")
	other.Type = "contract.changed"
	for _, env := range []*commonv1.EventEnvelope{mine1, other, mine2} {
		xadd(t, e.rdb, e.stream(), env)
	}
	rec := newRecorder()
	c := e.consumer(t, stream.Config{BatchSize: 10, Types: []string{eventType}}, rec.handle)
	if n, err := c.ReadOnce(ctx); err != nil || n != 3 {
		t.Fatalf("ReadOnce = %d, %v; want 3 entries read", n, err)
	}
	if calls := rec.calls(); len(calls) != 1 || len(calls[0]) != 2 {
		t.Fatalf("handler calls = %v, want one batch of the 2 entries of type %s", calls, eventType)
	}
	if effects(t, e.db, other.GetEventId()) != 0 || effects(t, e.db, "") != 2 {
		t.Fatalf("effects = %d (other type: %d), want 2 and 0", effects(t, e.db, ""), effects(t, e.db, other.GetEventId()))
	}
	var inbox int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM stream_inbox WHERE event_id = $1`, other.GetEventId()).Scan(&inbox); err != nil || inbox != 0 {
		t.Fatalf("inbox rows of the skipped entry = %d, %v; want 0", inbox, err)
	}
	if p := pending(t, e.rdb, e.stream(), testGroup); p != 0 {
		t.Fatalf("%d entries pending, want 0: skipped entries are acknowledged", p)
	}
}

// A blocked read wakes on the first entry of a pipeline of XADDs; the consumer takes the rest
// without blocking and applies them all in one transaction.

func TestConsumerAppliesAPipelineOfEntriesInOneBatch(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	rec := newRecorder()
	c := e.consumer(t, stream.Config{BatchSize: 10, Block: 5 * time.Second}, rec.handle)
	read := make(chan int, 1)
	go func() {
		n, err := c.ReadOnce(ctx)
		if err != nil {
			t.Errorf("ReadOnce: %v", err)
		}
		read <- n
	}()
	// Wait until the consumer is blocked in XREADGROUP, then add three entries in one pipeline.
	waitFor(t, 5*time.Second, "the consumer blocked in XREADGROUP", func() bool {
		list, err := e.rdb.ClientList(ctx).Result()
		return err == nil && strings.Contains(list, "cmd=xreadgroup")
	})
	pipe := e.rdb.Pipeline()
	for i := range 3 {
		env := newEnvelope(t, fmt.Sprintf("p-%d", i), "8h", "corr-p")
		b, err := proto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: e.stream(), Values: []any{"event_id", env.GetEventId(), "type", env.GetType(), "envelope", b}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n := <-read; n != 3 {
		t.Fatalf("ReadOnce read %d entries, want 3", n)
	}
	if calls := rec.calls(); len(calls) != 1 || len(calls[0]) != 3 {
		t.Fatalf("handler calls = %v, want one batch of 3", calls)
	}
}
