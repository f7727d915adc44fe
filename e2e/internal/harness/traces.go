package harness

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// TraceCollector is an OTLP/gRPC trace receiver (the collector's TraceService) for tests: the
// processes of an Env started WithTraces export their spans to it over the real wire, so a test
// sees what an OpenTelemetry collector would.
type TraceCollector struct {
	collectortracev1.UnimplementedTraceServiceServer
	addr      string
	countOnly bool // keep no span, count them (ACCRUE_E2E_TRACES)

	mu    sync.Mutex
	spans []Span
	count int
}

// Span is one span a process exported.
type Span struct {
	Service             string // the resource's service.name
	TraceID, ID, Parent string // hex; Parent is "" for a root
	Name                string
	Kind                tracev1.Span_SpanKind
	StartNano, EndNano  uint64
	Links               []string // the trace ids of the linked spans
	Attributes          map[string]string
	StatusError         bool
}

// StartTraceCollector listens on a free local port until the test ends.
func StartTraceCollector(t testing.TB) *TraceCollector {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("harness: trace collector: %v", err)
	}
	c := &TraceCollector{addr: l.Addr().String()}
	srv := grpc.NewServer()
	collectortracev1.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return c
}

// Endpoint is the collector's OTEL_EXPORTER_OTLP_ENDPOINT.
func (c *TraceCollector) Endpoint() string { return "http://" + c.addr }

// Export implements the OTLP TraceService.
func (c *TraceCollector) Export(_ context.Context, req *collectortracev1.ExportTraceServiceRequest) (*collectortracev1.ExportTraceServiceResponse, error) {
	var got []Span
	if c.countOnly {
		n := 0
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				n += len(ss.GetSpans())
			}
		}
		c.mu.Lock()
		c.count += n
		c.mu.Unlock()
		return &collectortracev1.ExportTraceServiceResponse{}, nil
	}
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{Service: service, TraceID: hex.EncodeToString(s.GetTraceId()), ID: hex.EncodeToString(s.GetSpanId()),
					Name: s.GetName(), Kind: s.GetKind(), StartNano: s.GetStartTimeUnixNano(), EndNano: s.GetEndTimeUnixNano(),
					Attributes: map[string]string{}, StatusError: s.GetStatus().GetCode() == tracev1.Status_STATUS_CODE_ERROR}
				if p := s.GetParentSpanId(); len(p) > 0 {
					sp.Parent = hex.EncodeToString(p)
				}
				for _, l := range s.GetLinks() {
					sp.Links = append(sp.Links, hex.EncodeToString(l.GetTraceId()))
				}
				for _, a := range s.GetAttributes() {
					v := a.GetValue()
					switch {
					case v.GetStringValue() != "":
						sp.Attributes[a.GetKey()] = v.GetStringValue()
					default:
						sp.Attributes[a.GetKey()] = fmt.Sprint(v.GetIntValue())
					}
				}
				got = append(got, sp)
			}
		}
	}
	c.mu.Lock()
	c.count += len(got)
	if !c.countOnly {
		c.spans = append(c.spans, got...)
	}
	c.mu.Unlock()
	return &collectortracev1.ExportTraceServiceResponse{}, nil
}

// Trace returns the spans received so far of the trace traceID (hex), oldest first.
func (c *TraceCollector) Trace(traceID string) []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Span
	for _, s := range c.spans {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartNano < out[j].StartNano })
	return out
}

// Count returns how many spans were received so far.
func (c *TraceCollector) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Spans returns every span received so far.
func (c *TraceCollector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.spans)
}

// FormatTrace renders spans as an indented tree (service, span name, kind), children under
// their parent in start order; spans whose parent is not among them are roots.
func FormatTrace(spans []Span) string {
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.ID] = true
	}
	children := map[string][]Span{}
	for _, s := range spans {
		p := s.Parent
		if !ids[p] {
			p = ""
		}
		children[p] = append(children[p], s)
	}
	var b strings.Builder
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, s := range children[parent] {
			fmt.Fprintf(&b, "%s%-12s %s [%s, %.1f ms]\n", strings.Repeat("  ", depth), s.Service, s.Name,
				strings.TrimPrefix(s.Kind.String(), "SPAN_KIND_"), float64(s.EndNano-s.StartNano)/1e6)
			walk(s.ID, depth+1)
		}
	}
	walk("", 0)
	return b.String()
}

// tracesFromEnv: with ACCRUE_E2E_TRACES=1 every Env exports its spans to a collector of its
// own that counts and drops them (tracing's cost in any test or benchmark, e.g. MonthEnd).
func tracesFromEnv(t testing.TB) []Option {
	if os.Getenv("ACCRUE_E2E_TRACES") != "1" {
		return nil
	}
	c := StartTraceCollector(t)
	c.countOnly = true
	t.Cleanup(func() { t.Logf("harness: %d spans exported (ACCRUE_E2E_TRACES)", c.Count()) })
	return []Option{WithTraces(c.Endpoint())}
}

// WithTraces makes every process of the Env export its spans to endpoint over OTLP/gRPC
// (OTEL_EXPORTER_OTLP_ENDPOINT), in small batches sent every 100 ms.
func WithTraces(endpoint string) Option {
	return func(o *options) {
		WithEnvAll("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)(o)
		WithEnvAll("OTEL_BSP_SCHEDULE_DELAY", "100")(o)
	}
}
