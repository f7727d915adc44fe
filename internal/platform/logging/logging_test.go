package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/logging"
)

// Not parallel: New replaces the default logger.
func TestLogsCarryCorrelationIDs(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	var buf bytes.Buffer
	log := logging.New(&buf, "billing", "info")

	ctx := correlation.WithCausation(correlation.With(context.Background(), "corr-1"), "evt-9")
	log.With("component", "relay").InfoContext(ctx, "published", "n", 3)
	log.DebugContext(ctx, "hidden at info level")
	slog.WarnContext(ctx, "through the default logger")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if rec["correlation_id"] != "corr-1" || rec["causation_id"] != "evt-9" || rec["service"] != "billing" {
			t.Errorf("log record = %v", rec)
		}
	}
	if !strings.Contains(lines[0], `"component":"relay"`) {
		t.Errorf("With attributes lost: %s", lines[0])
	}
}

// A line written for traced work names its trace and span; untraced work names none.
// Not parallel: New replaces the default logger.
func TestLogsOfTracedWorkNameTheirTrace(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	var buf bytes.Buffer
	log := logging.New(&buf, "billing", "info")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.InfoContext(ctx, "posted")
	log.InfoContext(context.Background(), "untraced")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var traced, plain map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &traced); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &plain); err != nil {
		t.Fatal(err)
	}
	if traced["trace_id"] != tid.String() || traced["span_id"] != sid.String() {
		t.Errorf("traced line = %v", traced)
	}
	if _, ok := plain["trace_id"]; ok {
		t.Errorf("untraced line names a trace: %v", plain)
	}
}
