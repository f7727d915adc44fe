package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func count(t *testing.T, db pg.Querier, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func event(stream, typ, subject, payload string) outbox.Event {
	return outbox.Event{Stream: stream, Type: typ, Subject: subject, Payload: wrapperspb.String(payload)}
}

// many returns n events with subjects m-0 … m-(n-1).
func many(n int) []outbox.Event {
	out := make([]outbox.Event, n)
	for i := range out {
		out[i] = event("billing.events", "posting.recorded", fmt.Sprintf("m-%d", i), "x")
	}
	return out
}

// enqueue writes events in one committed transaction.
func enqueue(t *testing.T, ctx context.Context, db *pgtest.DB, w outbox.Writer, events ...outbox.Event) []*commonv1.EventEnvelope {
	t.Helper()
	var envs []*commonv1.EventEnvelope
	d := pg.NewDB(db.Pool)
	err := d.InTx(ctx, func(ctx context.Context) error {
		var err error
		envs, err = w.Enqueue(ctx, d.Q(ctx), events...)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return envs
}

func TestEnqueueIsPartOfTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	w := outbox.Writer{Producer: "billing"}

	// Rolled back: neither a few events (one INSERT) nor a consumer-sized batch (COPY) leaves a
	// trace.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Enqueue(ctx, tx, event("billing.events", "posting.recorded", "p-1", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Enqueue(ctx, tx, event("billing.events", "posting.recorded", "p-2", "b"), event("billing.events", "posting.recorded", "p-3", "c")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Enqueue(ctx, tx, many(70)...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("outbox has %d rows after rollback, want 0", n)
	}

	// Committed: every event is there, unpublished, with its envelope.
	envs := enqueue(t, ctx, db, w,
		event("billing.events", "posting.recorded", "p-1", "a"),
		event("billing.events", "posting.recorded", "p-2", "b"),
		event("billing.events", "posting.rejected", "p-3", "c"))
	enqueue(t, ctx, db, w, event("billing.events", "invoice.posted", "inv-1", "d"))
	copied := enqueue(t, ctx, db, w, many(70)...)
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 74 {
		t.Fatalf("outbox has %d unpublished rows, want 74", n)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE event_id = $1 AND subject = 'm-69'`, copied[69].GetEventId()); n != 1 {
		t.Fatalf("row of copied envelope %s not found", copied[69].GetEventId())
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE event_id = $1 AND subject = 'p-3' AND event_type = 'posting.rejected'`, envs[2].GetEventId()); n != 1 {
		t.Fatalf("row of envelope %s not found", envs[2].GetEventId())
	}
}

func TestEnqueueRefusesIncompleteEvents(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	w := outbox.Writer{Producer: "billing"}
	for name, e := range map[string]outbox.Event{
		"no stream":  {Type: "x.y", Payload: wrapperspb.String("a")},
		"no type":    {Stream: "s", Payload: wrapperspb.String("a")},
		"no payload": {Stream: "s", Type: "x.y"},
	} {
		if _, err := w.Enqueue(ctx, db.Pool, event("s", "ok.event", "1", "fine"), e); err == nil {
			t.Errorf("%s: Enqueue accepted the event", name)
		}
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("outbox has %d rows after refused batches, want 0", n)
	}
	if envs, err := w.Enqueue(ctx, db.Pool); err != nil || envs != nil {
		t.Fatalf("Enqueue of nothing = %v, %v", envs, err)
	}
}

// A payload whose message declares its events can only be published under one of them: a
// producer that renamed a type (or picked the wrong stream) fails at once, in its own tests,
// instead of its consumers dead-lettering the event.
func TestEnqueueRefusesEventsTheirPayloadDoesNotDeclare(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	w := outbox.Writer{Producer: "timeexpense"}
	approved := &timeexpensev1.EntriesApproved{}
	for name, e := range map[string]outbox.Event{
		"renamed type":           {Stream: timeexpensev1.EventStream, Type: "time_entries.approvedd", Payload: approved},
		"another message's type": {Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesReversed, Payload: approved},
		"wrong stream":           {Stream: billingv1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesApproved, Payload: approved},
	} {
		ok := outbox.Event{Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesApproved, Subject: "ts-1", Payload: approved}
		e.Subject = "ts-2"
		if _, err := w.Enqueue(ctx, db.Pool, ok, e); !errors.Is(err, outbox.ErrUndeclared) {
			t.Errorf("%s: Enqueue = %v, want ErrUndeclared", name, err)
		}
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("outbox has %d rows after refused batches, want 0", n)
	}
	// The declared names pass (a payload that declares nothing, like the wrapperspb strings of the
	// other tests, passes too).
	envs := enqueue(t, ctx, db, w,
		outbox.Event{Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesApproved, Subject: "ts-1", Payload: approved},
		outbox.Event{Stream: timeexpensev1.EventStream, Type: timeexpensev1.EventTypeTimeEntriesReversed, Subject: "ts-1", Payload: &timeexpensev1.EntriesReversed{}})
	if len(envs) != 2 {
		t.Fatalf("enqueued %d declared events, want 2", len(envs))
	}
}
