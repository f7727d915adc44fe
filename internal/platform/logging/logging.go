// Package logging sets up structured JSON logs (log/slog) that carry the correlation id of the
// context they are written with. Use slog.InfoContext(ctx, ...) and friends so the id is included.
// Never log cost rates, bill rates or personal data (emails, names of people).
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/accrue/accrue/internal/platform/correlation"
)

// New returns a JSON logger for service name writing to w at the given level ("debug", "info",
// "warn", "error"). It becomes the default logger too, so library code using slog is covered.
func New(w io.Writer, service, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv})
	l := slog.New(contextHandler{h}).With("service", service)
	slog.SetDefault(l)
	return l
}

// contextHandler adds the correlation and causation ids found in the record's context, and the
// trace and span ids when the work is traced (see telemetry), so a log line leads to its trace.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := correlation.ID(ctx); id != "" {
		r.AddAttrs(slog.String("correlation_id", id))
	}
	if id := correlation.CausationID(ctx); id != "" {
		r.AddAttrs(slog.String("causation_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
