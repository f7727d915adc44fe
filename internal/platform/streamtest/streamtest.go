// Package streamtest runs a stream handler in tests the way a Consumer does, without Redis:
// payloads decoded and checked against the event catalogue, one transaction in ctx.
package streamtest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
)

// Messages turns envelopes into the messages a consumer hands its handler: payload decoded,
// and refused when its message does not declare the envelope's type.
func Messages(envs ...*commonv1.EventEnvelope) ([]stream.Message, error) {
	msgs := make([]stream.Message, len(envs))
	for i, e := range envs {
		p, err := e.GetPayload().UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("streamtest: event %d: %w", i, err)
		}
		spec, ok := catalogue.SpecOf(p.ProtoReflect().Descriptor())
		if !ok || !catalogue.Declares(p, spec.GetStream(), e.GetType()) {
			return nil, fmt.Errorf("streamtest: event %d: %s does not declare type %q", i,
				p.ProtoReflect().Descriptor().FullName(), e.GetType())
		}
		msgs[i] = stream.Message{ID: fmt.Sprintf("0-%d", i+1), Envelope: e, Deliveries: 1, Payload: p}
	}
	return msgs, nil
}

// Apply runs h on envs in one transaction on pool, as a consumer would.
func Apply(ctx context.Context, pool *pgxpool.Pool, h stream.Handler, envs ...*commonv1.EventEnvelope) error {
	msgs, err := Messages(envs...)
	if err != nil {
		return err
	}
	return pg.NewDB(pool).InTx(ctx, func(ctx context.Context) error { return h(ctx, msgs) })
}

// Published returns the envelopes of type typ written to the outbox of pool, oldest first, with
// their payloads decoded (and checked against the catalogue like Messages): what a consumer, or
// the webhook dispatcher, will receive.
func Published(ctx context.Context, pool *pgxpool.Pool, typ string) ([]stream.Message, error) {
	rows, err := pool.Query(ctx, `SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id`, typ)
	if err != nil {
		return nil, err
	}
	var envs []*commonv1.EventEnvelope
	var b []byte
	if _, err := pgx.ForEachRow(rows, []any{&b}, func() error {
		e := &commonv1.EventEnvelope{}
		if err := proto.Unmarshal(b, e); err != nil {
			return err
		}
		envs = append(envs, e)
		return nil
	}); err != nil {
		return nil, err
	}
	return Messages(envs...)
}
