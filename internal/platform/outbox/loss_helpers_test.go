package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
)

// The broker loss tests run one service that both produces and consumes (a shared database
// keeps them short) on a redis-server of their own, which they flush and restart.

const lossType = "work.done"

// effectsFS holds the consumer's effects: one row per application, no unique constraint, so
// that only the inbox stands between a re-published event and a second row.
var effectsFS = fstest.MapFS{"00001_effects.sql": {Data: []byte(`-- +goose Up
CREATE TABLE effects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL);
-- +goose Down
DROP TABLE effects;
`)}}

type lossEnv struct {
	t      *testing.T
	srv    *redistest.Server
	rdb    *redis.Client
	db     *pgtest.DB
	queue  *exceptions.Queue
	stream string // logical stream name, unique per test (metric labels are process-wide)

	mu       sync.Mutex
	degraded []string // what the relay reported, in order
}

const lossPrefix = "p:"

func newLossEnv(t *testing.T, appendOnly bool, streamName string) *lossEnv {
	srv := redistest.Private(t, appendOnly)
	db := pgtest.New(t, effectsFS)
	return &lossEnv{t: t, srv: srv, rdb: srv.Client(), db: db, queue: exceptions.NewQueue(db.Pool, quietLogger()), stream: streamName}
}

func (e *lossEnv) relay(cfg outbox.RelayConfig) *outbox.Relay {
	cfg.StreamPrefix = lossPrefix
	cfg.Exceptions = e.queue
	cfg.Degraded = func(reason string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.degraded = append(e.degraded, reason)
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 50 * time.Millisecond
	}
	return outbox.NewRelay(e.db.Pool, e.rdb, cfg, quietLogger())
}

func (e *lossEnv) degradedReports() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.degraded)
}

// consumer runs the consuming group "ledger", which records one effect per event it applies.
func (e *lossEnv) consumer() *stream.Consumer {
	c, err := stream.NewConsumer(stream.Config{Stream: e.stream, Group: "ledger", Consumer: "ledger-1", StreamPrefix: lossPrefix,
		Types: []string{lossType}, Undeclared: true, Block: 50 * time.Millisecond, BatchSize: 64},
		e.rdb, e.db.Pool, e.queue, func(ctx context.Context, msgs []stream.Message) error {
			tx, ok := pg.TxFrom(ctx)
			if !ok {
				return errors.New("no transaction")
			}
			for _, m := range msgs {
				if _, err := tx.Exec(ctx, `INSERT INTO effects (event_id) VALUES ($1)`, m.Envelope.GetEventId()); err != nil {
					return err
				}
			}
			return nil
		}, quietLogger())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// start runs r until the test ends.
func (e *lossEnv) start(r interface{ Run(context.Context) error }) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	})
}

// produce commits n events on the test stream and returns their event ids.
func (e *lossEnv) produce(ctx context.Context, n int) ([]string, error) {
	events := make([]outbox.Event, n)
	for i := range events {
		events[i] = event(e.stream, lossType, fmt.Sprintf("w-%d", i), "x")
	}
	d := pg.NewDB(e.db.Pool)
	var ids []string
	err := d.InTx(ctx, func(ctx context.Context) error {
		envs, err := outbox.Writer{Producer: "timeexpense"}.Enqueue(ctx, d.Q(ctx), events...)
		for _, env := range envs {
			ids = append(ids, env.GetEventId())
		}
		return err
	})
	return ids, err
}

func (e *lossEnv) mustProduce(ctx context.Context, n int) []string {
	e.t.Helper()
	ids, err := e.produce(ctx, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// applied returns how many effects there are and for how many distinct events.
func (e *lossEnv) applied() (rows, distinct int) {
	e.t.Helper()
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT event_id) FROM effects`).Scan(&rows, &distinct); err != nil {
		e.t.Fatal(err)
	}
	return rows, distinct
}

// entries returns the event ids of the stream's entries, in stream order, and their entry ids.
func (e *lossEnv) entries(ctx context.Context) (events, ids []string) {
	e.t.Helper()
	xs, err := e.rdb.XRange(ctx, lossPrefix+e.stream, "-", "+").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range xs {
		events, ids = append(events, x.Values["event_id"].(string)), append(ids, x.ID)
	}
	return events, ids
}

// recorded returns the highest entry id the database recorded for the test stream.
func (e *lossEnv) recorded() string {
	e.t.Helper()
	var ms, seq int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT last_ms, last_seq FROM outbox_streams WHERE stream = $1`, e.stream).Scan(&ms, &seq); err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("%d-%d", ms, seq)
}

// losses returns the broker loss exceptions of the test stream.
func (e *lossEnv) losses(ctx context.Context) []exceptions.Exception {
	e.t.Helper()
	list, err := e.queue.List(ctx, exceptions.Filter{Kind: outbox.BrokerLossKind})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func republished(t *testing.T, streamName string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(outbox.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "accrue_outbox_republished_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == streamName {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mentions(reports []string, s string) bool {
	return slices.ContainsFunc(reports, func(r string) bool { return strings.Contains(r, s) })
}
