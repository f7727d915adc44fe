package telemetry

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HTTPHandler wraps next (an http.ServeMux or a handler that routes with one) in a server span
// per request, continuing the caller's W3C trace context. The span is named after the route
// pattern the mux matched ("POST /webhooks/timeexpense/{source}/approved-entries"), never the raw
// path (ids would make every name unique). Requests for the untraced paths (probes) get no
// span. When tracing is off (at the time of the call) it returns next itself.
func HTTPHandler(next http.Handler, untraced ...string) http.Handler {
	if !Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(untraced, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := Tracer().Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		rec := &statusWriter{ResponseWriter: w}
		route := &routeOf{}
		r = r.WithContext(context.WithValue(ctx, routeKey{}, route))
		next.ServeHTTP(rec, r)
		name := route.name // set by an inner router (SetRoute), else the ServeMux's pattern
		if name == "" && r.Pattern != "" {
			name = r.Pattern
		}
		if name != "" {
			span.SetName(name)
			span.SetAttributes(attribute.String("http.route", name))
		}
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", code))
		if code >= 500 {
			span.SetStatus(codes.Error, strconv.Itoa(code))
		}
	})
}

type routeKey struct{}

type routeOf struct{ name string }

// SetRoute names the server span of the request ctx belongs to after the route an inner router
// matched (the gateway's REST mux knows "GET /v1/projects/{project_id}" where the outer ServeMux
// only saw "/v1/"). It does nothing outside HTTPHandler.
func SetRoute(ctx context.Context, route string) {
	if r, ok := ctx.Value(routeKey{}).(*routeOf); ok {
		r.name = route
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
