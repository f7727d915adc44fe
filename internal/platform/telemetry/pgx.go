package telemetry

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// PGTracer traces Postgres statements, batches and COPYs as client spans named by their
// operation ("SELECT", "INSERT outbox" for a COPY), with the statement text (never its
// arguments: they hold rates and personal data). It only traces work done for a traced request
// or event (ctx already holds a span): background polls (the relay's claim, readiness pings,
// consumer inbox sweeps) would otherwise start a root trace each every second.
type PGTracer struct{}

var (
	_ pgx.QueryTracer    = PGTracer{}
	_ pgx.BatchTracer    = PGTracer{}
	_ pgx.CopyFromTracer = PGTracer{}
)

// maxQueryText bounds the statement text kept on a span.
const maxQueryText = 2048

func (PGTracer) start(ctx context.Context, conn *pgx.Conn, name string, attrs ...attribute.KeyValue) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	attrs = append(attrs, attribute.String("db.system.name", "postgresql"))
	if conn != nil {
		attrs = append(attrs, attribute.String("db.namespace", conn.Config().Database))
	}
	ctx, span := Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, pgSpanKey{}, span)
}

// pgSpanKey marks the context of a statement this tracer started a span for: the end hooks
// must not end a caller's span when the statement was not traced.
type pgSpanKey struct{}

func pgSpan(ctx context.Context) trace.Span {
	if s, ok := ctx.Value(pgSpanKey{}).(trace.Span); ok && s.IsRecording() {
		return s
	}
	return nil
}

func end(ctx context.Context, err error) {
	if span := pgSpan(ctx); span != nil {
		End(span, err)
	}
}

// TraceQueryStart implements pgx.QueryTracer.
func (t PGTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	op := operation(data.SQL)
	return t.start(ctx, conn, op, attribute.String("db.operation.name", op), attribute.String("db.query.text", truncate(data.SQL)))
}

// TraceQueryEnd implements pgx.QueryTracer.
func (PGTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if span := pgSpan(ctx); span != nil && data.Err == nil {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", data.CommandTag.RowsAffected()))
	}
	end(ctx, data.Err)
}

// TraceBatchStart implements pgx.BatchTracer: one span per batch, one event per statement.
func (t PGTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return t.start(ctx, conn, "BATCH", attribute.Int("db.operation.batch.size", data.Batch.Len()))
}

// TraceBatchQuery implements pgx.BatchTracer.
func (PGTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	span := pgSpan(ctx)
	if span == nil {
		return
	}
	attrs := []attribute.KeyValue{attribute.String("db.query.text", truncate(data.SQL))}
	if data.Err != nil {
		attrs = append(attrs, attribute.String("error", data.Err.Error()))
	}
	span.AddEvent(operation(data.SQL), trace.WithAttributes(attrs...))
}

// TraceBatchEnd implements pgx.BatchTracer.
func (PGTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(ctx, data.Err)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (t PGTracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	table := data.TableName.Sanitize()
	return t.start(ctx, conn, "COPY "+table, attribute.String("db.operation.name", "COPY"), attribute.String("db.collection.name", table))
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (PGTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromEndData) {
	if span := pgSpan(ctx); span != nil && data.Err == nil {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", data.CommandTag.RowsAffected()))
	}
	end(ctx, data.Err)
}

// operation is the statement's first keyword, upper-cased ("SELECT", "WITH", "BEGIN").
func operation(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	if i := strings.IndexAny(sql, " \t\r\n(;"); i >= 0 {
		sql = sql[:i]
	}
	if sql == "" {
		return "SQL"
	}
	return strings.ToUpper(sql)
}

func truncate(s string) string {
	if len(s) <= maxQueryText {
		return s
	}
	return s[:maxQueryText] + "…"
}
