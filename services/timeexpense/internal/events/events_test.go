package events_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	"github.com/accrue/accrue/services/timeexpense/internal/events"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
)

// TestHandlersDeadLetterPayloadsTheyDoNotRoute hands each handler an event whose payload it
// has no route for: the batch fails with EVENT_UNROUTABLE (the consumer dead-letters it) instead
// of skipping it.
func TestHandlersDeadLetterPayloadsTheyDoNotRoute(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, store.Migrations())
	uc := app.New(store.New(db.Pool, outbox.Writer{Producer: "timeexpense"}, exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))))
	contract := &billingv1.ContractChanged{}
	payload, err := anypb.New(contract)
	if err != nil {
		t.Fatal(err)
	}
	msg := stream.Message{ID: "0-1", Deliveries: 1, Payload: contract,
		Envelope: &commonv1.EventEnvelope{EventId: "e-1", Type: billingv1.EventTypeContractChanged, Payload: payload}}
	for name, h := range map[string]stream.Handler{"billing": events.Billing(uc), "projects": events.Projects(uc)} {
		err := pg.NewDB(db.Pool).InTx(context.Background(), func(ctx context.Context) error { return h(ctx, []stream.Message{msg}) })
		if fault.ReasonOf(err) != "EVENT_UNROUTABLE" {
			t.Errorf("%s: got %v, want EVENT_UNROUTABLE", name, err)
		}
	}
}
