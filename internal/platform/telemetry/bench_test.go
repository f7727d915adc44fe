package telemetry_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkStatement measures what tracing adds to one Postgres round trip (SELECT 1 on a
// pool) issued for a traced request: "off" is the untraced deployment (no pgx tracer), "on"
// traces it through the batch processor into an exporter that drops the spans. Compare the two
// in the same run: the ratio, not the absolute time, is the result on a shared machine.
func BenchmarkStatement(b *testing.B) {
	db := pgtest.New(b, nil)
	ctx := context.Background()
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "on" {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
				telemetry.Use(tp)
				defer func() {
					telemetry.Off()
					_ = tp.Shutdown(ctx)
				}()
			}
			pool, err := pg.Connect(ctx, db.URL, 2)
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			rctx, root := telemetry.Start(ctx, "request")
			defer root.End()
			b.ResetTimer()
			for b.Loop() {
				if _, err := pool.Exec(rctx, `SELECT 1`); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEventSpan measures an outbox write's own cost with tracing on and off: a span and
// the W3C carrier injected into the envelope.
func BenchmarkEventSpan(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "on" {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
				telemetry.Use(tp)
				defer func() {
					telemetry.Off()
					_ = tp.Shutdown(ctx)
				}()
			}
			for b.Loop() {
				sctx, span := telemetry.Start(ctx, "outbox.write")
				_ = telemetry.Inject(sctx)
				span.End()
			}
		})
	}
}
