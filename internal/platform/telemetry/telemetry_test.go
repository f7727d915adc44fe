package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// record turns tracing on with an in-memory recorder until the test ends. Tests of this package
// do not run in parallel: the provider is process-wide.
func record(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	telemetry.Use(tp)
	t.Cleanup(func() {
		telemetry.Off()
		_ = tp.Shutdown(context.Background())
	})
	return rec
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// Without an endpoint tracing stays off: nothing is instrumented and envelopes carry nothing.
func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	cfg := telemetry.Load(config.FromMap(map[string]string{}), "billing", "1.2.3")
	shutdown, err := telemetry.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background()) //nolint:errcheck
	if telemetry.Enabled() {
		t.Fatal("tracing is on without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if n := len(telemetry.ServerOptions()) + len(telemetry.DialOptions()); n != 0 {
		t.Errorf("%d gRPC options with tracing off, want none", n)
	}
	if c := telemetry.Inject(context.Background()); c != nil {
		t.Errorf("envelope carrier %v with tracing off, want none", c)
	}
	mux := http.NewServeMux()
	if got := telemetry.HTTPHandler(mux); got != http.Handler(mux) {
		t.Errorf("HTTPHandler wrapped the handler with tracing off")
	}
}

// The endpoint turns tracing on; a protocol other than OTLP/gRPC is refused at start.
func TestTracingConfiguration(t *testing.T) {
	r := config.FromMap(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
	if c := telemetry.Load(r, "project", "1.0.0"); c.Endpoint != "http://collector:4317" || c.ServiceName != "project" || r.Err() != nil {
		t.Errorf("config %+v, err %v", c, r.Err())
	}
	r = config.FromMap(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
	telemetry.Load(r, "project", "1.0.0")
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "only grpc") {
		t.Errorf("http/protobuf accepted: %v", r.Err())
	}
}

// Statements run for a traced request are child spans named by their operation, carrying the
// statement text and never its arguments; statements outside any trace start none.
func TestPostgresStatementsAreTracedUnderTheirRequest(t *testing.T) {
	rec := record(t)
	db := pgtest.New(t, nil) // its pool is opened with tracing on
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := db.Pool.Exec(ctx, `SELECT 1`); err != nil { // no trace: no span
		t.Fatal(err)
	}
	rctx, root := telemetry.Start(ctx, "request")
	var got string
	if err := db.Pool.QueryRow(rctx, `SELECT $1::text`, "rate-123.45").Scan(&got); err != nil {
		t.Fatal(err)
	}
	var b pgx.Batch
	b.Queue(`SELECT 1`)
	b.Queue(`SELECT 2`)
	if err := db.Pool.SendBatch(rctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(rctx, `SELECT * FROM no_such_table`); err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	root.End()

	var names []string
	for _, s := range rec.Ended() {
		if s.Name() == "request" {
			continue
		}
		names = append(names, s.Name())
		if s.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Errorf("statement span %q is not a child of the request", s.Name())
		}
		if v, ok := attr(s, "db.system.name"); !ok || v.AsString() != "postgresql" {
			t.Errorf("span %q: db.system.name %v", s.Name(), v)
		}
		if v, _ := attr(s, "db.query.text"); strings.Contains(v.AsString(), "rate-123.45") {
			t.Errorf("span %q carries an argument: %q", s.Name(), v.AsString())
		}
	}
	if want := []string{"SELECT", "BATCH", "SELECT"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("statement spans %v, want %v", names, want)
	}
	ended := rec.Ended()
	if failed := ended[len(ended)-2]; failed.Status().Code.String() != "Error" {
		t.Errorf("the failed statement's span has status %v, want Error", failed.Status())
	}
	if batch := ended[1]; len(batch.Events()) != 2 {
		t.Errorf("the batch span has %d statement events, want 2", len(batch.Events()))
	}
}

// A consumer applying one traced event continues its trace; a batch starts its own trace and
// links to every event's.
func TestConsumerSpansContinueOneEventAndLinkABatch(t *testing.T) {
	rec := record(t)
	ctx := context.Background()
	var carried []trace.SpanContext
	for _, name := range []string{"request A", "request B"} {
		rctx, span := telemetry.Start(ctx, name)
		c := telemetry.Inject(rctx)
		if c["traceparent"] == "" {
			t.Fatalf("no traceparent injected: %v", c)
		}
		carried = append(carried, telemetry.SpanContextOf(c))
		span.End()
	}
	_, one, ok := telemetry.StartConsumer(ctx, "events process", carried[:1])
	if !ok {
		t.Fatal("no consumer span for a traced event")
	}
	one.End()
	_, batch, _ := telemetry.StartConsumer(ctx, "events process", carried)
	batch.End()
	if _, _, ok := telemetry.StartConsumer(ctx, "events process", []trace.SpanContext{{}}); ok {
		t.Error("a consumer span was started for an untraced event")
	}

	ended := rec.Ended()
	single, multi := ended[2], ended[3]
	if single.SpanContext().TraceID() != carried[0].TraceID() || single.Parent().SpanID() != carried[0].SpanID() {
		t.Errorf("the single event's span is not the child of the producer's")
	}
	if multi.SpanContext().TraceID() == carried[0].TraceID() || multi.SpanContext().TraceID() == carried[1].TraceID() {
		t.Errorf("the batch span joined one event's trace")
	}
	if links := multi.Links(); len(links) != 2 || links[0].SpanContext.SpanID() != carried[0].SpanID() ||
		links[1].SpanContext.SpanID() != carried[1].SpanID() {
		t.Errorf("the batch span links %v, want both events", links)
	}
}

// The gateway's server span continues the caller's trace and is named after the matched route,
// not the path; probes are not traced.
func TestHTTPSpansAreNamedByRoute(t *testing.T) {
	rec := record(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/{source}/entries", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	h := telemetry.HTTPHandler(mux, "/readyz")

	req := httptest.NewRequest(http.MethodPost, "/webhooks/workday/entries", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/readyz", nil))

	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1 (the probe is not traced)", len(ended))
	}
	s := ended[0]
	if s.Name() != "POST /webhooks/{source}/entries" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q (%v), want the route as a server span", s.Name(), s.SpanKind())
	}
	if s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("span does not continue the caller's trace: %v parent %v", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if v, _ := attr(s, "http.response.status_code"); v.AsInt64() != http.StatusAccepted {
		t.Errorf("status code %v, want 202", v)
	}
}

// A router inside the traced handler (the gateway's REST mux) names the span after its route.
func TestAnInnerRouterNamesTheSpan(t *testing.T) {
	rec := record(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/", func(_ http.ResponseWriter, r *http.Request) {
		telemetry.SetRoute(r.Context(), "GET /v1/projects/{project_id=*}")
	})
	telemetry.HTTPHandler(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/projects/0193", nil))
	if ended := rec.Ended(); len(ended) != 1 || ended[0].Name() != "GET /v1/projects/{project_id=*}" {
		t.Fatalf("spans %v, want one named after the inner route", ended)
	}
}
