package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/accrue/accrue/internal/platform/config"
)

// InstrumentationName names the tracer of Accrue's own spans.
const InstrumentationName = "github.com/accrue/accrue"

// Config is what Setup needs; Load reads it from the environment.
type Config struct {
	// Endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT: tracing is
	// on when it is set. The exporter reads it (and the other OTEL_EXPORTER_OTLP_* variables) itself.
	Endpoint string
	// ServiceName is the resource's service.name (OTEL_SERVICE_NAME overrides it).
	ServiceName string
	// ServiceVersion is the resource's service.version.
	ServiceVersion string
}

// Load reads the telemetry configuration of the process named name. Only the OTLP/gRPC
// protocol is built in: another OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL is a configuration error.
func Load(r *config.Reader, name, version string) Config {
	c := Config{
		Endpoint:       r.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", r.String("OTEL_EXPORTER_OTLP_ENDPOINT", "")),
		ServiceName:    name,
		ServiceVersion: version,
	}
	proto := r.String("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", r.String("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"))
	if c.Endpoint != "" && proto != "grpc" {
		r.Fail(fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: only grpc is supported", proto))
	}
	return c
}

var enabled atomic.Bool

// Enabled reports whether Setup installed an exporting provider (or a test did, see Use).
func Enabled() bool { return enabled.Load() }

// Setup installs the global tracer provider and the W3C trace-context propagator when
// cfg.Endpoint is set, and returns the function that flushes and stops it (call it last, on
// shutdown). With no endpoint it changes nothing and returns a no-op shutdown.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	if cfg.Endpoint == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", cfg.ServiceName), attribute.String("service.version", cfg.ServiceVersion)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	// The sampler (OTEL_TRACES_SAMPLER, default parentbased_always_on) and the batch processor's
	// limits (OTEL_BSP_*) come from the environment.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	Use(tp)
	return func(ctx context.Context) error {
		enabled.Store(false)
		return tp.Shutdown(ctx)
	}, nil
}

// Use installs tp as the global provider with the W3C propagator and turns the platform's
// instrumentation on; tests use it with an in-memory exporter.
func Use(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	enabled.Store(true)
}

// Off turns the platform's instrumentation off again and restores the no-op provider (tests
// that called Use clean up with it).
func Off() {
	enabled.Store(false)
	otel.SetTracerProvider(noop.NewTracerProvider())
}

// Tracer is the tracer of Accrue's own spans.
func Tracer() trace.Tracer { return otel.Tracer(InstrumentationName) }

// Start starts a span of Accrue's own (a posting batch, an outbox write) as a child of ctx's.
// With tracing off it returns ctx and a no-op span.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !Enabled() {
		return ctx, noop.Span{}
	}
	return Tracer().Start(ctx, name, opts...)
}

// End records err (when not nil) on span and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
