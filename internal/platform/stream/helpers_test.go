package stream_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
)

// Most tests run on a stream no contract declares (Config.Undeclared), with string payloads;
// the catalogue tests (catalogue_test.go) use a real contract stream.
const (
	testStream = "platformtest.events"
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

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newEnvelope returns an event envelope of eventType whose payload is the string payload.
func newEnvelope(t *testing.T, subject, payload, corr string) *commonv1.EventEnvelope {
	t.Helper()
	return envelopeOf(t, eventType, subject, corr, wrapperspb.String(payload))
}

// envelopeOf returns an event envelope of typ carrying payload.
func envelopeOf(t *testing.T, typ, subject, corr string, payload proto.Message) *commonv1.EventEnvelope {
	t.Helper()
	p, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: typ, Subject: subject,
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
// transaction that ctx carries, under the event's correlation id.
func applyEffects(ctx context.Context, m stream.Message) error {
	tx, ok := pg.TxFrom(ctx)
	if !ok {
		return errors.New("the handler's context carries no transaction")
	}
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

func (r *recorder) handle(ctx context.Context, msgs []stream.Message) error {
	r.record(msgs)
	for _, m := range msgs {
		p, ok := m.Payload.(*wrapperspb.StringValue)
		if !ok {
			return stream.Unroutable(m)
		}
		if p.GetValue() == "poison" && r.poisoned.Load() {
			return fault.New(fault.FailedPrecondition, "RATE_MISSING_FOR_DATE", "no cost rate for %s", m.Envelope.GetSubject())
		}
		if err := applyEffects(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) record(msgs []stream.Message) {
	ids := make([]string, len(msgs))
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range msgs {
		ids[i] = m.Envelope.GetEventId()
		r.deliveries[ids[i]] = append(r.deliveries[ids[i]], m.Deliveries)
	}
	r.batches = append(r.batches, ids)
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

// seen reports whether the handler was ever given eventID.
func (r *recorder) seen(eventID string) bool { return len(r.deliveriesOf(eventID)) > 0 }

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

// stream is the Redis key of the test stream.
func (e env) stream() string { return e.prefix + testStream }

// consumer returns a consumer of cfg; an empty Stream is the undeclared test stream, whose
// handler applies eventType.
func (e env) consumer(t *testing.T, cfg stream.Config, h stream.Handler) *stream.Consumer {
	t.Helper()
	if cfg.Stream == "" {
		cfg.Stream, cfg.Undeclared = testStream, true
		if cfg.Types == nil {
			cfg.Types = []string{eventType}
		}
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

// deadLetters returns the entries of the dead-letter stream of (logical) stream name.
func (e env) deadLetters(t *testing.T, name string) []redis.XMessage {
	t.Helper()
	dlq, err := e.rdb.XRange(context.Background(), e.prefix+name+".dlq", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	return dlq
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
