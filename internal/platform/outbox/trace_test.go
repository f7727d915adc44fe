package outbox_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// An event carries the trace of the request that wrote it: the envelope holds the W3C context of
// the outbox write (a child of the request's span), and the relay's publish span hangs under that
// write. Untraced writes carry nothing. Not parallel: the tracer provider is process-wide (the
// parallel tests of this package wait until it is off again).
func TestEventsCarryTheTraceOfTheRequestThatWroteThem(t *testing.T) {
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	rdb, prefix := redistest.New(t)
	w := outbox.Writer{Producer: "timeexpense"}

	untraced := enqueue(t, ctx, db, w, event("timeexpense.events", "time.approved", "entry-0", "1h"))
	if c := untraced[0].GetTraceContext(); len(c) != 0 {
		t.Errorf("an event written with tracing off carries %v", c)
	}
	relay := outbox.NewRelay(db.Pool, rdb, outbox.RelayConfig{StreamPrefix: prefix}, quietLogger())
	if _, err := relay.PublishOnce(ctx); err != nil {
		t.Fatal(err)
	}

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	telemetry.Use(tp)
	t.Cleanup(telemetry.Off)
	rctx, root := telemetry.Start(ctx, "request")
	envs := enqueue(t, rctx, db, w, event("timeexpense.events", "time.approved", "entry-1", "8h"),
		event("timeexpense.events", "time.approved", "entry-2", "4h"))
	root.End()
	if n, err := relay.PublishOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("PublishOnce = %d, %v; want 2", n, err)
	}

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	write := byName["outbox.write timeexpense.events"]
	if len(write) != 1 || write[0].Parent().SpanID() != root.SpanContext().SpanID() {
		t.Fatalf("outbox write spans %v, want one under the request", write)
	}
	for _, env := range envs {
		sc := telemetry.SpanContextOf(env.GetTraceContext())
		if sc.TraceID() != root.SpanContext().TraceID() || sc.SpanID() != write[0].SpanContext().SpanID() {
			t.Errorf("event %s carries %v, want the outbox write's context", env.GetEventId(), env.GetTraceContext())
		}
	}
	publish := byName["outbox.publish "+prefix+"timeexpense.events"]
	if len(publish) != 2 {
		t.Fatalf("%d publish spans, want one per traced event (2)", len(publish))
	}
	for _, p := range publish {
		if p.Parent().SpanID() != write[0].SpanContext().SpanID() || p.SpanContext().TraceID() != root.SpanContext().TraceID() {
			t.Errorf("publish span %v is not under the outbox write", p.SpanContext())
		}
	}
}
