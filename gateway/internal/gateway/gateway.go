// Package gateway is Accrue's REST edge: a grpc-gateway mux over real gRPC connections to the five
// services, RFC 9457 problem+json errors, correlation ids, bearer-token checks with per-operation
// scopes read from the contracts, per-client rate limits, Idempotency-Key forwarding, an
// allow-list of headers that become gRPC metadata, request size limits, a deadline on every
// upstream call, health and readiness, the merged OpenAPI document, the webhook receivers, and
// an admin listener for metrics and profiles. A Gateway is safe for concurrent use.
package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/accrue/accrue/gateway/internal/openapi"
	"github.com/accrue/accrue/gateway/internal/ratelimit"
	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/metrics"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// Services lists the five upstreams by name, in a stable order.
var Services = []string{"customer", "project", "resource", "timeexpense", "billing"}

// Dispatcher names the outbound webhook dispatcher's upstream (SubscriptionService and its
// exception queue). Optional: without its address the gateway serves no webhook-subscription
// routes.
const Dispatcher = "dispatcher"

// Options configure a Gateway.
type Options struct {
	// Upstreams maps each service name in Services to its gRPC address. All five are required;
	// Dispatcher's is optional.
	Upstreams map[string]string
	// Verifier checks bearer tokens. Required.
	Verifier *auth.Verifier
	// Logger writes one line per request. Required.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies; 1 MiB when zero.
	MaxBodyBytes int64
	// UpstreamTimeout bounds each upstream call, REST and webhook alike; 10s when zero.
	UpstreamTimeout time.Duration
	// UpstreamTLS is the mutual-TLS client configuration of the upstream connections
	// (tlsx.Reloader.ClientConfig); nil dials plaintext (tests, ACCRUE_INSECURE_DEV).
	UpstreamTLS *tls.Config
	// Redis keeps webhook event ids (deduplication) and the webhook quarantine. Required.
	Redis redis.UniversalClient
	// Webhooks configures the webhook receivers (secrets per route and source, tolerance, key
	// prefix, limits). Its Tokens and CallTimeout are set from WebhookTokens and UpstreamTimeout.
	Webhooks webhook.Config
	// WebhookTokens are the credentials of the webhook routes (route name → token source). Each
	// must carry exactly its route's scopes (WebhookRoute.Scopes), and every route with a secret
	// needs one, unless SharedWebhookToken is set.
	WebhookTokens map[string]grpcx.TokenSource
	// SharedWebhookToken is the development fallback: routes without a token of their own use
	// this one, whatever its scopes.
	SharedWebhookToken grpcx.TokenSource
	// ClientLimit admits requests per client (the token's client id); nil admits everything.
	ClientLimit *ratelimit.Limiter
	// AdminAddr is where /metrics (and /debug/pprof/ when Pprof is set) are served; none when
	// empty. Keep it private: the public listener serves neither.
	AdminAddr string
	Pprof     bool
	// Salesforce maps each org's fields to the canonical deal; nil: the built-in mapping.
	Salesforce *translate.SalesforceMappings
}

// Gateway is the REST edge.
type Gateway struct {
	opts          Options
	conns         map[string]*grpc.ClientConn
	hooks         *webhook.Receiver
	webhookTokens map[string]grpcx.TokenSource
	handler       http.Handler
	registry      *prometheus.Registry
	limitLog      limitLog
}

var (
	httpTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_gateway_requests_total", Help: "HTTP requests by route group, method and status.",
	}, []string{"route", "method", "status"})
	httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "accrue_gateway_request_seconds", Help: "HTTP request latency by route group.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
)

// New dials the upstreams (lazily) and builds the HTTP handler.
func New(ctx context.Context, opts Options) (*Gateway, error) {
	if opts.Verifier == nil || opts.Logger == nil || opts.Redis == nil {
		return nil, errors.New("gateway: a verifier, a logger and a redis client are required")
	}
	for _, s := range Services {
		if opts.Upstreams[s] == "" {
			return nil, fmt.Errorf("gateway: the %s upstream address is required", s)
		}
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.UpstreamTimeout <= 0 {
		opts.UpstreamTimeout = 10 * time.Second
	}
	tokens, err := webhookTokens(opts)
	if err != nil {
		return nil, err
	}
	g := &Gateway{opts: opts, conns: map[string]*grpc.ClientConn{}, webhookTokens: tokens,
		registry: metrics.NewRegistry(append(webhook.Collectors(), httpTotal, httpSeconds, clientLimited)...)}
	for _, s := range Services {
		conn, err := grpcx.Dial(opts.Upstreams[s], nil, grpcx.Transport(opts.UpstreamTLS),
			grpc.WithChainUnaryInterceptor(deadlineUnary(opts.UpstreamTimeout), scopeUnary))
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: dial %s: %w", s, err)
		}
		g.conns[s] = conn
	}
	if addr := opts.Upstreams[Dispatcher]; addr != "" {
		conn, err := grpcx.Dial(addr, nil, grpcx.Transport(opts.UpstreamTLS),
			grpc.WithChainUnaryInterceptor(deadlineUnary(opts.UpstreamTimeout), scopeUnary))
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: dial %s: %w", Dispatcher, err)
		}
		g.conns[Dispatcher] = conn
	}

	api := g.newMux()
	for _, h := range []struct {
		service  string
		register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	}{
		{"customer", customerv1.RegisterCustomerServiceHandler},
		{"project", projectv1.RegisterProjectServiceHandler},
		{"resource", resourcev1.RegisterResourceServiceHandler},
		{"resource", resourcev1.RegisterAssignmentServiceHandler},
		{"timeexpense", timeexpensev1.RegisterTimeExpenseServiceHandler},
		{"billing", billingv1.RegisterLegalEntityServiceHandler},
		{"billing", billingv1.RegisterContractServiceHandler},
		{"billing", billingv1.RegisterLedgerServiceHandler},
		{"billing", billingv1.RegisterInvoiceServiceHandler},
		{"billing", billingv1.RegisterPaymentServiceHandler},
		{"billing", billingv1.RegisterJournalExportServiceHandler},
		{"billing", billingv1.RegisterSupplierCostServiceHandler},
		{"billing", billingv1.RegisterRevenueServiceHandler},
		{Dispatcher, webhooksv1.RegisterSubscriptionServiceHandler},
		// Reconciliation runs in billing (it holds the ledger and the results).
		{"billing", opsv1.RegisterReconciliationServiceHandler},
	} {
		if g.conns[h.service] == nil {
			continue // the dispatcher is optional
		}
		if err := h.register(ctx, api, g.conns[h.service]); err != nil {
			return nil, err
		}
	}
	// Every service serves its own exception queue; /v1/ops/{service}/... goes to that service.
	ops := map[string]http.Handler{}
	for _, s := range append(slices.Clone(Services), Dispatcher) {
		if g.conns[s] == nil {
			continue
		}
		m := g.newMux()
		if err := opsv1.RegisterExceptionServiceHandler(ctx, m, g.conns[s]); err != nil {
			return nil, err
		}
		if err := opsv1.RegisterOpsInsightServiceHandler(ctx, m, g.conns[s]); err != nil {
			return nil, err
		}
		ops[s] = m
	}
	spec, err := openapi.Handler()
	if err != nil {
		return nil, err
	}

	hooks := opts.Webhooks
	hooks.Tokens, hooks.CallTimeout = tokens, opts.UpstreamTimeout
	g.hooks = webhook.NewReceiver(hooks, opts.Redis, opts.Logger, webhook.Responders{
		Problem: func(w http.ResponseWriter, r *http.Request, status int, reason, detail string) {
			writeProblem(w, r, Problem{Status: status, Reason: reason, Detail: detail})
		},
		Reply: writeJSON,
		Error: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, g.upstreamProblem(r.Context(), status.Convert(err)))
		},
	})

	mux := http.NewServeMux()
	for _, route := range webhookRoutes {
		mux.Handle(route.Pattern, g.hooks.Handle(route.Name, route.translator(g.conns, opts)))
	}
	mux.Handle("GET /v1/ops/gateway/webhook-quarantine", g.authenticated(http.HandlerFunc(g.quarantine)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("GET /openapi.json", spec)
	mux.Handle("GET /v1/ops/console/kpis", g.authenticated(http.HandlerFunc(g.consoleKpis)))
	mux.Handle("GET /v1/ops/console/exceptions", g.authenticated(http.HandlerFunc(g.consoleExceptions)))
	mux.Handle("GET /v1/ops/console/streams", g.authenticated(http.HandlerFunc(g.consoleStreams)))
	mux.Handle("GET /v1/ops/console/trace", g.authenticated(http.HandlerFunc(g.consoleTrace)))
	mux.Handle("GET /v1/ops/console/reconciliation", g.authenticated(http.HandlerFunc(g.consoleReconciliation)))
	mux.Handle("GET /console/", consoleUI())
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	mux.Handle("/v1/ops/{service}/", g.authenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := ops[r.PathValue("service")]
		if !ok {
			writeProblem(w, r, Problem{Status: http.StatusNotFound, Reason: "UNKNOWN_SERVICE",
				Detail: "services are " + strings.Join(Services, ", ")})
			return
		}
		h.ServeHTTP(w, r)
	})))
	mux.Handle(journalExportRoute, g.authenticated(http.HandlerFunc(g.journalExport)))
	mux.Handle("/v1/", g.authenticated(api))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Reason: "NOT_FOUND", Detail: "no route for " + r.URL.Path})
	})
	g.handler = g.edge(telemetry.HTTPHandler(mux, "/healthz", "/readyz"))
	return g, nil
}

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Close closes the upstream connections.
func (g *Gateway) Close() {
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// jsonOut is how the gateway writes protobuf messages: snake_case field names, defaults included.
var jsonOut = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

func writeJSON(w http.ResponseWriter, _ *http.Request, m proto.Message) {
	b, err := jsonOut.Marshal(m)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// quarantine lists rejected webhook deliveries, newest first (scope ops:read, ?limit= up to 1000).
func (g *Gateway) quarantine(w http.ResponseWriter, r *http.Request) {
	if p, _ := auth.FromContext(r.Context()); !p.HasScope("ops:read") {
		writeProblem(w, r, Problem{Status: http.StatusForbidden, Reason: auth.ReasonScopeMissing, Detail: `this call needs the "ops:read" scope`})
		return
	}
	limit := int64(100)
	if v, err := strconv.ParseInt(r.URL.Query().Get("limit"), 10, 64); err == nil && v > 0 && v <= 1000 {
		limit = v
	}
	list, err := g.hooks.Quarantine(r.Context(), limit)
	if err != nil {
		writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Reason: "QUARANTINE_UNAVAILABLE", Detail: "the quarantine cannot be read now"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"deliveries": list})
}

// newMux returns a grpc-gateway mux with Accrue's conventions.
func (g *Gateway) newMux() *runtime.ServeMux {
	return runtime.NewServeMux(
		// HTTPBodyMarshaler: an RPC answering google.api.HttpBody (a CSV download) is served as
		// its own content type and bytes; everything else is JSON.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions:   jsonOut,
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithErrorHandler(g.errorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		runtime.WithForwardResponseOption(createdStatus),
		runtime.WithDisablePathLengthFallback(),
		runtime.WithMiddlewares(traceRoute),
	)
}

// traceRoute names the request's span after the REST route the mux matched (see
// telemetry.SetRoute).
func traceRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if p, ok := runtime.HTTPPattern(r.Context()); ok {
			telemetry.SetRoute(r.Context(), r.Method+" "+p.String())
		}
		next(w, r, params)
	}
}

// incomingHeader is the allow-list of HTTP headers that become gRPC metadata. Everything else,
// including Grpc-Metadata-* headers, is dropped. (Authorization is forwarded by grpc-gateway
// itself; the services verify the token again.)
func incomingHeader(key string) (string, bool) {
	switch textproto.CanonicalMIMEHeaderKey(key) {
	case "Idempotency-Key":
		return idempotency.MetadataKey, true
	case "X-Correlation-Id":
		return correlation.MetadataKey, true
	case "Traceparent":
		return "traceparent", true
	case "Tracestate":
		return "tracestate", true
	}
	return "", false
}

// outgoingHeader is the allow-list of gRPC response metadata that become HTTP headers.
func outgoingHeader(key string) (string, bool) {
	if key == idempotency.ReplayedHeader {
		return "Idempotent-Replayed", true
	}
	return "", false
}

// createdStatus answers 201 Created when the call created something, else 200: a response
// replayed for an Idempotency-Key is 200 (nothing was created by this request); a service's
// CreatedHeader ("true" / "false") decides next; else a true `created` field or an `outcome` of
// *_CREATED in the response.
func createdStatus(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		if v := md.HeaderMD.Get(idempotency.ReplayedHeader); len(v) > 0 && v[0] == "true" {
			return nil
		}
		if v := md.HeaderMD.Get(grpcx.CreatedHeader); len(v) > 0 {
			if v[0] == "true" {
				w.WriteHeader(http.StatusCreated)
			}
			return nil
		}
	}
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	if f := fields.ByName("created"); f != nil && f.Kind() == protoreflect.BoolKind && r.Get(f).Bool() {
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	if f := fields.ByName("outcome"); f != nil && f.Kind() == protoreflect.EnumKind {
		if v := f.Enum().Values().ByNumber(r.Get(f).Enum()); v != nil && strings.HasSuffix(string(v.Name()), "_CREATED") {
			w.WriteHeader(http.StatusCreated)
		}
	}
	return nil
}

// Run serves the API on addr, and metrics on the admin address, until ctx is cancelled, then
// drains for up to 10 seconds.
func (g *Gateway) Run(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: g.handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10}
	runners := []lifecycle.Runner{lifecycle.Func(func(ctx context.Context) error { return lifecycle.ServeHTTP(ctx, srv, 10*time.Second) })}
	if g.opts.AdminAddr != "" {
		runners = append(runners, metrics.Server{Addr: g.opts.AdminAddr, Registry: g.registry, Pprof: g.opts.Pprof})
	}
	g.opts.Logger.InfoContext(ctx, "gateway listening", "addr", addr, "admin_addr", g.opts.AdminAddr)
	defer g.Close()
	return lifecycle.Run(ctx, runners...)
}
