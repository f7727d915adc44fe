// Package telemetry sets up OpenTelemetry tracing for an Accrue process and holds the pieces
// that carry a trace across the places the libraries do not: Postgres statements (a pgx tracer),
// the event envelope (a W3C trace-context carrier written at outbox time) and stream consumers
// (a single event continues its producer's trace, a batch links to every event's).
//
// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set: Setup then leaves the global no-op provider in place, Enabled reports false, and the
// platform attaches no instrumentation at all (no gRPC stats handler, no pgx tracer, no envelope
// field), so an untraced deployment pays nothing. When it is on, spans go to the OTLP/gRPC
// exporter through a batch processor; the standard OTEL_* variables (sampler, batch sizes,
// headers, resource attributes) are read by the SDK itself.
//
// Everything here is safe for concurrent use. Setup is called once, by main, before the parts
// that ask Enabled are built.
package telemetry
