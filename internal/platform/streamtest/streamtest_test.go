package streamtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/streamtest"
)

func envelope(t *testing.T, typ string, p proto.Message) *commonv1.EventEnvelope {
	t.Helper()
	a, err := anypb.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: "e-" + typ, Type: typ, Payload: a}
}

func TestApplyRunsTheHandlerInOneTransactionOnDecodedPayloads(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, nil)
	ctx := context.Background()
	var got []string
	h := func(ctx context.Context, msgs []stream.Message) error {
		if _, ok := pg.TxFrom(ctx); !ok {
			return errors.New("no transaction in ctx")
		}
		for _, m := range msgs {
			switch m.Payload.(type) {
			case *timeexpensev1.EntriesApproved, *timeexpensev1.EntriesReversed:
				got = append(got, m.Envelope.GetType())
			default:
				return stream.Unroutable(m)
			}
		}
		return nil
	}
	err := streamtest.Apply(ctx, db.Pool, h,
		envelope(t, timeexpensev1.EventTypeTimeEntriesApproved, &timeexpensev1.EntriesApproved{}),
		envelope(t, timeexpensev1.EventTypeTimeEntriesReversed, &timeexpensev1.EntriesReversed{}))
	if err != nil || len(got) != 2 {
		t.Fatalf("Apply = %v, handled %v", err, got)
	}

	// A payload that does not declare the envelope's type is refused before the handler runs, as
	// the consumer would dead-letter it.
	got = nil
	err = streamtest.Apply(ctx, db.Pool, h, envelope(t, timeexpensev1.EventTypeTimeEntriesApproved, &timeexpensev1.EntriesReversed{}))
	if err == nil || !strings.Contains(err.Error(), "does not declare") || len(got) != 0 {
		t.Fatalf("Apply of a mismatched payload = %v (handled %v), want a refusal", err, got)
	}
}
