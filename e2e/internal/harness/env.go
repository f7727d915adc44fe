package harness

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
)

// Timeouts of the harness.
const (
	// ReadyTimeout bounds how long Start and Restart wait for processes to become ready.
	ReadyTimeout = 60 * time.Second
	// StopGrace is how long a process gets to exit after SIGTERM before it is killed.
	StopGrace = 10 * time.Second
	// LogTailLines is how much of each log a failed test prints.
	LogTailLines = 40
)

// maxEnvs bounds how many Envs run at once, whatever -parallel says: each Env is six processes
// and up to ~22 Postgres connections, and a default server allows 100 (shared with whatever else
// runs). ACCRUE_E2E_MAX_ENVS changes the bound (default 2).
var maxEnvs = make(chan struct{}, envLimit())

func envLimit() int {
	if n, err := strconv.Atoi(os.Getenv("ACCRUE_E2E_MAX_ENVS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// Option changes how Start sets up an Env.
type Option func(*options)

type options struct {
	env    map[string]map[string]string // process → variable → value
	second []string                     // services that run another instance (one entry per extra instance)
}

// WithSecondInstance runs a second instance of service, as a deployment with replicas does: the
// process "<service>-2", on the same database and consumer groups, with its own ports (see
// GRPCAddr) and the service's WithEnv settings. The gateway talks to the first instance only.
func WithSecondInstance(service string) Option { return WithInstances(service, 2) }

// WithInstances runs n instances of service: the usual process and "<service>-2" …
// "<service>-n", all on the same database and consumer groups, each with its own ports and
// consumer name (see WithSecondInstance). AddInstance adds more to a running Env.
func WithInstances(service string, n int) Option {
	return func(o *options) {
		for range n - 1 {
			o.second = append(o.second, service)
		}
	}
}

// WithEnv sets an environment variable of one process ("customer", ..., "gateway"), e.g.
// WithEnv("project", "ACCRUE_CONSUMER_CLAIM_MIN_IDLE", "200ms"). It overrides the harness's value.
func WithEnv(process, key, value string) Option {
	return func(o *options) {
		if o.env[process] == nil {
			o.env[process] = map[string]string{}
		}
		o.env[process][key] = value
	}
}

// Env is a running Accrue: five services and the gateway with their own databases, stream
// prefix and signing key.
type Env struct {
	t      testing.TB
	id     string
	dir    string
	prefix string
	keyDir string

	dbNames     map[string]string // service → database
	grpcAddrs   map[string]string
	metricAddrs map[string]string
	httpAddr    string
	procs       map[string]*process
	order       []string // start order: the services, then the gateway

	http *http.Client
	rdb  *redis.Client

	mu     sync.Mutex
	pools  map[string]*pgxpool.Pool
	tokens map[string]string

	// What AddInstance needs to start one more instance of a service.
	baseEnv   []string
	commonEnv map[string]string
	opts      options

	webhookSecrets map[string][]byte // webhook source → signing secret (see WebhookSources)
}

// Start starts a fresh Accrue for t and registers its teardown with t.Cleanup. It returns once
// GET /readyz answers 200, and fails t (with the log tails) when that takes over ReadyTimeout.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	if binDir == "" {
		t.Fatal("harness: binaries not built; call harness.Main from TestMain")
	}
	o := options{env: map[string]map[string]string{}}
	for _, opt := range append(tracesFromEnv(t), opts...) {
		opt(&o)
	}
	maxEnvs <- struct{}{}
	t.Cleanup(func() { <-maxEnvs })

	begin := time.Now()
	e := &Env{
		t: t, id: randomID(), dbNames: map[string]string{}, grpcAddrs: map[string]string{},
		metricAddrs: map[string]string{}, procs: map[string]*process{}, pools: map[string]*pgxpool.Pool{},
		tokens: map[string]string{}, http: &http.Client{Timeout: 30 * time.Second},
	}
	e.prefix = "e2e" + e.id + ":"
	dir, err := os.MkdirTemp("", "accrue-e2e-"+e.id+"-")
	if err != nil {
		t.Fatal(err)
	}
	e.dir = dir
	e.keyDir = filepath.Join(dir, "keys")
	t.Cleanup(e.teardown) // registered first so it also undoes a half-finished Start
	if err := e.writeWebhookSecrets(); err != nil {
		t.Fatalf("harness: %v", err)
	}

	rdb, err := redisx.Connect(context.Background(), redistest.Addr())
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	e.rdb = rdb

	// Databases, the key and the service tokens do not depend on each other: prepare them at once.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- e.createDatabases() }()
	go func() { defer wg.Done(); errs <- e.createCredentials() }()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("harness: %v", err)
		}
	}

	instances := append(slices.Clone(Services), o.second...)
	ports, err := freePorts(2*len(instances) + 4)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	names := instanceNames(instances)
	for i, name := range names {
		e.grpcAddrs[name] = ports[2*i]
		e.metricAddrs[name] = ports[2*i+1]
	}
	e.httpAddr = ports[len(ports)-1]
	e.metricAddrs[Gateway] = ports[len(ports)-2] // the gateway's admin listener
	e.grpcAddrs[Dispatcher], e.metricAddrs[Dispatcher] = ports[len(ports)-3], ports[len(ports)-4]

	// What every process shares: dependencies, keys, the Env's stream prefix and where each
	// service listens (services call each other, the gateway calls them all). Each process also
	// has its own certificate (mutual TLS on every gRPC link), the event keys (services), and
	// a service that calls others its own token file (ACCRUE_SERVICE_TOKEN_FILE) with only the
	// scopes of those calls.
	base := withoutVars(os.Environ(), "ACCRUE_")
	common := map[string]string{
		"ACCRUE_REDIS_ADDR":    redistest.Addr(),
		"ACCRUE_STREAM_PREFIX": e.prefix,
		"ACCRUE_JWKS_FILE":     filepath.Join(e.keyDir, "jwks.json"),
		"ACCRUE_LOG_LEVEL":     "debug",
	}
	for _, s := range Services {
		common["ACCRUE_"+strings.ToUpper(s)+"_ADDR"] = e.grpcAddrs[s]
	}
	e.baseEnv, e.commonEnv, e.opts = base, common, o
	for i, s := range instances {
		e.addInstance(s, names[i])
	}
	// The outbound webhook dispatcher, which may post to the tests' local receivers.
	e.addInstance(Dispatcher, Dispatcher)
	e.procs[Dispatcher].env = append(e.procs[Dispatcher].env, "ACCRUE_WEBHOOK_ALLOW=127.0.0.1")
	// The gateway calls services only for webhooks, each route with its own token; its rate
	// limits are off unless a test sets them (tests and benchmarks send bursts from one client).
	e.addProcess(Gateway, base, common, e.tlsEnv(Gateway), map[string]string{
		"ACCRUE_HTTP_ADDR":              e.httpAddr,
		"ACCRUE_GATEWAY_ADMIN_ADDR":     e.metricAddrs[Gateway],
		"ACCRUE_WEBHOOK_TOKEN_DIR":      filepath.Join(dir, "webhook-tokens"),
		"ACCRUE_WEBHOOK_SECRETS_FILE":   filepath.Join(dir, "webhook-secrets"),
		"ACCRUE_RATE_LIMIT_CLIENT_RPS":  "0",
		"ACCRUE_RATE_LIMIT_WEBHOOK_RPS": "0",
		"ACCRUE_DISPATCHER_ADDR":        e.grpcAddrs[Dispatcher],
	}, o.env[Gateway])

	// Start everything at once: the gateway dials lazily and /readyz waits for the services.
	for _, name := range e.order {
		if err := e.procs[name].start(); err != nil {
			t.Fatalf("harness: %v", err)
		}
	}
	if err := e.waitFor(ReadyTimeout, e.order, func(ctx context.Context) error {
		for _, name := range append(slices.Clone(names[len(Services):]), Dispatcher) {
			if err := e.grpcServing(ctx, name); err != nil {
				return err
			}
		}
		return e.httpOK(ctx, "/readyz")
	}); err != nil {
		t.Fatalf("harness: Accrue did not become ready: %v (the process logs follow)", err)
	}
	t.Logf("harness: env %s ready in %s (work dir %s)", e.id, time.Since(begin).Round(time.Millisecond), e.dir)
	return e
}

// instanceNames names the processes of instances (the services, then the extra instances):
// a service's first instance is the service's name, its k-th "<service>-k".
func instanceNames(instances []string) []string {
	seen := map[string]int{}
	names := make([]string, len(instances))
	for i, s := range instances {
		seen[s]++
		names[i] = s
		if seen[s] > 1 {
			names[i] = s + "-" + strconv.Itoa(seen[s])
		}
	}
	return names
}

// addInstance registers process name, an instance of service s, on the addresses already in
// e.grpcAddrs and e.metricAddrs.
func (e *Env) addInstance(s, name string) {
	own := map[string]string{"ACCRUE_EVENT_KEYS_DIR": filepath.Join(e.dir, "event-keys")}
	if _, err := os.Stat(filepath.Join(e.dir, s+".token")); err == nil { // only services that call others have one
		own["ACCRUE_SERVICE_TOKEN_FILE"] = filepath.Join(e.dir, s+".token")
	}
	e.addProcess(name, e.baseEnv, e.commonEnv, e.tlsEnv(s), own, map[string]string{
		// As in production: the administration user owns the database and migrates, the
		// service runs as a role that owns nothing (AppRole).
		"ACCRUE_DATABASE_URL":         appDatabaseURL(e.dbNames[s]),
		"ACCRUE_MIGRATE_DATABASE_URL": databaseURL(e.dbNames[s]),
		"ACCRUE_DB_MAX_CONNS":         "4",
		"ACCRUE_GRPC_ADDR":            e.grpcAddrs[name],
		"ACCRUE_METRICS_ADDR":         e.metricAddrs[name],
		"ACCRUE_CONSUMER_NAME":        name + "-" + e.id,
	}, e.opts.env[s])
	e.procs[name].bin = filepath.Join(binDir, s)
}

// addProcess registers a process whose environment is base plus the variables of layers, later
// layers winning.
func (e *Env) addProcess(name string, base []string, layers ...map[string]string) {
	vars := map[string]string{}
	for _, l := range layers {
		for k, v := range l {
			vars[k] = v
		}
	}
	env := append([]string{}, base...)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	e.procs[name] = &process{name: name, bin: filepath.Join(binDir, name), env: env,
		logPath: filepath.Join(e.dir, name+".log")}
	e.order = append(e.order, name)
}
