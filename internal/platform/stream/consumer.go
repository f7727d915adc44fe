// Package stream consumes events from Redis Streams with exactly-once effects in Postgres.
//
// A Consumer reads its group's entries in batches (XREADGROUP), applies each batch in one Postgres
// transaction that also records every event id in the inbox table (so a redelivered event is
// skipped), and acknowledges (XACK) only after the commit. Entries left pending by a consumer that
// died are claimed with XAUTOCLAIM once idle for ClaimMinIdle; an entry that failed MaxDeliveries
// times is copied to the dead-letter stream, recorded in the exception queue, and acknowledged.
// Retrying that exception re-applies the event through the same handler.
//
// One Consumer processes one batch at a time; run more instances (distinct Consumer names) to
// share a group's load.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
)

// Config configures a Consumer. Zero values take the documented defaults; Validate reports the
// rest.
type Config struct {
	// Stream is the logical stream name, e.g. "customer.events". Required.
	Stream string
	// Group is the consumer group, by convention the consuming service's name. Required.
	Group string
	// Consumer names this instance within the group; hostname when empty. Keep it stable across
	// restarts so a restarted instance picks up its own pending entries at once.
	Consumer string
	// StreamPrefix is prepended to Stream and DeadLetterStream (deployment or test isolation).
	StreamPrefix string
	// BatchSize is the most entries one XREADGROUP returns and one transaction applies; 256.
	BatchSize int
	// Block is how long XREADGROUP waits for entries; 1s. Keep it below the client read timeout.
	Block time.Duration
	// ClaimMinIdle is how long an entry must stay pending before another instance claims it; 30s.
	ClaimMinIdle time.Duration
	// ClaimInterval is how often the consumer looks for such entries; 5s.
	ClaimInterval time.Duration
	// MaxDeliveries is how many deliveries an entry gets before it is dead-lettered; 5.
	MaxDeliveries int64
	// DeadLetterStream receives entries that exhausted MaxDeliveries; Stream + ".dlq".
	DeadLetterStream string
	// Linger is how long a read that returned fewer than BatchSize entries waits for more
	// before the batch is applied: larger batches cost fewer transactions per entry. Zero or
	// NoLinger: none. Streams whose events are already batches (a timesheet's entries, a
	// posting batch's answers) gain nothing from it and should not wait.
	Linger time.Duration
	// Types lists the event types the handler applies (the generated EventType… constants);
	// required. Entries of other types the contracts declare on the stream (it carries events for
	// other consumers too) are acknowledged without opening a transaction. An entry whose type no
	// contract declares on the stream (a producer renamed it, or a stranger wrote it), or whose
	// payload is not the declared message, is dead-lettered at once, never skipped.
	Types []string
	// Undeclared lets a consumer read a stream the contracts do not declare (platform tests
	// only): every type outside Types is then acknowledged unread.
	Undeclared bool
	// AfterCommit, when set, runs after a batch commits and before it is acknowledged. Tests use
	// it to kill the process at that exact point; production leaves it nil.
	AfterCommit func(ids []string)
}

// NoLinger turns the linger off where a default would apply (see service.Base.Consumer).
const NoLinger time.Duration = -1

func (c *Config) defaults() {
	if c.Consumer == "" {
		h, _ := os.Hostname()
		c.Consumer = h
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.Block <= 0 {
		c.Block = time.Second
	}
	if c.ClaimMinIdle <= 0 {
		c.ClaimMinIdle = 30 * time.Second
	}
	if c.ClaimInterval <= 0 {
		c.ClaimInterval = 5 * time.Second
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 5
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = c.Stream + ".dlq"
	}
}

// Validate reports configuration mistakes.
func (c Config) Validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("stream: Stream is required"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("stream: Group is required"))
	}
	if len(c.Types) == 0 {
		errs = append(errs, errors.New("stream: Types is required (the event types the handler applies)"))
	}
	if !c.Undeclared {
		for _, t := range c.Types {
			if _, ok := catalogue.Payload(c.Stream, t); !ok {
				errs = append(errs, fmt.Errorf("stream: no contract declares event type %q on stream %q", t, c.Stream))
			}
		}
	}
	if c.Block >= 10*time.Second {
		errs = append(errs, errors.New("stream: Block must stay well below the Redis read timeout"))
	}
	return errors.Join(errs...)
}

// Message is one delivered event.
type Message struct {
	// ID is the Redis stream entry id.
	ID string
	// Envelope is the decoded event envelope.
	Envelope *commonv1.EventEnvelope
	// Deliveries counts how many times the entry was delivered, this time included.
	Deliveries int64
	// Payload is the decoded payload: the message the contracts declare for the event's type.
	// Handlers route on its Go type.
	Payload proto.Message
}

// Handler applies new (never seen by this group) events. ctx carries the batch's transaction
// (see pg.DB.Q): the handler's writes, the inbox rows and the acknowledgement stand or fall
// together. Returning an error rolls the whole batch back; the consumer then retries the events
// one at a time to isolate the failing one. A payload the handler has no route for should be
// answered with Unroutable, which dead-letters the event.
type Handler func(ctx context.Context, msgs []Message) error

// Unroutable is the error a handler returns for a payload it has no route for: the event is
// dead-lettered at once with reason EVENT_UNROUTABLE.
func Unroutable(m Message) error {
	return fault.New(fault.Invalid, "EVENT_UNROUTABLE", "event %s of type %q: no route for payload %T",
		m.Envelope.GetEventId(), m.Envelope.GetType(), m.Payload)
}

// Consumer is one member of a consumer group.
type Consumer struct {
	cfg     Config
	rdb     redis.UniversalClient
	pool    *pgxpool.Pool
	handler Handler
	queue   *exceptions.Queue
	log     *slog.Logger
}

var (
	appliedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_stream_events_applied_total", Help: "Events applied by a consumer group.",
	}, []string{"stream", "group"})
	duplicateTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_stream_events_duplicate_total", Help: "Redelivered events skipped by the inbox.",
	}, []string{"stream", "group"})
	deadLetterTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_stream_dead_letters_total", Help: "Events moved to the dead-letter stream.",
	}, []string{"stream", "group"})
	lagGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_stream_lag", Help: "Entries in the stream not yet delivered to the group.",
	}, []string{"stream", "group"})
)

// Collectors returns the consumers' Prometheus collectors.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{appliedTotal, duplicateTotal, deadLetterTotal, lagGauge}
}

// DeadLetterKind is the exception kind of events group dead-lettered from stream (logical name).
// It names the stream too: a service runs one consumer per stream in its group, and each retries
// its own dead letters with its own handler.
func DeadLetterKind(group, stream string) string { return "stream.dead_letter." + group + ":" + stream }

// NewConsumer returns a consumer and registers the retry of its dead letters with queue.
func NewConsumer(cfg Config, rdb redis.UniversalClient, pool *pgxpool.Pool, queue *exceptions.Queue, h Handler, log *slog.Logger) (*Consumer, error) {
	if rdb == nil || pool == nil || queue == nil || h == nil || log == nil {
		return nil, errors.New("stream: NewConsumer needs redis, a pool, an exception queue, a handler and a logger")
	}
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Consumer{cfg: cfg, rdb: rdb, pool: pool, handler: h, queue: queue,
		log: log.With("stream", cfg.Stream, "group", cfg.Group)}
	queue.Handle(DeadLetterKind(cfg.Group, cfg.Stream), c.retryDeadLetter)
	return c, nil
}

func (c *Consumer) stream() string { return c.cfg.StreamPrefix + c.cfg.Stream }

// Run consumes until ctx is cancelled.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.ensureGroup(ctx); err != nil {
		return err
	}
	// Entries this consumer name had read but not acknowledged before a restart come first.
	if err := c.drainOwnPending(ctx); err != nil && ctx.Err() == nil {
		c.log.WarnContext(ctx, "stream: draining own pending entries failed", "err", err)
	}
	lastClaim := time.Now()
	for ctx.Err() == nil {
		if time.Since(lastClaim) >= c.cfg.ClaimInterval {
			lastClaim = time.Now()
			if err := c.ClaimStale(ctx); err != nil && ctx.Err() == nil {
				c.log.WarnContext(ctx, "stream: claim failed", "err", err)
			}
			c.sampleLag(ctx)
		}
		n, err := c.ReadOnce(ctx)
		if err != nil && ctx.Err() == nil {
			c.log.ErrorContext(ctx, "stream: read failed", "err", err)
			sleep(ctx, time.Second)
		}
		_ = n
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (c *Consumer) ensureGroup(ctx context.Context) error {
	err := c.rdb.XGroupCreateMkStream(ctx, c.stream(), c.cfg.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("stream: create group %s on %s: %w", c.cfg.Group, c.stream(), err)
	}
	return nil
}

// ReadOnce reads and applies at most one batch of new entries, blocking up to Block.
func (c *Consumer) ReadOnce(ctx context.Context) (int, error) {
	res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), ">"},
		Count: int64(c.cfg.BatchSize), Block: c.cfg.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var msgs []redis.XMessage
	for _, s := range res {
		msgs = append(msgs, s.Messages...)
	}
	// A blocked read returns as soon as the first entry arrives, often the first of several a
	// relay added in one pipeline: take the rest without blocking, so that they are applied in
	// the same transaction.
	if len(msgs) > 0 && len(msgs) < c.cfg.BatchSize {
		if c.cfg.Linger > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(c.cfg.Linger):
			}
		}
		more, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), ">"},
			Count: int64(c.cfg.BatchSize - len(msgs)), Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			// The entries read so far are ours: apply them; the error shows on the next read.
			c.log.WarnContext(ctx, "stream: reading the rest of a batch failed", "stream", c.stream(), "err", err)
		}
		for _, s := range more {
			msgs = append(msgs, s.Messages...)
		}
	}
	if len(msgs) > 0 {
		c.process(ctx, msgs, nil)
	}
	return len(msgs), nil
}

func (c *Consumer) drainOwnPending(ctx context.Context) error {
	for {
		res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: c.cfg.Group, Consumer: c.cfg.Consumer, Streams: []string{c.stream(), "0"},
			Count: int64(c.cfg.BatchSize),
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			return nil
		}
		msgs := res[0].Messages
		counts, err := c.deliveries(ctx, msgs, c.cfg.Consumer)
		if err != nil {
			return err
		}
		c.process(ctx, msgs, counts)
		if len(msgs) < c.cfg.BatchSize {
			return nil
		}
	}
}

// ClaimStale takes over entries pending longer than ClaimMinIdle (their consumer died or failed
// to apply them) and applies them.
func (c *Consumer) ClaimStale(ctx context.Context) error {
	start := "0-0"
	for {
		msgs, next, err := c.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: c.stream(), Group: c.cfg.Group, Consumer: c.cfg.Consumer,
			MinIdle: c.cfg.ClaimMinIdle, Start: start, Count: int64(c.cfg.BatchSize),
		}).Result()
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			counts, err := c.deliveries(ctx, msgs, c.cfg.Consumer)
			if err != nil {
				return err
			}
			c.process(ctx, msgs, counts)
		}
		if next == "0-0" || next == "" || next == start {
			return nil
		}
		start = next
	}
}

// deliveries returns the delivery counts of msgs (pending for consumer).
func (c *Consumer) deliveries(ctx context.Context, msgs []redis.XMessage, consumer string) (map[string]int64, error) {
	pend, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: c.stream(), Group: c.cfg.Group, Start: msgs[0].ID, End: msgs[len(msgs)-1].ID,
		Count: int64(len(msgs))*4 + 64, Consumer: consumer,
	}).Result()
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(pend))
	for _, p := range pend {
		counts[p.ID] = p.RetryCount
	}
	// The range may hold more of this consumer's entries than fetched: ask for the rest one by one.
	for _, m := range msgs {
		if _, ok := counts[m.ID]; ok {
			continue
		}
		one, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: c.stream(), Group: c.cfg.Group,
			Start: m.ID, End: m.ID, Count: 1, Consumer: consumer}).Result()
		if err != nil {
			return nil, err
		}
		if len(one) == 1 {
			counts[m.ID] = one[0].RetryCount
		}
	}
	return counts, nil
}

// process applies msgs (counts: delivery counts, nil meaning first delivery) and acknowledges
// what was applied or dead-lettered.
func (c *Consumer) process(ctx context.Context, raw []redis.XMessage, counts map[string]int64) {
	msgs := make([]Message, 0, len(raw))
	var skipped []Message
	for _, r := range raw {
		m := Message{ID: r.ID, Deliveries: 1}
		if counts != nil {
			if n, ok := counts[r.ID]; ok {
				m.Deliveries = n
			}
		}
		env, err := decode(r)
		if err != nil {
			// Undecodable entries can never succeed: dead-letter them at once.
			c.deadLetter(ctx, m, r, fault.New(fault.Invalid, "EVENT_UNDECODABLE", "%v", err))
			continue
		}
		m.Envelope = env
		mine, err := c.route(&m)
		switch {
		case err != nil:
			c.deadLetter(ctx, m, r, err)
		case mine:
			msgs = append(msgs, m)
		default:
			skipped = append(skipped, m)
		}
	}
	c.ack(ctx, skipped)
	if len(msgs) == 0 {
		return
	}
	if err := c.apply(ctx, msgs); err == nil {
		c.ack(ctx, msgs)
		return
	} else if len(msgs) == 1 {
		c.failed(ctx, msgs[0], raw, err)
		return
	}
	// Isolate the failing entries: apply one at a time.
	for _, m := range msgs {
		if err := c.apply(ctx, []Message{m}); err != nil {
			c.failed(ctx, m, raw, err)
			continue
		}
		c.ack(ctx, []Message{m})
	}
}

// route decides what to do with m by the event catalogue: mine is true (and m.Payload decoded)
// for a type the handler applies, false for another declared type; an error (a dead letter)
// for a type nobody declares on the stream or a payload other than the declared one.
func (c *Consumer) route(m *Message) (mine bool, err error) {
	typ := m.Envelope.GetType()
	declared, known := catalogue.Payload(c.cfg.Stream, typ)
	if !known && !c.cfg.Undeclared {
		return false, fault.New(fault.Invalid, "EVENT_TYPE_UNKNOWN",
			"no contract declares event type %q on stream %q (renamed by its producer?)", typ, c.cfg.Stream)
	}
	if !slices.Contains(c.cfg.Types, typ) {
		return false, nil
	}
	p, err := m.Envelope.GetPayload().UnmarshalNew()
	if err != nil {
		return false, fault.New(fault.Invalid, "EVENT_UNDECODABLE", "event %s of type %q: payload: %v", m.Envelope.GetEventId(), typ, err)
	}
	if known && p.ProtoReflect().Descriptor().FullName() != declared {
		return false, fault.New(fault.Invalid, "EVENT_PAYLOAD_MISMATCH", "event %s of type %q carries %s, the contract declares %s",
			m.Envelope.GetEventId(), typ, p.ProtoReflect().Descriptor().FullName(), declared)
	}
	m.Payload = p
	return true, nil
}

func decode(r redis.XMessage) (*commonv1.EventEnvelope, error) {
	raw, ok := r.Values["envelope"].(string)
	if !ok {
		return nil, errors.New("entry has no envelope field")
	}
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal([]byte(raw), &env); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	if env.GetEventId() == "" {
		return nil, errors.New("envelope has no event id")
	}
	return &env, nil
}

// apply runs the handler on the events of msgs this group has not applied yet, in one
// transaction that records them in the inbox.
func (c *Consumer) apply(ctx context.Context, msgs []Message) error {
	err := pg.InTx(ctx, c.pool, func(ctx context.Context, tx pgx.Tx) error {
		fresh, err := c.claimInbox(ctx, tx, msgs)
		if err != nil {
			return err
		}
		if dup := len(msgs) - len(fresh); dup > 0 {
			duplicateTotal.WithLabelValues(c.cfg.Stream, c.cfg.Group).Add(float64(dup))
		}
		if len(fresh) == 0 {
			return nil
		}
		// Work done for an event carries the event's correlation id; a batch mixes events, so the
		// handler sets it per event (see WithEvent) and the batch itself logs under the first.
		bctx := WithEvent(ctx, fresh[0].Envelope)
		if err := c.handler(bctx, fresh); err != nil {
			return err
		}
		appliedTotal.WithLabelValues(c.cfg.Stream, c.cfg.Group).Add(float64(len(fresh)))
		return nil
	})
	if err == nil && c.cfg.AfterCommit != nil {
		ids := make([]string, len(msgs))
		for i, m := range msgs {
			ids[i] = m.ID
		}
		c.cfg.AfterCommit(ids)
	}
	return err
}

// claimInbox inserts the event ids of msgs into the inbox and returns the messages whose ids were
// not there yet (first occurrence only, if an id repeats inside the batch).
func (c *Consumer) claimInbox(ctx context.Context, tx pgx.Tx, msgs []Message) ([]Message, error) {
	ids := make([]string, 0, len(msgs))
	sids := make([]string, 0, len(msgs))
	seen := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		id := m.Envelope.GetEventId()
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		sids = append(sids, m.ID)
	}
	rows, err := tx.Query(ctx, `INSERT INTO stream_inbox (consumer_group, event_id, stream_id)
		SELECT $1, e, s FROM unnest($2::uuid[], $3::text[]) AS t(e, s)
		ON CONFLICT DO NOTHING RETURNING event_id::text`, c.cfg.Group, ids, sids)
	if err != nil {
		return nil, fmt.Errorf("stream: inbox: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("stream: inbox: %w", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	fresh := make([]Message, 0, len(inserted))
	for _, m := range msgs {
		if id := m.Envelope.GetEventId(); isNew[id] {
			fresh = append(fresh, m)
			delete(isNew, id)
		}
	}
	return fresh, nil
}

func (c *Consumer) ack(ctx context.Context, msgs []Message) {
	if len(msgs) == 0 {
		return
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	if err := c.rdb.XAck(ctx, c.stream(), c.cfg.Group, ids...).Err(); err != nil {
		// Harmless: the entries stay pending, are claimed later, and the inbox skips them.
		c.log.WarnContext(ctx, "stream: ack failed", "err", err)
	}
}

// failed handles an entry whose application failed: dead-letter it when it has had its
// deliveries, otherwise leave it pending for a later claim.
func (c *Consumer) failed(ctx context.Context, m Message, raw []redis.XMessage, err error) {
	ectx := WithEvent(ctx, m.Envelope)
	if m.Deliveries < c.cfg.MaxDeliveries {
		c.log.WarnContext(ectx, "stream: event failed, will be redelivered", "event_id", m.Envelope.GetEventId(),
			"type", m.Envelope.GetType(), "deliveries", m.Deliveries, "err", err)
		return
	}
	for _, r := range raw {
		if r.ID == m.ID {
			c.deadLetter(ectx, m, r, err)
			return
		}
	}
}

// deadLetter copies the entry to the dead-letter stream, records an exception and acknowledges.
func (c *Consumer) deadLetter(ctx context.Context, m Message, r redis.XMessage, cause error) {
	reason := fault.ReasonOf(cause)
	if reason == "" {
		reason = "MAX_DELIVERIES_EXCEEDED"
	}
	env, _ := r.Values["envelope"].(string)
	evType, _ := r.Values["type"].(string)
	eventID, _ := r.Values["event_id"].(string)
	err := c.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: c.cfg.StreamPrefix + c.cfg.DeadLetterStream,
		Values: []any{"event_id", eventID, "type", evType, "envelope", env, "source_stream", c.cfg.Stream,
			"source_id", r.ID, "group", c.cfg.Group, "reason", reason, "deliveries", strconv.FormatInt(m.Deliveries, 10)},
	}).Err()
	if err != nil {
		c.log.ErrorContext(ctx, "stream: dead-letter xadd failed; entry stays pending", "err", err)
		return
	}
	subject := ""
	if m.Envelope != nil {
		subject = m.Envelope.GetSubject()
	}
	if _, err := c.queue.Record(ctx, nil, exceptions.New{
		Kind: DeadLetterKind(c.cfg.Group, c.cfg.Stream), Reason: reason,
		Message:    fmt.Sprintf("event %s (%s) failed %d deliveries: %v", eventID, evType, m.Deliveries, cause),
		EntityType: evType, EntityID: subject,
		DedupeKey: DeadLetterKind(c.cfg.Group, c.cfg.Stream) + ":" + eventID + ":" + r.ID,
		Payload:   []byte(env),
	}); err != nil {
		c.log.ErrorContext(ctx, "stream: recording dead letter failed; entry stays pending", "err", err)
		return
	}
	deadLetterTotal.WithLabelValues(c.cfg.Stream, c.cfg.Group).Inc()
	c.log.ErrorContext(ctx, "stream: event dead-lettered", "event_id", eventID, "type", evType, "reason", reason,
		"deliveries", m.Deliveries)
	c.ack(ctx, []Message{m})
}

// retryDeadLetter re-applies a dead-lettered event (the exception payload is its envelope).
func (c *Consumer) retryDeadLetter(ctx context.Context, e exceptions.Exception) error {
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal(e.Payload, &env); err != nil {
		return fault.New(fault.Invalid, "EVENT_UNDECODABLE", "the dead letter's envelope cannot be decoded: %v", err)
	}
	m := Message{ID: "retry", Envelope: &env, Deliveries: 0}
	mine, err := c.route(&m)
	if err != nil || !mine {
		return err
	}
	return c.apply(ctx, []Message{m})
}

func (c *Consumer) sampleLag(ctx context.Context) {
	groups, err := c.rdb.XInfoGroups(ctx, c.stream()).Result()
	if err != nil {
		return
	}
	for _, g := range groups {
		if g.Name == c.cfg.Group && g.Lag >= 0 {
			lagGauge.WithLabelValues(c.cfg.Stream, c.cfg.Group).Set(float64(g.Lag))
		}
	}
}

// WithEvent returns ctx carrying the event's correlation id and the event id as causation id, so
// that logs and events produced while applying it trace back to it.
func WithEvent(ctx context.Context, env *commonv1.EventEnvelope) context.Context {
	if env == nil {
		return ctx
	}
	if id := env.GetCorrelationId(); id != "" {
		ctx = correlation.With(ctx, id)
	}
	return correlation.WithCausation(ctx, env.GetEventId())
}
