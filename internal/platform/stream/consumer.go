// Package stream consumes events from Redis Streams with exactly-once effects in Postgres.
//
// A Consumer reads its group's entries in batches (XREADGROUP), applies each batch in one Postgres
// transaction that also records every event id in the inbox table (so a redelivered event is
// skipped), and acknowledges (XACK) only after the commit. An entry whose apply failed is
// delivered again to the same consumer after a short backoff (RetryBase doubling to RetryMax);
// entries left pending by a consumer that died are claimed with XAUTOCLAIM once idle for
// ClaimMinIdle; an entry that failed MaxDeliveries times is copied to the dead-letter stream,
// recorded in the exception queue, and acknowledged. Retrying that exception re-applies the event
// through the same handler; the queue's retrier does so by itself when the cause was transient.
//
// Redis is transport, not the record: when it loses the group (restarted empty, failed over to
// an empty replica, flushed), the consumer recreates it at the start of the stream and goes on,
// and the producers' outbox relays re-publish what was lost (see package outbox).
//
// Entries are checked against the event catalogue of the contracts (see Config.Types) before
// the handler sees them: an unknown type or a payload other than the declared message is
// dead-lettered at once, and so is an event the handler answers with Unroutable.
//
// Files: config.go (Config), read.go (reading, claiming), redeliver.go (retrying failed
// entries), apply.go (routing, the inbox, the batch transaction), deadletter.go (dead letters and
// their retry), lag.go (the lag gauge), retention.go (the dead-letter cap's gauges, inbox pruning).
//
// One Consumer processes one batch at a time; run more instances (distinct Consumer names) to
// share a group's load.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
)

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

// Reasons of the dead letters the consumer records itself (the exception's reason and the
// dead-letter entry's "reason" field). An event the handler failed on MaxDeliveries times carries
// the reason of the handler's fault, or ReasonMaxDeliveries when it has none.
const (
	ReasonUndecodable     = "EVENT_UNDECODABLE"      // no envelope, no event id, or a payload that does not decode
	ReasonTypeUnknown     = "EVENT_TYPE_UNKNOWN"     // no contract declares the type on the stream
	ReasonPayloadMismatch = "EVENT_PAYLOAD_MISMATCH" // the payload is not the message the contract declares
	ReasonUnroutable      = "EVENT_UNROUTABLE"       // the handler has no route for the payload (Unroutable)
	ReasonMaxDeliveries   = "MAX_DELIVERIES_EXCEEDED"
)

// Unroutable is the error a handler returns for a payload it has no route for: the event is
// dead-lettered at once with reason EVENT_UNROUTABLE.
func Unroutable(m Message) error {
	return fault.New(fault.Invalid, ReasonUnroutable, "event %s of type %q: no route for payload %T",
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

	// The redelivery of this consumer's own failed entries (see redeliver.go); only the
	// goroutine that runs the consumer touches it.
	retryAt      time.Time
	retryAttempt int
}

var (
	appliedTotal        = perGroup("accrue_stream_events_applied_total", "Events applied by a consumer group.")
	duplicateTotal      = perGroup("accrue_stream_events_duplicate_total", "Redelivered events skipped by the inbox.")
	deadLetterTotal     = perGroup("accrue_stream_dead_letters_total", "Events moved to the dead-letter stream.")
	groupRecreatedTotal = perGroup("accrue_stream_group_recreated_total",
		"Consumer groups recreated after the broker lost them (NOGROUP).")
	lagGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_stream_lag", Help: "Entries in the stream not yet delivered to the group.",
	}, []string{"stream", "group"})
)

func perGroup(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"stream", "group"})
}

// Collectors returns the consumers' Prometheus collectors.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{appliedTotal, duplicateTotal, deadLetterTotal, groupRecreatedTotal, lagGauge, deadLetterLength, deadLetterNearCap}
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

// Run consumes until ctx is cancelled. A missing consumer group (the broker restarted empty,
// failed over or was flushed) is recreated at the start of the stream, and consumption goes on.
func (c *Consumer) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := c.ensureGroup(ctx)
		if err == nil {
			break
		}
		c.log.WarnContext(ctx, "stream: cannot create the consumer group yet", "err", err)
		sleep(ctx, time.Second)
	}
	// Entries this consumer name had read but not acknowledged before a restart come first.
	if err := c.retryOwn(ctx); err != nil {
		c.recover(ctx, "draining own pending entries", err)
	}
	lastClaim := time.Now()
	for ctx.Err() == nil {
		if c.retryDue() {
			if err := c.retryOwn(ctx); err != nil {
				c.recover(ctx, "retrying failed entries", err)
			}
		}
		if time.Since(lastClaim) >= c.cfg.ClaimInterval {
			lastClaim = time.Now()
			if err := c.ClaimStale(ctx); err != nil {
				c.recover(ctx, "claim", err)
			}
			c.sampleLag(ctx)
		}
		if _, err := c.read(ctx, c.blockFor()); err != nil {
			c.recover(ctx, "read", err)
		}
	}
	return nil
}

// recover reacts to a failed Redis call. A missing group is recreated at once (XGROUP CREATE at
// id 0, MKSTREAM): the group re-reads whatever the stream still holds, which the inbox makes
// safe, and the producers' relays re-publish what the broker lost. Anything else is logged and
// waited out.
func (c *Consumer) recover(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	if isNoGroup(err) {
		c.log.WarnContext(ctx, "stream: consumer group missing (broker restarted empty, failed over or flushed?); recreating it at the start of the stream", "during", what)
		if err := c.ensureGroup(ctx); err == nil {
			groupRecreatedTotal.WithLabelValues(c.cfg.Stream, c.cfg.Group).Inc()
			return
		} else if ctx.Err() == nil {
			c.log.ErrorContext(ctx, "stream: recreating the consumer group failed", "err", err)
		}
	} else {
		c.log.ErrorContext(ctx, "stream: "+what+" failed", "err", err)
	}
	sleep(ctx, time.Second)
}

// isNoGroup reports whether err says the group is gone: NOGROUP (no such stream or group), which
// XREADGROUP, XAUTOCLAIM and XPENDING answer once the broker lost it, or UNBLOCKED, which a
// blocked XREADGROUP gets when its stream is deleted or flushed under it.
func isNoGroup(err error) bool {
	return err != nil && (strings.HasPrefix(err.Error(), "NOGROUP") || strings.HasPrefix(err.Error(), "UNBLOCKED"))
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
