package stream

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
)

// failed handles an entry whose application failed: dead-letter it when it has had its
// deliveries or the handler has no route for it (no redelivery can change that), otherwise leave
// it pending for a later claim.
func (c *Consumer) failed(ctx context.Context, m Message, raw []redis.XMessage, err error) {
	ectx := WithEvent(ctx, m.Envelope)
	if m.Deliveries < c.cfg.MaxDeliveries && fault.ReasonOf(err) != ReasonUnroutable {
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
		reason = ReasonMaxDeliveries
	}
	env, _ := r.Values["envelope"].(string)
	evType, _ := r.Values["type"].(string)
	eventID, _ := r.Values["event_id"].(string)
	err := c.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: c.cfg.StreamPrefix + c.cfg.DeadLetterStream, MaxLen: c.cfg.DeadLetterMaxLen, Approx: true,
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
	_ = c.SampleDeadLetters(ctx)
	c.log.ErrorContext(ctx, "stream: event dead-lettered", "event_id", eventID, "type", evType, "reason", reason,
		"deliveries", m.Deliveries)
	c.ack(ctx, []Message{m})
}

// retryDeadLetter re-applies a dead-lettered event (the exception payload is its envelope).
func (c *Consumer) retryDeadLetter(ctx context.Context, e exceptions.Exception) error {
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal(e.Payload, &env); err != nil {
		return fault.New(fault.Invalid, ReasonUndecodable, "the dead letter's envelope cannot be decoded: %v", err)
	}
	m := Message{ID: "retry", Envelope: &env, Deliveries: 0}
	mine, err := c.route(&m)
	if err != nil || !mine {
		return err
	}
	return c.apply(ctx, []Message{m})
}
