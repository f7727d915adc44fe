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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/accrue/accrue/gateway/internal/ratelimit"
	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
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
			if p := recover(); p == http.ErrAbortHandler {
				// A handler broke off a response already under way: net/http drops the
				// connection, so the client never takes a cut stream for a whole one.
				defer panic(p)
			} else if p != nil {
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
			// Probes, and refusals a runaway client can multiply (logged once a minute by
			// warnLimited and counted), stay out of the info log.
			if route == "probe" && rec.status < 400 || rec.status == http.StatusTooManyRequests {
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
	case path == "/healthz" || path == "/readyz":
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
		client := p.ClientID
		if client == "" {
			client = p.Subject
		}
		if ok, wait := g.opts.ClientLimit.Allow(client); !ok {
			clientLimited.Inc()
			g.limitLog.warn(r.Context(), g.opts.Logger, "client", client)
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
			writeProblem(w, r, Problem{Status: http.StatusTooManyRequests, Reason: ReasonRateLimited,
				Detail: "this client is over its request rate; retry after the Retry-After delay"})
			return
		}
		if !idempotencyKeyHeader(w, r) {
			return
		}
		ctx, cancel := context.WithTimeout(auth.WithPrincipal(r.Context(), p), g.opts.UpstreamTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ReasonRateLimited is the reason of a request refused by a rate limit (429 with Retry-After).
const ReasonRateLimited = webhook.ReasonRateLimited

var clientLimited = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "accrue_gateway_client_rate_limited_total", Help: "API requests refused because their client was over its rate (429).",
})

// limitLog writes one warning per limited key and minute, however many requests are refused.
type limitLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *limitLog) warn(ctx context.Context, log *slog.Logger, kind, key string) {
	now := time.Now()
	l.mu.Lock()
	if l.last == nil || len(l.last) > 10000 {
		l.last = map[string]time.Time{}
	}
	due := now.Sub(l.last[key]) >= time.Minute
	if due {
		l.last[key] = now
	}
	l.mu.Unlock()
	if due {
		log.WarnContext(ctx, "gateway: rate limit reached; further refusals are only counted for a minute", "limit", kind, "key", key)
	}
}

// deadlineUnary gives an upstream call that has no deadline yet the gateway's upstream timeout.
func deadlineUnary(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
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

// idempotencyKeyHeader parses the Idempotency-Key header with the services' own parser
// (idempotency.ParseKey: one sf-string, or a legacy bare key) and forwards it in the draft's
// quoted form, so `"k"` and `k` reach the service as one key. A malformed key — two headers, a
// list, an empty or over-long key — answers 400 IDEMPOTENCY_KEY_INVALID naming the header, before
// any upstream call; it reports whether the request may go on.
func idempotencyKeyHeader(w http.ResponseWriter, r *http.Request) bool {
	key, present, err := idempotency.ParseKey(r.Header.Values(idempotency.Header))
	if err != nil {
		fe, _ := fault.As(err)
		p := Problem{Status: http.StatusBadRequest, Reason: fe.Reason, Detail: fe.Message}
		for _, v := range fe.Violations {
			p.Violations = append(p.Violations, Violation{Field: v.Field, Description: v.Description})
		}
		writeProblem(w, r, p)
		return false
	}
	if present {
		r.Header.Set(idempotency.Header, idempotency.FormatKey(key))
	}
	return true
}
