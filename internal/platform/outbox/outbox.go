// Package outbox implements the transactional outbox: Enqueue writes events into the caller's
// transaction, and Relay publishes committed rows to Redis Streams.
//
// Postgres is the source of truth and Redis is transport: a row is stamped published only after
// XADD succeeded, so a crash between the two publishes the event again, and consumers deduplicate
// on the event id. The relay claims rows with FOR UPDATE SKIP LOCKED (never "id greater than last
// seen": concurrent transactions commit out of id order), so several relays can run at once.
//
// Redis may also forget entries it acknowledged (restarted empty, failed over to a lagging
// replica, flushed). The relay records each row's stream entry id and, per stream, the highest
// one; a stream whose last id in Redis fell below it lost the entries above, and the relay
// publishes exactly those rows again (see loss.go and guard.go).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// ErrUndeclared is returned for an event whose payload message declares its events (the
// (accrue.common.v1.event) option) but not this event's stream and type: publishing it would
// reach consumers under a name the contracts do not know, and they would dead-letter it.
var ErrUndeclared = errors.New("outbox: the payload's contract does not declare the event's stream and type")

// Event is one fact to publish.
type Event struct {
	// Stream is the logical stream name, e.g. "customer.events" (a deployment prefix is added by
	// the relay and the consumers, never stored).
	Stream string
	// Type is the dotted event type, e.g. "customer.upserted".
	Type string
	// Subject is the canonical id of the aggregate.
	Subject string
	// Payload is the event message defined in proto/accrue/<domain>/v1/events.proto. When the
	// message declares its events, Stream and Type must be among them (see ErrUndeclared).
	Payload proto.Message
}

// Writer enqueues events on behalf of one producing service.
type Writer struct {
	// Producer is the service name stamped on envelopes, e.g. "customer".
	Producer string
	// Now returns the current time; time.Now when nil (tests pin it).
	Now func() time.Time
	// Signer signs every envelope (eventsig): consumers that verify signatures dead-letter
	// unsigned events. Nil writes unsigned envelopes (tests, and services started with
	// ACCRUE_INSECURE_DEV without event keys).
	Signer *eventsig.Signer
}

// Enqueue builds envelopes (correlation and causation ids from ctx) and inserts them through q,
// which must be the transaction that writes the state the events describe. It returns the
// envelopes it wrote. Up to copyFrom events go in one INSERT; more (a consumer's batch) by COPY.
func (w Writer) Enqueue(ctx context.Context, q pg.Querier, events ...Event) ([]*commonv1.EventEnvelope, error) {
	if len(events) < copyFrom {
		var b pg.Batch
		envs, err := w.Queue(ctx, &b, events...)
		if err != nil {
			return nil, err
		}
		if err := b.Run(ctx, q); err != nil {
			return nil, fmt.Errorf("outbox: insert: %w", err)
		}
		return envs, nil
	}
	envs, rows, err := w.build(ctx, events)
	if err != nil {
		return nil, err
	}
	cols := []string{"event_id", "stream", "event_type", "subject", "envelope"}
	src := pgx.CopyFromSlice(len(envs), func(i int) ([]any, error) {
		return []any{rows.ids[i], rows.streams[i], rows.types[i], rows.subjects[i], rows.envelopes[i]}, nil
	})
	if _, err := q.CopyFrom(ctx, pgx.Identifier{"outbox"}, cols, src); err != nil {
		return nil, fmt.Errorf("outbox: copy: %w", err)
	}
	return envs, nil
}

// copyFrom is the number of events from which Enqueue uses COPY (three round trips, but cheap
// per row) instead of one INSERT.
const copyFrom = 64

// Queue builds envelopes like Enqueue and adds their insert (one statement) to b, which must
// also carry the writes the events describe.
func (w Writer) Queue(ctx context.Context, b *pg.Batch, events ...Event) ([]*commonv1.EventEnvelope, error) {
	if len(events) == 0 {
		return nil, nil
	}
	envs, rows, err := w.build(ctx, events)
	if err != nil {
		return nil, err
	}
	b.Queue(`INSERT INTO outbox (event_id, stream, event_type, subject, envelope)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])`,
		rows.ids, rows.streams, rows.types, rows.subjects, rows.envelopes)
	return envs, nil
}

// columns holds outbox rows column by column.
type columns struct {
	ids, streams, types, subjects []string
	envelopes                     [][]byte
}

func (w Writer) build(ctx context.Context, events []Event) ([]*commonv1.EventEnvelope, columns, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	n := len(events)
	if n > 0 {
		// The envelopes carry this span's context: the relay's and the consumers' spans join
		// the trace of whatever wrote the events.
		var span trace.Span
		ctx, span = telemetry.Start(ctx, "outbox.write "+events[0].Stream, trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("messaging.destination.name", events[0].Stream),
				attribute.String("messaging.operation.type", "create"), attribute.Int("messaging.batch.message_count", n)))
		defer span.End()
	}
	carrier := telemetry.Inject(ctx)
	envs := make([]*commonv1.EventEnvelope, n)
	c := columns{ids: make([]string, n), streams: make([]string, n), types: make([]string, n), subjects: make([]string, n), envelopes: make([][]byte, n)}
	for i, e := range events {
		if e.Stream == "" || e.Type == "" || e.Payload == nil {
			return nil, c, fmt.Errorf("outbox: event %d needs a stream, a type and a payload", i)
		}
		if err := checkDeclared(e); err != nil {
			return nil, c, fmt.Errorf("event %d: %w", i, err)
		}
		payload, err := anypb.New(e.Payload)
		if err != nil {
			return nil, c, fmt.Errorf("outbox: pack payload: %w", err)
		}
		id := uuid.Must(uuid.NewV7()).String()
		env := &commonv1.EventEnvelope{
			EventId:       id,
			Type:          e.Type,
			Subject:       e.Subject,
			OccurredAt:    timestamppb.New(now()),
			CorrelationId: correlation.ID(ctx),
			CausationId:   correlation.CausationID(ctx),
			Producer:      w.Producer,
			Payload:       payload,
			TraceContext:  carrier,
		}
		if w.Signer != nil {
			if err := w.Signer.Sign(e.Stream, env); err != nil {
				return nil, c, err
			}
		}
		b, err := proto.Marshal(env)
		if err != nil {
			return nil, c, fmt.Errorf("outbox: marshal envelope: %w", err)
		}
		envs[i] = env
		c.ids[i], c.streams[i], c.types[i], c.subjects[i], c.envelopes[i] = id, e.Stream, e.Type, e.Subject, b
	}
	return envs, c, nil
}

// checkDeclared refuses an event whose payload declares other events than e. A payload that
// declares none (platform tests publish wrapper messages) is let through.
func checkDeclared(e Event) error {
	d := e.Payload.ProtoReflect().Descriptor()
	spec, ok := catalogue.SpecOf(d)
	if !ok || catalogue.Declares(e.Payload, e.Stream, e.Type) {
		return nil
	}
	return fmt.Errorf("%w: %s declares %v on %q, not %q on %q", ErrUndeclared, d.FullName(),
		spec.GetTypes(), spec.GetStream(), e.Type, e.Stream)
}

// Replay marks the events of subject (or, with an empty subject, those created since since) as
// unpublished, so the relay publishes them again. Consumers skip the ones they already applied.
func Replay(ctx context.Context, q pg.Querier, subject string, since time.Time) (int64, error) {
	var tag interface{ RowsAffected() int64 }
	var err error
	if subject != "" {
		tag, err = q.Exec(ctx, `UPDATE outbox SET published_at = NULL, stream_ms = NULL, stream_seq = NULL
			WHERE subject = $1 AND published_at IS NOT NULL`, subject)
	} else {
		tag, err = q.Exec(ctx, `UPDATE outbox SET published_at = NULL, stream_ms = NULL, stream_seq = NULL
			WHERE created_at >= $1 AND published_at IS NOT NULL`, since)
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: replay: %w", err)
	}
	return tag.RowsAffected(), nil
}
