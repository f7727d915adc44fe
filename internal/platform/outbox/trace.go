package outbox

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// publishSpans starts, for each row whose envelope carries a trace context, a producer span
// (the relay's XADD of that event) in the trace of the request that wrote it. Rows written
// untraced get none: the relay's own polling starts no trace. Nothing is decoded with tracing off.
func publishSpans(ctx context.Context, stream string, rows []row) []trace.Span {
	if !telemetry.Enabled() {
		return nil
	}
	var spans []trace.Span
	for _, x := range rows {
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal(x.envelope, &env); err != nil {
			continue // the consumers dead-letter it; nothing to trace
		}
		_, span, ok := telemetry.StartProducer(ctx, "outbox.publish "+stream, telemetry.SpanContextOf(env.GetTraceContext()),
			attribute.String("messaging.system", "redis"), attribute.String("messaging.destination.name", stream),
			attribute.String("messaging.operation.type", "send"), attribute.String("messaging.message.id", x.eventID),
			attribute.String("accrue.event.type", x.evType), attribute.Int("messaging.batch.message_count", len(rows)))
		if ok {
			spans = append(spans, span)
		}
	}
	return spans
}

func endSpans(spans []trace.Span, err error) {
	for _, s := range spans {
		telemetry.End(s, err)
	}
}
