package stream_test

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/stream"
)

// These tests read a stream the contracts declare (timeexpense.events), so the consumer checks
// every entry against the event catalogue before its handler sees it.

// timeHandler applies approved time entries and has no route for anything else.
func timeHandler(rec *recorder) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		rec.record(msgs)
		for _, m := range msgs {
			switch m.Payload.(type) {
			case *timeexpensev1.EntriesApproved:
				if err := applyEffects(ctx, m); err != nil {
					return err
				}
			default:
				return stream.Unroutable(m)
			}
		}
		return nil
	}
}

// timeEnv is an env whose consumer reads timeexpense.events for types.
func timeEnv(t *testing.T, rec *recorder, types ...string) (env, *stream.Consumer) {
	t.Helper()
	e := newEnv(t)
	if err := e.rdb.XGroupCreateMkStream(context.Background(), e.prefix+timeexpensev1.EventStream, testGroup, "0").Err(); err != nil {
		t.Fatal(err)
	}
	c := e.consumer(t, stream.Config{Stream: timeexpensev1.EventStream, Types: types, BatchSize: 10}, timeHandler(rec))
	return e, c
}

func (e env) publishTime(t *testing.T, envs ...*commonv1.EventEnvelope) {
	t.Helper()
	for _, env := range envs {
		xadd(t, e.rdb, e.prefix+timeexpensev1.EventStream, env)
	}
}

// expectDeadLetters checks that exactly the events wantIDs were dead-lettered, at their first
// delivery, with reason, recorded as open exceptions, never applied, and that nothing stays
// pending.
func (e env) expectDeadLetters(t *testing.T, reason string, wantIDs ...string) {
	t.Helper()
	ctx := context.Background()
	dlq := e.deadLetters(t, timeexpensev1.EventStream)
	var got []string
	for _, d := range dlq {
		got = append(got, d.Values["event_id"].(string))
		if d.Values["reason"] != reason || d.Values["deliveries"] != "1" || d.Values["source_stream"] != timeexpensev1.EventStream {
			t.Errorf("dead letter %v: want reason %s at delivery 1 from %s", d.Values, reason, timeexpensev1.EventStream)
		}
	}
	if !slices.Equal(got, wantIDs) {
		t.Fatalf("dead-lettered events = %v, want %v", got, wantIDs)
	}
	kind := stream.DeadLetterKind(testGroup, timeexpensev1.EventStream)
	if n, err := e.queue.CountOpen(ctx, kind, reason); err != nil || n != int64(len(wantIDs)) {
		t.Fatalf("open %s exceptions = %d, %v; want %d", reason, n, err, len(wantIDs))
	}
	if n, err := e.queue.CountOpen(ctx, "", ""); err != nil || n != int64(len(wantIDs)) {
		t.Fatalf("open exceptions = %d, %v; want %d", n, err, len(wantIDs))
	}
	for _, id := range wantIDs {
		if got := effects(t, e.db, id); got != 0 {
			t.Errorf("dead-lettered event %s has %d effects", id, got)
		}
	}
	if p := pending(t, e.rdb, e.prefix+timeexpensev1.EventStream, testGroup); p != 0 {
		t.Fatalf("%d entries pending, want 0", p)
	}
}

func approved(t *testing.T, subject string) *commonv1.EventEnvelope {
	return envelopeOf(t, timeexpensev1.EventTypeTimeEntriesApproved, subject, "corr-"+subject, &timeexpensev1.EntriesApproved{})
}

// A producer renamed its type: the consumer must not skip the event as "not mine" (its effects
// would be lost without a trace) but dead-letter it.
func TestConsumerDeadLettersATypeNoContractDeclares(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	rec := newRecorder()
	e, c := timeEnv(t, rec, timeexpensev1.EventTypeTimeEntriesApproved)
	before, after := approved(t, "before"), approved(t, "after")
	renamed := envelopeOf(t, "time_entries.approvedd", "renamed", "corr-renamed", &timeexpensev1.EntriesApproved{})
	// Declared on the stream but not applied by this handler: acknowledged unread.
	reversed := envelopeOf(t, timeexpensev1.EventTypeTimeEntriesReversed, "reversed", "corr-reversed", &timeexpensev1.EntriesReversed{})
	e.publishTime(t, before, renamed, reversed, after)

	if n, err := c.ReadOnce(ctx); err != nil || n != 4 {
		t.Fatalf("ReadOnce = %d, %v; want 4", n, err)
	}
	if effects(t, e.db, before.GetEventId()) != 1 || effects(t, e.db, after.GetEventId()) != 1 || effects(t, e.db, "") != 2 {
		t.Fatalf("effects = %d, want the two approved events applied once each", effects(t, e.db, ""))
	}
	if rec.seen(renamed.GetEventId()) || rec.seen(reversed.GetEventId()) {
		t.Fatalf("the handler was given an event it does not apply: %v", rec.calls())
	}
	e.expectDeadLetters(t, stream.ReasonTypeUnknown, renamed.GetEventId())
	list, err := e.queue.List(ctx, exceptions.Filter{Reason: stream.ReasonTypeUnknown})
	if err != nil || len(list) != 1 || list[0].EntityType != "time_entries.approvedd" || list[0].EntityID != "renamed" {
		t.Fatalf("exceptions = %+v, %v; want one naming the unknown type and its subject", list, err)
	}
}

// An event of a subscribed type whose payload is not the declared message is dead-lettered
// before the handler sees it.
func TestConsumerDeadLettersAPayloadOtherThanTheContractDeclares(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	rec := newRecorder()
	e, c := timeEnv(t, rec, timeexpensev1.EventTypeTimeEntriesApproved)
	good := approved(t, "good")
	wrong := func(subject string, p proto.Message) *commonv1.EventEnvelope {
		return envelopeOf(t, timeexpensev1.EventTypeTimeEntriesApproved, subject, "corr-"+subject, p)
	}
	reversal, str := wrong("reversal", &timeexpensev1.EntriesReversed{}), wrong("string", wrapperspb.String("8h"))
	e.publishTime(t, reversal, good, str)

	if n, err := c.ReadOnce(ctx); err != nil || n != 3 {
		t.Fatalf("ReadOnce = %d, %v; want 3", n, err)
	}
	if effects(t, e.db, good.GetEventId()) != 1 || effects(t, e.db, "") != 1 {
		t.Fatalf("effects = %d, want only the good event applied", effects(t, e.db, ""))
	}
	if rec.seen(reversal.GetEventId()) || rec.seen(str.GetEventId()) {
		t.Fatalf("the handler was given a mismatched payload: %v", rec.calls())
	}
	e.expectDeadLetters(t, stream.ReasonPayloadMismatch, reversal.GetEventId(), str.GetEventId())
}

// A handler with no route for a payload returns stream.Unroutable: the event is dead-lettered at
// its first delivery (redelivering cannot help), the rest of the batch is applied.
func TestConsumerDeadLettersUnroutablePayloadsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	rec := newRecorder()
	e, c := timeEnv(t, rec, timeexpensev1.EventTypes...)
	first, last := approved(t, "first"), approved(t, "last")
	reversed := envelopeOf(t, timeexpensev1.EventTypeTimeEntriesReversed, "reversed", "corr-reversed", &timeexpensev1.EntriesReversed{})
	e.publishTime(t, first, reversed, last)

	if n, err := c.ReadOnce(ctx); err != nil || n != 3 {
		t.Fatalf("ReadOnce = %d, %v; want 3", n, err)
	}
	if effects(t, e.db, first.GetEventId()) != 1 || effects(t, e.db, last.GetEventId()) != 1 {
		t.Fatalf("effects = %d, want both approved events applied", effects(t, e.db, ""))
	}
	if d := rec.deliveriesOf(reversed.GetEventId()); len(d) == 0 || slices.Max(d) != 1 {
		t.Fatalf("deliveries of the unroutable event = %v, want only the first", d)
	}
	e.expectDeadLetters(t, stream.ReasonUnroutable, reversed.GetEventId())

	// Retrying cannot help while the handler has no route: the exception stays open.
	list, err := e.queue.List(ctx, exceptions.Filter{Reason: stream.ReasonUnroutable})
	if err != nil || len(list) != 1 {
		t.Fatalf("exceptions = %v, %v", list, err)
	}
	ex, err := e.queue.Retry(ctx, list[0].ID, "ops-alice")
	if err != nil || ex.Status != exceptions.StatusOpen || ex.Reason != stream.ReasonUnroutable {
		t.Fatalf("retry of an unroutable event = %+v, %v; want still open", ex, err)
	}
}
