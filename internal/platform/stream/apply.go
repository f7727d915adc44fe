package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// process applies msgs (counts: delivery counts, nil meaning first delivery), acknowledges what
// was applied or dead-lettered, and returns how many entries failed and stay pending for a retry.
func (c *Consumer) process(ctx context.Context, raw []redis.XMessage, counts map[string]int64) int {
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
			c.deadLetter(ctx, m, r, fault.New(fault.Invalid, ReasonUndecodable, "%v", err))
			continue
		}
		m.Envelope = env
		if err := c.verify(env); err != nil {
			// A forged or tampered event is never applied, however often it is delivered.
			c.deadLetter(WithEvent(ctx, env), m, r, err)
			continue
		}
		mine, err := c.route(&m)
		switch {
		case err != nil:
			c.deadLetter(WithEvent(ctx, env), m, r, err) // the exception carries the event's correlation id
		case mine:
			msgs = append(msgs, m)
		default:
			skipped = append(skipped, m)
		}
	}
	c.ack(ctx, skipped)
	if len(msgs) == 0 {
		return 0
	}
	err := c.apply(ctx, msgs)
	if err == nil {
		c.ack(ctx, msgs)
		return 0
	}
	left := 0
	if len(msgs) == 1 || transientReason(err) != "" {
		// A database or broker outage fails every event alike: applying them one by one would
		// only fail each again. They all wait for the next retry round.
		for _, m := range msgs {
			if c.failed(ctx, m, raw, err) {
				left++
			}
		}
		return left
	}
	// Isolate the failing entries: apply one at a time.
	for _, m := range msgs {
		if err := c.apply(ctx, []Message{m}); err != nil {
			if c.failed(ctx, m, raw, err) {
				left++
			}
			continue
		}
		c.ack(ctx, []Message{m})
	}
	return left
}

// route decides what to do with m by the event catalogue: mine is true (and m.Payload decoded)
// for a type the handler applies, false for another declared type; an error (a dead letter)
// for a type nobody declares on the stream or a payload other than the declared one.
func (c *Consumer) route(m *Message) (mine bool, err error) {
	typ := m.Envelope.GetType()
	declared, known := catalogue.Payload(c.cfg.Stream, typ)
	if !known && !c.cfg.Undeclared {
		return false, fault.New(fault.Invalid, ReasonTypeUnknown,
			"no contract declares event type %q on stream %q (renamed by its producer?)", typ, c.cfg.Stream)
	}
	if !slices.Contains(c.cfg.Types, typ) {
		return false, nil
	}
	p, err := m.Envelope.GetPayload().UnmarshalNew()
	if err != nil {
		return false, fault.New(fault.Invalid, ReasonUndecodable, "event %s of type %q: payload: %v", m.Envelope.GetEventId(), typ, err)
	}
	if known && p.ProtoReflect().Descriptor().FullName() != declared {
		return false, fault.New(fault.Invalid, ReasonPayloadMismatch, "event %s of type %q carries %s, the contract declares %s",
			m.Envelope.GetEventId(), typ, p.ProtoReflect().Descriptor().FullName(), declared)
	}
	m.Payload = p
	return true, nil
}

// verify checks env's signature when the consumer verifies signatures.
func (c *Consumer) verify(env *commonv1.EventEnvelope) error {
	if c.cfg.Signatures == nil {
		return nil
	}
	return c.cfg.Signatures.Verify(c.cfg.Stream, env)
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
func (c *Consumer) apply(ctx context.Context, msgs []Message) (err error) {
	if ctx, span, ok := c.startSpan(ctx, msgs); ok {
		defer func() { telemetry.End(span, err) }()
		return c.applyTx(ctx, msgs)
	}
	return c.applyTx(ctx, msgs)
}

// startSpan starts the span of applying msgs: one traced event continues its producer's trace,
// a batch starts its own and links to each event's (see telemetry.StartConsumer).
func (c *Consumer) startSpan(ctx context.Context, msgs []Message) (context.Context, trace.Span, bool) {
	if !telemetry.Enabled() {
		return ctx, nil, false
	}
	scs := make([]trace.SpanContext, len(msgs))
	for i, m := range msgs {
		scs[i] = telemetry.SpanContextOf(m.Envelope.GetTraceContext())
	}
	attrs := []attribute.KeyValue{attribute.String("messaging.system", "redis"),
		attribute.String("messaging.destination.name", c.stream()), attribute.String("messaging.consumer.group.name", c.cfg.Group),
		attribute.String("messaging.operation.type", "process")}
	if len(msgs) == 1 {
		attrs = append(attrs, attribute.String("messaging.message.id", msgs[0].Envelope.GetEventId()),
			attribute.String("accrue.event.type", msgs[0].Envelope.GetType()), attribute.Int64("accrue.deliveries", msgs[0].Deliveries))
	}
	return telemetry.StartConsumer(ctx, c.cfg.Stream+" process", scs, attrs...)
}

func (c *Consumer) applyTx(ctx context.Context, msgs []Message) error {
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
