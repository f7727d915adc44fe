package telemetry

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Inject returns the W3C trace context of ctx's span as a carrier for an event envelope
// (traceparent and, when set, tracestate), or nil when tracing is off or ctx holds no span.
func Inject(ctx context.Context) map[string]string {
	if !Enabled() || !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	if len(c) == 0 {
		return nil
	}
	return c
}

// SpanContextOf returns the remote span context carried by an envelope's trace context (the
// zero, invalid SpanContext when there is none).
func SpanContextOf(carrier map[string]string) trace.SpanContext {
	if len(carrier) == 0 {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier(carrier))
	return trace.SpanContextFromContext(ctx)
}

// StartProducer starts a producer span (an event written or published) as a child of the span
// context sc carried by an event, and returns ctx unchanged when tracing is off or sc is invalid.
func StartProducer(ctx context.Context, name string, sc trace.SpanContext, attrs ...attribute.KeyValue) (context.Context, trace.Span, bool) {
	if !Enabled() || !sc.IsValid() {
		return ctx, nil, false
	}
	ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	ctx, span := Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	return ctx, span, true
}

// StartConsumer starts the span of a consumer applying events whose carried span contexts are
// scs. One traced event: the span continues that event's trace (its parent is the producer's
// span). Several: the span starts a trace of its own and links to each event's (a batch has no
// single parent). It returns ok false, and ctx unchanged, when tracing is off or no event
// carries a trace context.
func StartConsumer(ctx context.Context, name string, scs []trace.SpanContext, attrs ...attribute.KeyValue) (context.Context, trace.Span, bool) {
	if !Enabled() {
		return ctx, nil, false
	}
	var links []trace.Link
	for _, sc := range scs {
		if sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	if len(links) == 0 {
		return ctx, nil, false
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(append(attrs, attribute.Int("messaging.batch.message_count", len(scs)))...)}
	if len(scs) == 1 {
		ctx = trace.ContextWithRemoteSpanContext(ctx, links[0].SpanContext)
	} else {
		opts = append(opts, trace.WithNewRoot(), trace.WithLinks(links...))
	}
	ctx, span := Tracer().Start(ctx, name, opts...)
	return ctx, span, true
}
