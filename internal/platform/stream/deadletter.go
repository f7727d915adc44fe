package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
)

// failed handles an entry whose application failed: dead-letter it when it has had its
// deliveries or the handler has no route for it (no redelivery can change that), otherwise leave
// it pending for the next retry round. It reports whether the entry stays pending.
func (c *Consumer) failed(ctx context.Context, m Message, raw []redis.XMessage, err error) bool {
	ectx := WithEvent(ctx, m.Envelope)
	if m.Deliveries < c.cfg.MaxDeliveries && fault.ReasonOf(err) != ReasonUnroutable {
		c.log.WarnContext(ectx, "stream: event failed, will be redelivered", "event_id", m.Envelope.GetEventId(),
			"type", m.Envelope.GetType(), "deliveries", m.Deliveries, "err", err)
		return true
	}
	for _, r := range raw {
		if r.ID == m.ID {
			return !c.deadLetter(ectx, m, r, err)
		}
	}
	return true
}

// ReasonBrokerUnavailable is the reason of a dead letter whose handler failed on Redis.
const ReasonBrokerUnavailable = "BROKER_UNAVAILABLE"

// transientReason returns the reason of a failure that may clear on its own (the database or
// the broker unreachable, a connection lost, a deadline), or "" for one that needs a change (a
// rate, a period, a fix) and therefore a human.
func transientReason(err error) string {
	if fe, ok := fault.As(err); ok {
		if fe.Kind == fault.Unavailable {
			return fe.Reason
		}
		return ""
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "DEADLINE_EXCEEDED"
	case pg.IsConnectionFailure(err):
		return pg.ReasonDatabaseUnavailable
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(err.Error(), p+" ") {
			return ReasonBrokerUnavailable
		}
	}
	return ""
}

// deadLetter copies the entry to the dead-letter stream, records an exception and acknowledges.
// An exception whose cause is transient is retried automatically (DeadLetterRetryAfter, then the
// retrier's backoff) until it applies or fails for a reason that needs a human. It reports
// whether the entry was dead-lettered (false: it stays pending).
func (c *Consumer) deadLetter(ctx context.Context, m Message, r redis.XMessage, cause error) bool {
	reason := fault.ReasonOf(cause)
	transient := transientReason(cause)
	if reason == "" {
		reason = transient
	}
	if reason == "" {
		reason = ReasonMaxDeliveries
	}
	var retryAfter time.Duration
	if transient != "" {
		retryAfter = c.cfg.DeadLetterRetryAfter
	}
	env, _ := r.Values["envelope"].(string)
	evType, _ := r.Values["type"].(string)
	eventID, _ := r.Values["event_id"].(string)
	subject := ""
	if m.Envelope != nil {
		subject = m.Envelope.GetSubject()
	}
	// The exception first (recording it again only bumps its attempts), then the copy on the
	// dead-letter stream: an outage between the two leaves the entry pending, never a copy
	// without its exception.
	if _, err := c.queue.Record(ctx, nil, exceptions.New{
		Kind: DeadLetterKind(c.cfg.Group, c.cfg.Stream), Reason: reason,
		Message:    fmt.Sprintf("event %s (%s) failed %d deliveries: %v", eventID, evType, m.Deliveries, cause),
		EntityType: evType, EntityID: subject,
		DedupeKey:  DeadLetterKind(c.cfg.Group, c.cfg.Stream) + ":" + eventID + ":" + r.ID,
		Payload:    []byte(env),
		RetryAfter: retryAfter,
	}); err != nil {
		c.log.ErrorContext(ctx, "stream: recording dead letter failed; entry stays pending", "err", err)
		return false
	}
	err := c.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: c.cfg.StreamPrefix + c.cfg.DeadLetterStream, MaxLen: c.cfg.DeadLetterMaxLen, Approx: true,
		Values: []any{"event_id", eventID, "type", evType, "envelope", env, "source_stream", c.cfg.Stream,
			"source_id", r.ID, "group", c.cfg.Group, "reason", reason, "deliveries", strconv.FormatInt(m.Deliveries, 10)},
	}).Err()
	if err != nil {
		c.log.ErrorContext(ctx, "stream: dead-letter xadd failed; entry stays pending", "err", err)
		return false
	}
	deadLetterTotal.WithLabelValues(c.cfg.Stream, c.cfg.Group).Inc()
	_ = c.SampleDeadLetters(ctx)
	c.log.ErrorContext(ctx, "stream: event dead-lettered", "event_id", eventID, "type", evType, "reason", reason,
		"deliveries", m.Deliveries, "automatic_retry", retryAfter > 0)
	c.ack(ctx, []Message{m})
	return true
}

// retryDeadLetter re-applies a dead-lettered event (the exception payload is its envelope).
func (c *Consumer) retryDeadLetter(ctx context.Context, e exceptions.Exception) error {
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal(e.Payload, &env); err != nil {
		return fault.New(fault.Invalid, ReasonUndecodable, "the dead letter's envelope cannot be decoded: %v", err)
	}
	if err := c.verify(&env); err != nil {
		return exceptions.StopRetrying(err)
	}
	m := Message{ID: "retry", Envelope: &env, Deliveries: 0}
	mine, err := c.route(&m)
	if err != nil || !mine {
		return err
	}
	if err := c.apply(ctx, []Message{m}); err != nil {
		if transientReason(err) == "" {
			return exceptions.StopRetrying(err) // it now fails for a reason only a human can fix
		}
		return err
	}
	return nil
}
