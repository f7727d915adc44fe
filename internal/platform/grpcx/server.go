// Package grpcx builds Accrue's gRPC servers and clients: the interceptor chain (panic recovery,
// correlation id, logging and metrics, error → status mapping, authentication with per-RPC scopes
// from the contract, protovalidate, idempotency keys), the standard health service and server
// reflection. Servers and clients are safe for concurrent use.
package grpcx

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/rpcspec"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// ServerConfig is what a service's gRPC server needs.
type ServerConfig struct {
	// Verifier checks bearer tokens. Required.
	Verifier *auth.Verifier
	// Pool stores idempotency keys. Required.
	Pool *pgxpool.Pool
	// Logger writes one line per RPC. Required.
	Logger *slog.Logger
	// MaxRecvBytes caps request size; 4 MiB when zero.
	MaxRecvBytes int
	// MaxConcurrentStreams caps the calls in flight on one client connection (HTTP/2
	// SETTINGS_MAX_CONCURRENT_STREAMS): further calls wait on the client; 1000 when zero.
	MaxConcurrentStreams uint32
	// KeepaliveMinTime is the shortest interval between client pings the server tolerates; a
	// client pinging faster is sent GOAWAY (too_many_pings). Pings on idle connections are
	// allowed. 10s when zero.
	KeepaliveMinTime time.Duration
	// KeepaliveTime is how long a connection stays silent before the server pings the client,
	// and KeepaliveTimeout how long it waits for the answer before closing it (a vanished peer
	// then frees its streams); 1m and 20s when zero.
	KeepaliveTime, KeepaliveTimeout time.Duration
	// TLS, when set, is the server's transport security (tlsx.Reloader.ServerConfig: client
	// certificates required and verified). Nil serves plaintext (tests, ACCRUE_INSECURE_DEV).
	TLS *tls.Config
	// Readiness, when set, holds why the service is degraded; health checks send it in the
	// DegradedHeader response header.
	Readiness *Readiness
}

func (c *ServerConfig) defaults() {
	if c.MaxRecvBytes == 0 {
		c.MaxRecvBytes = 4 << 20
	}
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 1000
	}
	if c.KeepaliveMinTime <= 0 {
		c.KeepaliveMinTime = 10 * time.Second
	}
	if c.KeepaliveTime <= 0 {
		c.KeepaliveTime = time.Minute
	}
	if c.KeepaliveTimeout <= 0 {
		c.KeepaliveTimeout = 20 * time.Second
	}
}

var (
	rpcTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrue_grpc_server_handled_total", Help: "RPCs completed, by method, code and reason.",
	}, []string{"method", "code", "reason"})
	rpcSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "accrue_grpc_server_handling_seconds", Help: "RPC latency by method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method"})
)

// Collectors returns the server's Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{rpcTotal, rpcSeconds} }

// NewServer returns a gRPC server with the Accrue interceptor chain, the health service (NOT
// serving until the caller says otherwise) and reflection registered.
func NewServer(cfg ServerConfig) (*grpc.Server, *health.Server, error) {
	if cfg.Verifier == nil || cfg.Pool == nil || cfg.Logger == nil {
		return nil, nil, fmt.Errorf("grpcx: NewServer needs a verifier, a pool and a logger")
	}
	cfg.defaults()
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, err
	}
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	srv := grpc.NewServer(append(telemetry.ServerOptions(),
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(cfg.MaxRecvBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: cfg.KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: cfg.KeepaliveTime, Timeout: cfg.KeepaliveTimeout}),
		grpc.InitialWindowSize(WindowSize), grpc.InitialConnWindowSize(WindowSize), // see Dial
		grpc.ChainUnaryInterceptor(
			// The correlation id comes first so that a recovered panic's INTERNAL error quotes it.
			correlationUnary,
			recoverUnary,
			observeUnary(cfg.Logger),
			statusUnary,
			authUnary(cfg.Verifier),
			validateUnary(validator),
			idempotency.UnaryServerInterceptor(cfg.Pool),
		),
		grpc.ChainStreamInterceptor(recoverStream, authStream(cfg.Verifier), validateStream(validator)),
	)...)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, healthServer{Server: hs, ready: cfg.Readiness})
	reflection.Register(srv)
	return srv, hs, nil
}

func recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "panic in RPC", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = ToStatus(ctx, fmt.Errorf("panic: %v", r))
		}
	}()
	return handler(ctx, req)
}

func recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("panic in stream", "method", info.FullMethod, "panic", fmt.Sprint(r))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return handler(srv, ss)
}

// correlationUnary takes the correlation id from metadata (minting one when absent or malformed)
// and echoes it in the response header.
func correlationUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	id := first(metadata.ValueFromIncomingContext(ctx, correlation.MetadataKey))
	if !correlation.Valid(id) {
		id = correlation.NewID()
	}
	ctx = correlation.With(ctx, id)
	_ = grpc.SetHeader(ctx, metadata.Pairs(correlation.MetadataKey, id))
	return handler(ctx, req)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// observeUnary logs one line per RPC and records metrics. It never logs request bodies.
func observeUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		elapsed := time.Since(start)
		code := status.Code(err)
		reason := ReasonOf(err)
		rpcTotal.WithLabelValues(info.FullMethod, code.String(), reason).Inc()
		rpcSeconds.WithLabelValues(info.FullMethod).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		switch {
		case code == codes.Internal || code == codes.Unknown || code == codes.DataLoss:
			level = slog.LevelError
		case code != codes.OK:
			level = slog.LevelWarn
		}
		if rpcspec.Public(info.FullMethod) && code == codes.OK {
			level = slog.LevelDebug
		}
		attrs := []any{"method", info.FullMethod, "code", code.String(), "duration_ms", float64(elapsed.Microseconds()) / 1000}
		if reason != "" {
			attrs = append(attrs, "reason", reason)
		}
		if p, ok := auth.FromContext(ctx); ok {
			attrs = append(attrs, "client_id", p.ClientID)
		}
		log.Log(ctx, level, "rpc", attrs...)
		return resp, err
	}
}

func statusUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, ToStatus(ctx, err)
	}
	return resp, nil
}

// authenticate verifies the bearer token and the scope the contract requires for fullMethod.
func authenticate(ctx context.Context, v *auth.Verifier, fullMethod string) (context.Context, error) {
	if rpcspec.Public(fullMethod) {
		return ctx, nil
	}
	token := auth.BearerToken(first(metadata.ValueFromIncomingContext(ctx, "authorization")))
	p, err := v.Verify(ctx, token)
	if err != nil {
		return ctx, err
	}
	// A service calling on behalf of its caller acts for the caller's legal entities only.
	for _, on := range metadata.ValueFromIncomingContext(ctx, OnBehalfEntitiesKey) {
		p.LegalEntities = p.LegalEntities.Narrow(auth.ParseEntities(on))
	}
	m := rpcspec.Lookup(fullMethod)
	if m.Scope == "" {
		return ctx, fault.New(fault.PermissionDenied, auth.ReasonScopeMissing, "%s declares no scope and is refused", fullMethod)
	}
	if !p.HasScope(m.Scope) {
		fe := fault.New(fault.PermissionDenied, auth.ReasonScopeMissing, "this call needs the %q scope", m.Scope)
		fe.Metadata = map[string]string{"required_scope": m.Scope}
		return ctx, fe
	}
	// A caller acting for no legal entity has nothing to do on an entity-scoped RPC; the service
	// checks the entity itself against p.LegalEntities (auth.CheckLegalEntity).
	if m.LegalEntityScoped && p.LegalEntities.None() {
		return ctx, fault.New(fault.PermissionDenied, auth.ReasonLegalEntityForbidden,
			"this call needs a token acting for a legal entity (claim %s)", auth.LegalEntitiesClaim)
	}
	return auth.WithPrincipal(ctx, p), nil
}

func authUnary(v *auth.Verifier) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authenticate(ctx, v, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func authStream(v *auth.Verifier) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authenticate(ss.Context(), v, info.FullMethod)
		if err != nil {
			return ToStatus(ss.Context(), err)
		}
		// The handler reads the principal (and the legal entities it acts for) from the context.
		return ToStatus(ctx, handler(srv, &contextStream{ServerStream: ss, ctx: ctx}))
	}
}

// contextStream is a server stream whose context carries what the interceptors added.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// validateStream validates each message a streaming RPC receives, as validateUnary does.
func validateStream(v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, v: v})
	}
}

type validatingStream struct {
	grpc.ServerStream
	v protovalidate.Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if pm, ok := m.(proto.Message); ok {
		if err := s.v.Validate(pm); err != nil {
			return ToStatus(s.Context(), err)
		}
	}
	return nil
}

func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m, ok := req.(proto.Message); ok {
			if err := v.Validate(m); err != nil {
				return nil, err
			}
			if err := CheckText(m.ProtoReflect()); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}
