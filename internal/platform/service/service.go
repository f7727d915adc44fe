// Package service wires the parts every Accrue service has, so each main only adds its domain:
// typed configuration from the environment, JSON logs, the Postgres pool and its migrations, Redis,
// token verification, the gRPC server with the platform interceptors, health and reflection, the
// exception queue (and its gRPC service), the outbox relay, the automatic retrier, maintenance
// sweeps, readiness checks and the /metrics endpoint.
package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/logging"
	"github.com/accrue/accrue/internal/platform/metrics"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// Defaults are a service's default addresses and database.
type Defaults struct {
	GRPCAddr    string
	MetricsAddr string
	Database    string
}

// Config is the configuration every service reads (see the README's configuration table).
type Config struct {
	Name         string
	GRPCAddr     string // ACCRUE_GRPC_ADDR
	MetricsAddr  string // ACCRUE_METRICS_ADDR
	DatabaseURL  string // ACCRUE_DATABASE_URL
	DBMaxConns   int    // ACCRUE_DB_MAX_CONNS
	RedisAddr    string // ACCRUE_REDIS_ADDR
	StreamPrefix string // ACCRUE_STREAM_PREFIX
	ConsumerName string // ACCRUE_CONSUMER_NAME
	// Consumer holds the stream consumers' settings every consumer group of the service starts
	// from (see Base.Consume): ACCRUE_CONSUMER_BATCH_SIZE, _BLOCK, _CLAIM_MIN_IDLE,
	// _CLAIM_INTERVAL, _MAX_DELIVERIES.
	Consumer stream.Config
	// Lingers trade a little event latency for fewer, larger batches (see outbox.RelayConfig
	// and stream.Config): ACCRUE_RELAY_LINGER, ACCRUE_CONSUMER_LINGER.
	RelayLinger, ConsumerLinger time.Duration
	LogLevel                    string        // ACCRUE_LOG_LEVEL
	Pprof                       bool          // ACCRUE_PPROF: serve /debug/pprof/ on the metrics address
	Auth                        auth.Config   // ACCRUE_JWT_ISSUER, ACCRUE_JWT_AUDIENCE, ACCRUE_JWKS_FILE | ACCRUE_JWKS_URL
	ShutdownWait                time.Duration // ACCRUE_SHUTDOWN_GRACE
	// KpiRecordInterval is how often the service records its KPIs for the console's trends
	// (ACCRUE_KPI_RECORD_INTERVAL, 15m; 0 records only on demand).
	KpiRecordInterval time.Duration
	// Token the service presents to other services: ACCRUE_SERVICE_TOKEN_FILE, or the OAuth2
	// client-credentials grant at ACCRUE_OAUTH_TOKEN_URL with ACCRUE_OAUTH_CLIENT_ID/SECRET.
	ServiceTokenFile  string
	OAuthTokenURL     string
	OAuthClientID     string
	OAuthClientSecret string
	// Traces: exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (see telemetry).
	Telemetry telemetry.Config

	// The database roles, statement limits, gRPC limits and retention (see database.go).
	Limits
	// Mutual TLS, Redis TLS and the event keys (see links.go).
	Links
}

// LoadConfig reads the common configuration of service name from r.
func LoadConfig(r *config.Reader, name string, d Defaults) Config {
	c := Config{
		Name:         name,
		GRPCAddr:     r.String("ACCRUE_GRPC_ADDR", d.GRPCAddr),
		MetricsAddr:  r.String("ACCRUE_METRICS_ADDR", d.MetricsAddr),
		DatabaseURL:  r.String("ACCRUE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"+d.Database+"?sslmode=disable"),
		DBMaxConns:   r.Int("ACCRUE_DB_MAX_CONNS", 16),
		RedisAddr:    r.String("ACCRUE_REDIS_ADDR", "127.0.0.1:6379"),
		StreamPrefix: r.String("ACCRUE_STREAM_PREFIX", ""),
		ConsumerName: r.String("ACCRUE_CONSUMER_NAME", ""),
		Consumer: stream.Config{
			BatchSize:     r.Int("ACCRUE_CONSUMER_BATCH_SIZE", 256),
			Block:         r.Duration("ACCRUE_CONSUMER_BLOCK", 0),
			ClaimMinIdle:  r.Duration("ACCRUE_CONSUMER_CLAIM_MIN_IDLE", 0),
			ClaimInterval: r.Duration("ACCRUE_CONSUMER_CLAIM_INTERVAL", 0),
			MaxDeliveries: int64(r.Int("ACCRUE_CONSUMER_MAX_DELIVERIES", 0)),
		},
		RelayLinger:    r.Duration("ACCRUE_RELAY_LINGER", 20*time.Millisecond),
		ConsumerLinger: r.Duration("ACCRUE_CONSUMER_LINGER", 50*time.Millisecond),
		LogLevel:       r.OneOf("ACCRUE_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		Pprof:          r.Bool("ACCRUE_PPROF", false),
		Auth: auth.Config{
			Issuer:   r.String("ACCRUE_JWT_ISSUER", "https://auth.accrue.local"),
			Audience: r.String("ACCRUE_JWT_AUDIENCE", "accrue"),
			JWKSFile: r.String("ACCRUE_JWKS_FILE", ""),
			JWKSURL:  r.String("ACCRUE_JWKS_URL", ""),
		},
		ShutdownWait:      r.Duration("ACCRUE_SHUTDOWN_GRACE", 10*time.Second),
		KpiRecordInterval: r.Duration("ACCRUE_KPI_RECORD_INTERVAL", 15*time.Minute),
		ServiceTokenFile:  r.String("ACCRUE_SERVICE_TOKEN_FILE", ""),
		OAuthTokenURL:     r.String("ACCRUE_OAUTH_TOKEN_URL", ""),
		OAuthClientID:     r.String("ACCRUE_OAUTH_CLIENT_ID", ""),
		OAuthClientSecret: r.String("ACCRUE_OAUTH_CLIENT_SECRET", ""),
	}
	if err := c.Auth.Validate(); err != nil {
		r.Fail(err)
	}
	v, _ := Version()
	c.Telemetry = telemetry.Load(r, name, v)
	c.Limits = loadLimits(r)
	c.Links = LoadLinks(r)
	return c
}

// TokenSource returns the credentials this service presents to others, or nil when none are
// configured.
func (c Config) TokenSource() grpcx.TokenSource {
	switch {
	case c.ServiceTokenFile != "":
		return &auth.FileTokenSource{Path: c.ServiceTokenFile}
	case c.OAuthTokenURL != "":
		return &auth.ClientCredentials{TokenURL: c.OAuthTokenURL, ClientID: c.OAuthClientID,
			ClientSecret: c.OAuthClientSecret, Audience: c.Auth.Audience}
	}
	return nil
}

// Base is a started service's shared parts.
type Base struct {
	flushTraces func(context.Context) error // see startTraced; nil when Start is called directly

	Cfg      Config
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Redis    *redis.Client
	Verifier *auth.Verifier
	GRPC     *grpc.Server
	Health   *health.Server
	// Readiness holds why the service, still serving, is degraded (a broker loss being
	// repaired); health checks report it, and so does the gateway's /readyz.
	Readiness *grpcx.Readiness
	Queue     *exceptions.Queue
	// Insight serves the operations console (stream health, trace, KPI history): a service
	// registers its trace hooks and KPI sources on it.
	Insight  *insight.Insight
	Outbox   outbox.Writer
	Registry *prometheus.Registry
	// ClientTLS is the transport security of calls to other services (grpcx.Transport); nil in
	// development mode.
	ClientTLS *tls.Config

	runners    []lifecycle.Runner
	consumers  []*stream.Consumer
	signatures stream.SignatureVerifier
}

// Start applies the migrations (the platform's and the service's; see MigrateOnly), connects to
// Postgres as the run-time role and to Redis, and builds the gRPC server with the exception service registered.
func Start(ctx context.Context, cfg Config, migrations fs.FS, collectors ...prometheus.Collector) (*Base, error) {
	log := logging.New(os.Stdout, cfg.Name, cfg.LogLevel)
	if err := migrate(ctx, cfg, migrations); err != nil {
		return nil, err
	}
	pool, err := pg.Open(ctx, cfg.DatabaseURL, pg.Options{MaxConns: int32(cfg.DBMaxConns),
		StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout})
	if err != nil {
		return nil, err
	}
	serverTLS, clientTLS, err := cfg.TLSConfigs()
	if err != nil {
		pool.Close()
		return nil, err
	}
	keys, signer, err := cfg.EventKeys(cfg.Name)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if serverTLS == nil || keys == nil {
		log.Warn("ACCRUE_INSECURE_DEV: internal links are not fully authenticated (development only)",
			"mutual_tls", serverTLS != nil, "signed_events", keys != nil)
	}
	rdb, err := redisx.Connect(ctx, cfg.RedisAddr, cfg.Links.Redis)
	if err != nil {
		pool.Close()
		return nil, err
	}
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		pool.Close()
		_ = rdb.Close()
		return nil, err
	}
	ready := &grpcx.Readiness{}
	srv, hs, err := grpcx.NewServer(grpcx.ServerConfig{Verifier: verifier, Pool: pool, Logger: log, Readiness: ready, TLS: serverTLS,
		MaxConcurrentStreams: uint32(cfg.GRPCMaxConcurrentStreams), KeepaliveMinTime: cfg.GRPCKeepaliveMinTime,
		KeepaliveTime: cfg.GRPCKeepaliveTime, KeepaliveTimeout: cfg.GRPCKeepaliveTimeout})
	if err != nil {
		pool.Close()
		_ = rdb.Close()
		return nil, err
	}
	queue := exceptions.NewQueue(pool, log)
	queue.OnOpened(outbox.ExceptionOpened(outbox.Writer{Producer: cfg.Name, Signer: signer}, cfg.Name)) // exception.opened
	opsv1.RegisterExceptionServiceServer(srv, exceptions.NewServer(queue, cfg.Name).WithReplay(outbox.NewReplayer(pool)))
	ins, err := insight.New(pool, rdb, cfg.Name, cfg.StreamPrefix)
	if err != nil {
		pool.Close()
		_ = rdb.Close()
		return nil, err
	}
	opsv1.RegisterOpsInsightServiceServer(srv, insight.NewServer(ins))
	hs.SetServingStatus(LivenessService, healthpb.HealthCheckResponse_SERVING)
	cs := append([]prometheus.Collector{}, grpcx.Collectors()...)
	cs = append(cs, outbox.Collectors()...)
	cs = append(cs, stream.Collectors()...)
	cs = append(cs, exceptions.Collectors()...)
	cs = append(cs, collectors...)
	b := &Base{
		Cfg: cfg, Log: log, Pool: pool, Redis: rdb, Verifier: verifier, GRPC: srv, Health: hs, Readiness: ready,
		Queue: queue, Insight: ins, Outbox: outbox.Writer{Producer: cfg.Name, Signer: signer}, Registry: metrics.NewRegistry(cs...),
		ClientTLS: clientTLS,
	}
	if keys != nil {
		b.signatures = keys
	}
	return b, nil
}

// Consumer builds a consumer of this service's group on the named stream; cfg may tune it.
func (b *Base) Consumer(cfg stream.Config, h stream.Handler) (*stream.Consumer, error) {
	if cfg.Group == "" {
		cfg.Group = b.Cfg.Name
	}
	cfg.StreamPrefix = b.Cfg.StreamPrefix
	if cfg.Consumer == "" && b.Cfg.ConsumerName != "" {
		cfg.Consumer = b.Cfg.ConsumerName
	}
	if cfg.Linger == 0 { // stream.NoLinger keeps it off
		cfg.Linger = b.Cfg.ConsumerLinger
	}
	if cfg.DeadLetterMaxLen == 0 {
		cfg.DeadLetterMaxLen = int64(b.Cfg.DeadLetterMaxLen)
	}
	if cfg.Signatures == nil {
		cfg.Signatures = b.signatures
	}
	c, err := stream.NewConsumer(cfg, b.Redis, b.Pool, b.Queue, h, b.Log)
	if err != nil {
		return nil, err
	}
	b.runners = append(b.runners, c)
	b.consumers = append(b.consumers, c)
	b.Insight.AddGroup(c)
	return c, nil
}

// Consume starts a consumer group of this service on streamName applying types with h, from the
// service's consumer settings (Config.Consumer); tune adjusts them for this group (a batch size,
// stream.NoLinger for streams whose events are already batches).
func (b *Base) Consume(streamName string, types []string, h stream.Handler, tune ...func(*stream.Config)) (*stream.Consumer, error) {
	cfg := b.Cfg.Consumer
	cfg.Stream, cfg.Types = streamName, types
	for _, t := range tune {
		t(&cfg)
	}
	return b.Consumer(cfg, h)
}

// NoLinger is a Consume option for streams whose events are already batches.
func NoLinger(c *stream.Config) { c.Linger = stream.NoLinger }

// Add registers extra long-lived parts run by Run.
func (b *Base) Add(r ...lifecycle.Runner) { b.runners = append(b.runners, r...) }

// Run serves until ctx is cancelled, then shuts down gracefully and closes connections.
func (b *Base) Run(ctx context.Context) error {
	defer b.shutdownTracing()
	defer b.Pool.Close()
	defer b.Redis.Close()
	relay := outbox.NewRelay(b.Pool, b.Redis, outbox.RelayConfig{StreamPrefix: b.Cfg.StreamPrefix, Linger: b.Cfg.RelayLinger,
		Retention: OutboxRetention, Exceptions: b.Queue, Degraded: func(reason string) { b.Readiness.Degrade("outbox", reason) }}, b.Log)
	runners := append([]lifecycle.Runner{
		lifecycle.GRPC{Server: b.GRPC, Health: b.Health, Addr: b.Cfg.GRPCAddr, Grace: b.Cfg.ShutdownWait},
		metrics.Server{Addr: b.Cfg.MetricsAddr, Registry: b.Registry, Pprof: b.Cfg.Pprof},
		relay,
		exceptions.Retrier{Queue: b.Queue},
		lifecycle.Every(time.Hour, func(ctx context.Context) {
			if _, err := idempotency.Sweep(ctx, b.Pool, 7*24*time.Hour); err != nil {
				b.Log.WarnContext(ctx, "idempotency sweep failed", "err", err)
			}
		}),
		lifecycle.Every(time.Hour, b.pruneInbox),
		lifecycle.Every(30*time.Second, b.sampleDeadLetters),
		lifecycle.Func(b.readiness),
		insight.Recorder{Insight: b.Insight, Every: b.Cfg.KpiRecordInterval, Log: b.Log},
	}, b.runners...)
	b.Log.InfoContext(ctx, "service started", "grpc_addr", b.Cfg.GRPCAddr, "metrics_addr", b.Cfg.MetricsAddr)
	err := lifecycle.Run(ctx, runners...)
	b.Log.Info("service stopped")
	return err
}

// DefaultMemoryLimit is the soft Go heap limit of a service when GOMEMLIMIT is not set.
const DefaultMemoryLimit = 96 << 20

// Main runs a service: `<svc>` serves, `<svc> migrate` applies migrations and exits,
// `<svc> healthcheck [addr [service]]` exits 0 when the health service (default: readiness) at
// addr (ACCRUE_GRPC_ADDR by default) says SERVING, over mutual TLS when ACCRUE_TLS_* are set, `<svc> --version` prints the build's version. SIGINT and SIGTERM cancel the context for
// a graceful shutdown. It exits non-zero on failure.
func Main(run func(ctx context.Context, migrateOnly bool) error) {
	// A soft heap limit keeps a service well under its memory budget (150 MB RSS per process)
	// through bursts such as a month-end import; GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	migrateOnly := false
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "migrate":
			migrateOnly = true
		case "serve":
		case "--version", "-version", "version":
			fmt.Println(versionLine(filepath.Base(os.Args[0])))
			return
		case "healthcheck":
			addr, svc := config.FromEnv().String("ACCRUE_GRPC_ADDR", ""), ""
			if len(os.Args) > 2 {
				addr = os.Args[2]
			}
			if len(os.Args) > 3 {
				svc = os.Args[3] // e.g. "liveness"
			}
			if err := Healthcheck(ctx, addr, svc, healthcheckTLS()); err != nil {
				fmt.Fprintln(os.Stderr, "error:", err)
				os.Exit(1)
			}
			return
		default:
			fmt.Fprintf(os.Stderr, "usage: %s [serve|migrate|healthcheck [addr [service]]|--version]\n", os.Args[0])
			os.Exit(2)
		}
	}
	if err := run(ctx, migrateOnly); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Boot ends a service's configuration and starts it: it reports r's configuration errors, and
// in migrate-only mode applies the migrations and returns a nil Base (the caller returns);
// otherwise it starts the service (see Start).
func Boot(ctx context.Context, r *config.Reader, cfg Config, migrateOnly bool, migrations fs.FS, collectors ...prometheus.Collector) (*Base, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if migrateOnly {
		return nil, MigrateOnly(ctx, cfg, migrations)
	}
	return startTraced(ctx, cfg, migrations, collectors...)
}

// MigrateOnly applies the migrations (as the owner when MigrateDatabaseURL is set, granting the
// run-time role afterwards) and returns.
func MigrateOnly(ctx context.Context, cfg Config, migrations fs.FS) error {
	if err := migrate(ctx, cfg, migrations); err != nil {
		return err
	}
	fmt.Printf("%s: migrations applied\n", cfg.Name)
	return nil
}
