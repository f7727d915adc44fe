package stream_test

import (
	"context"
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// A consumer applying one traced event continues the trace the envelope carries, so the
// handler's work (and its statements) joins the request that caused the event; a batch of
// events from different traces gets a span of its own, linked to each. Not parallel: the tracer
// provider is process-wide.
func TestConsumerSpansFollowTheEventsTrace(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t)
	e.createGroup(t, testGroup)
	rec := tracetest.NewSpanRecorder()
	telemetry.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(telemetry.Off)

	produce := func(n int) []trace.SpanContext {
		var scs []trace.SpanContext
		for i := range n {
			pctx, span := telemetry.Start(context.Background(), fmt.Sprintf("request %d", i))
			env := newEnvelope(t, fmt.Sprintf("entry-%d", i), "8h", "corr")
			env.TraceContext = telemetry.Inject(pctx)
			span.End()
			xadd(t, e.rdb, e.stream(), env)
			scs = append(scs, span.SpanContext())
		}
		return scs
	}
	var handled []trace.SpanContext
	c := e.consumer(t, stream.Config{BatchSize: 10}, func(ctx context.Context, msgs []stream.Message) error {
		handled = append(handled, trace.SpanContextFromContext(ctx))
		return nil
	})

	one := produce(1)
	if n, err := c.ReadOnce(ctx); err != nil || n != 1 {
		t.Fatalf("ReadOnce = %d, %v; want 1", n, err)
	}
	batch := produce(3)
	if n, err := c.ReadOnce(ctx); err != nil || n != 3 {
		t.Fatalf("ReadOnce = %d, %v; want 3", n, err)
	}

	var process []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == testStream+" process" {
			process = append(process, s)
		}
	}
	if len(process) != 2 || len(handled) != 2 {
		t.Fatalf("%d process spans, %d handler calls; want 2 and 2", len(process), len(handled))
	}
	single, multi := process[0], process[1]
	if single.SpanContext().TraceID() != one[0].TraceID() || single.Parent().SpanID() != one[0].SpanID() {
		t.Errorf("the single event's process span is not under its producer")
	}
	if handled[0].TraceID() != one[0].TraceID() || handled[0].SpanID() != single.SpanContext().SpanID() {
		t.Errorf("the handler of the single event did not run in its process span")
	}
	if single.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("process span kind %v, want consumer", single.SpanKind())
	}
	if len(multi.Links()) != 3 || multi.Parent().IsValid() {
		t.Fatalf("batch span: %d links, parent %v; want 3 links and no parent", len(multi.Links()), multi.Parent())
	}
	for i, l := range multi.Links() {
		if l.SpanContext.SpanID() != batch[i].SpanID() {
			t.Errorf("link %d goes to %v, want event %d's producer %v", i, l.SpanContext.SpanID(), i, batch[i].SpanID())
		}
	}
}
