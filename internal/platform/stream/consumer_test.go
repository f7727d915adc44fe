package stream_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
)

const (
	testStream = "timeexpense.events"
	testGroup  = "billing"
	eventType  = "time.approved"
)

// effectsMigrations add the table the test handlers write their effects to. It has no unique
// constraint on purpose: only the consumer's inbox stands between a redelivery and a second row.
var effectsMigrations = fstest.MapFS{
	"00001_effects.sql": {Data: []byte(`-- +goose Up
CREATE TABLE effects (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid NOT NULL,
    subject        text NOT NULL,
    correlation_id text NOT NULL,
    causation_id   text NOT NULL
);
-- +goose Down
DROP TABLE effects;
`)},
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newEnvelope returns an event envelope whose payload is the string payload.
func newEnvelope(t *testing.T, subject, payload, corr string) *commonv1.EventEnvelope {
	t.Helper()
	p, err := anypb.New(wrapperspb.String(payload))
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: eventType, Subject: subject,
		OccurredAt: timestamppb.Now(), CorrelationId: corr, Producer: "timeexpense", Payload: p}
}

// xadd appends env to stream the way the outbox relay does and returns the entry id.
func xadd(t *testing.T, rdb *redis.Client, stream string, env *commonv1.EventEnvelope) string {
	t.Helper()
	b, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: stream,
		Values: []any{"event_id", env.GetEventId(), "type", env.GetType(), "envelope", b}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// effects counts the effect rows of eventID ("" = all).
func effects(t *testing.T, db *pgtest.DB, eventID string) int {
	t.Helper()
	var n int
	err := db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM effects WHERE $1 = '' OR event_id::text = $1`, eventID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pending(t *testing.T, rdb *redis.Client, stream, group string) int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// applyEffects is the effect of every test handler: one row per event, written in the batch
// transaction, under the event's correlation id.
func applyEffects(ctx context.Context, tx pgx.Tx, m stream.Message) error {
	ectx := stream.WithEvent(ctx, m.Envelope)
	_, err := tx.Exec(ctx, `INSERT INTO effects (event_id, subject, correlation_id, causation_id) VALUES ($1, $2, $3, $4)`,
		m.Envelope.GetEventId(), m.Envelope.GetSubject(), correlation.ID(ectx), correlation.CausationID(ectx))
	return err
}

// recorder is a handler that applies effects, fails on "poison" payloads while poisoned, and
// records what it saw.
type recorder struct {
	poisoned atomic.Bool

	mu         sync.Mutex
	batches    [][]string         // event ids per call
	deliveries map[string][]int64 // delivery counts seen per event id
}

func newRecorder() *recorder { return &recorder{deliveries: map[string][]int64{}} }

func (r *recorder) handle(ctx context.Context, tx pgx.Tx, msgs []stream.Message) error {
	ids := make([]string, len(msgs))
	r.mu.Lock()
	for i, m := range msgs {
		ids[i] = m.Envelope.GetEventId()
		r.deliveries[ids[i]] = append(r.deliveries[ids[i]], m.Deliveries)
	}
	r.batches = append(r.batches, ids)
	r.mu.Unlock()
	for _, m := range msgs {
		var p wrapperspb.StringValue
		if err := m.Envelope.GetPayload().UnmarshalTo(&p); err != nil {
			return err
		}
		if p.GetValue() == "poison" && r.poisoned.Load() {
			return fault.New(fault.FailedPrecondition, "RATE_MISSING_FOR_DATE", "no cost rate for %s", m.Envelope.GetSubject())
		}
		if err := applyEffects(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) deliveriesOf(id string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.deliveries[id])
}

func (r *recorder) calls() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

type env struct {
	db     *pgtest.DB
	rdb    *redis.Client
	prefix string
	queue  *exceptions.Queue
}

func newEnv(t *testing.T) env {
	db := pgtest.New(t, effectsMigrations)
	rdb, prefix := redistest.New(t)
	return env{db: db, rdb: rdb, prefix: prefix, queue: exceptions.NewQueue(db.Pool, quietLogger())}
}

func (e env) stream() string { return e.prefix + testStream }

func (e env) consumer(t *testing.T, cfg stream.Config, h stream.Handler) *stream.Consumer {
	t.Helper()
	if cfg.Stream == "" {
		cfg.Stream = testStream
	}
	if cfg.Group == "" {
		cfg.Group = testGroup
	}
	cfg.StreamPrefix = e.prefix
	if cfg.Block == 0 {
		cfg.Block = 50 * time.Millisecond
	}
	c, err := stream.NewConsumer(cfg, e.rdb, e.db.Pool, e.queue, h, quietLogger())
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	return c
}

func (e env) createGroup(t *testing.T, group string) {
	t.Helper()
	if err := e.rdb.XGroupCreateMkStream(context.Background(), e.stream(), group, "0").Err(); err != nil {
		t.Fatal(err)
	}
}

// run runs c until the test ends.
func run(t *testing.T, c *stream.Consumer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

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
	if n, err := e.queue.CountOpen(ctx, stream.DeadLetterKind(testGroup, testStream), "EVENT_UNDECODABLE"); err != nil || n != 2 {
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

func TestConsumerWithRelayEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newEnv(t)
	w := outbox.Writer{Producer: "timeexpense"}
	var envs []*commonv1.EventEnvelope
	err := pg.InTx(correlation.With(ctx, "corr-e2e"), e.db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		envs, err = w.Enqueue(ctx, tx,
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

func TestConsumerConfigValidation(t *testing.T) {
	t.Parallel()
	if err := (stream.Config{}).Validate(); err == nil {
		t.Fatal("empty config accepted")
	}
	if err := (stream.Config{Stream: "s", Group: "g", Block: 10 * time.Second}).Validate(); err == nil {
		t.Fatal("Block at the Redis read timeout accepted")
	}
	if err := (stream.Config{Stream: "s", Group: "g"}).Validate(); err != nil {
		t.Fatalf("minimal config refused: %v", err)
	}
	e := newEnv(t)
	h := newRecorder().handle
	if _, err := stream.NewConsumer(stream.Config{Stream: "s"}, e.rdb, e.db.Pool, e.queue, h, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a config without a group")
	}
	if _, err := stream.NewConsumer(stream.Config{Stream: "s", Group: "g"}, e.rdb, e.db.Pool, nil, h, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a nil exception queue")
	}
	if _, err := stream.NewConsumer(stream.Config{Stream: "s", Group: "g"}, e.rdb, e.db.Pool, e.queue, nil, quietLogger()); err == nil {
		t.Fatal("NewConsumer accepted a nil handler")
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
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
