package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/rpcspec"
)

// methodOverrideHeaders are dropped: a request is what its HTTP method says it is.
var methodOverrideHeaders = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// edge wraps every request: panic recovery, correlation id in and out, method-override headers
// dropped, body size limit, one log line and metrics.
func (g *Gateway) edge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(correlation.Header)
		if !correlation.Valid(id) {
			id = correlation.NewID()
		}
		r.Header.Set(correlation.Header, id)
		w.Header().Set(correlation.Header, id)
		ctx := correlation.With(r.Context(), id)
		for _, h := range methodOverrideHeaders {
			r.Header.Del(h)
		}
		r.Body = http.MaxBytesReader(w, r.Body, g.opts.MaxBodyBytes)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				g.opts.Logger.ErrorContext(ctx, "panic in gateway", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeProblem(rec, r, Problem{Status: http.StatusInternalServerError, Reason: "INTERNAL",
						Detail: "internal error; quote correlation id " + id + " to support"})
				}
			}
			route := routeGroup(r.URL.Path)
			httpTotal.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
			httpSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			} else if rec.status >= 400 {
				level = slog.LevelWarn
			}
			if route == "probe" && rec.status < 400 {
				level = slog.LevelDebug
			}
			g.opts.Logger.Log(ctx, level, "http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

// routeGroup keeps metric label cardinality bounded.
func routeGroup(path string) string {
	switch {
	case path == "/healthz" || path == "/readyz" || path == "/metrics":
		return "probe"
	case strings.HasPrefix(path, "/webhooks/"):
		return "webhook"
	case strings.HasPrefix(path, "/v1/ops/"):
		return "ops"
	case strings.HasPrefix(path, "/v1/"):
		parts := strings.SplitN(strings.TrimPrefix(path, "/v1/"), "/", 2)
		return "/v1/" + strings.SplitN(parts[0], ":", 2)[0]
	}
	return "other"
}

// authenticated requires a valid bearer token and carries its principal to the scope check.
func (g *Gateway) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.opts.Verifier.Verify(r.Context(), auth.BearerToken(r.Header.Get("Authorization")))
		if err != nil {
			fe, _ := fault.As(err)
			g.opts.Logger.WarnContext(r.Context(), "gateway: token refused", "reason", fe.Reason, "err", errors.Unwrap(err))
			w.Header().Set("WWW-Authenticate", `Bearer realm="accrue"`)
			writeProblem(w, r, Problem{Status: http.StatusUnauthorized, Reason: fe.Reason, Detail: fe.Message})
			return
		}
		ctx, cancel := context.WithTimeout(auth.WithPrincipal(r.Context(), p), g.opts.UpstreamTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// scopeUnary refuses, before any upstream call, an operation whose contract scope the caller's
// token lacks (403). The service checks again: the gateway is not the only way in.
func scopeUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if p, ok := auth.FromContext(ctx); ok {
		m := rpcspec.Lookup(method)
		if m.Scope == "" || !p.HasScope(m.Scope) {
			fe := fault.New(fault.PermissionDenied, auth.ReasonScopeMissing, "this call needs the %q scope", m.Scope)
			fe.Metadata = map[string]string{"required_scope": m.Scope}
			return grpcx.ToStatus(ctx, fe)
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}
