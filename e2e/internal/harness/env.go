package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/accrue/accrue/internal/platform/pgtest"
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
	second []string                     // services that run a second instance
}

// WithSecondInstance runs a second instance of service, as a deployment with replicas does: the
// process "<service>-2", on the same database and consumer groups, with its own ports (see
// GRPCAddr) and the service's WithEnv settings. The gateway talks to the first instance only.
func WithSecondInstance(service string) Option {
	return func(o *options) { o.second = append(o.second, service) }
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
	for _, opt := range opts {
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
	ports, err := freePorts(2*len(instances) + 1)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	for i, s := range instances {
		if i >= len(Services) {
			s += "-2"
		}
		e.grpcAddrs[s] = ports[2*i]
		e.metricAddrs[s] = ports[2*i+1]
	}
	e.httpAddr = ports[len(ports)-1]

	// What every process shares: dependencies, keys, the Env's stream prefix and where each
	// service listens (services call each other, the gateway calls them all). Each process also
	// has its own token file (ACCRUE_SERVICE_TOKEN_FILE) for the calls it makes.
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
	for i, s := range instances {
		name := s
		if i >= len(Services) {
			name += "-2"
		}
		e.addProcess(name, base, common, map[string]string{
			"ACCRUE_DATABASE_URL":       databaseURL(e.dbNames[s]),
			"ACCRUE_DB_MAX_CONNS":       "4",
			"ACCRUE_GRPC_ADDR":          e.grpcAddrs[name],
			"ACCRUE_METRICS_ADDR":       e.metricAddrs[name],
			"ACCRUE_CONSUMER_NAME":      name + "-" + e.id,
			"ACCRUE_SERVICE_TOKEN_FILE": filepath.Join(dir, s+".token"),
		}, o.env[s])
		e.procs[name].bin = filepath.Join(binDir, s)
	}
	e.addProcess(Gateway, base, common, map[string]string{
		"ACCRUE_HTTP_ADDR":            e.httpAddr,
		"ACCRUE_SERVICE_TOKEN_FILE":   filepath.Join(dir, Gateway+".token"),
		"ACCRUE_WEBHOOK_SECRETS_FILE": filepath.Join(dir, "webhook-secrets"),
	}, o.env[Gateway])

	// Start everything at once: the gateway dials lazily and /readyz waits for the services.
	for _, name := range e.order {
		if err := e.procs[name].start(); err != nil {
			t.Fatalf("harness: %v", err)
		}
	}
	if err := e.waitFor(ReadyTimeout, e.order, func(ctx context.Context) error {
		for _, s := range o.second {
			if err := e.grpcServing(ctx, s+"-2"); err != nil {
				return err
			}
		}
		return e.readyz(ctx)
	}); err != nil {
		t.Fatalf("harness: Accrue did not become ready: %v (the process logs follow)", err)
	}
	t.Logf("harness: env %s ready in %s (work dir %s)", e.id, time.Since(begin).Round(time.Millisecond), e.dir)
	return e
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

func (e *Env) createDatabases() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, pgtest.AdminURL())
	if err != nil {
		return err
	}
	defer admin.Close()
	var wg sync.WaitGroup
	errs := make([]error, len(Services))
	for i, s := range Services {
		name := "e2e_" + e.id + "_" + s
		e.dbNames[s] = name
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
				errs[i] = fmt.Errorf("create database %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createCredentials makes the Env's signing key (accruectl keygen) and the token file of each
// process (accruectl token --scopes all).
func (e *Env) createCredentials() error {
	if _, err := e.accruectl("keygen", "--dir", e.keyDir); err != nil {
		return err
	}
	names := append(slices.Clone(Services), Gateway)
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := e.accruectl("token", "--key", filepath.Join(e.keyDir, "signing.jwk"),
				"--scopes", "all", "--ttl", "1h", "--sub", "svc-"+name)
			if err == nil {
				err = os.WriteFile(filepath.Join(e.dir, name+".token"), []byte(tok+"\n"), 0o600)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Env) accruectl(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(binDir, "accruectl"), args...)
	cmd.Env = withoutVars(os.Environ(), "ACCRUE_")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "", fmt.Errorf("accruectl %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

// waitFor polls check until it succeeds, timeout passes, or one of the named processes exits.
func (e *Env) waitFor(timeout time.Duration, watch []string, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		for _, name := range watch {
			if p := e.procs[name]; !p.running() {
				return fmt.Errorf("%s exited: %v", name, p.exitErr())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *Env) readyz(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL("/readyz"), nil)
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /readyz: %s", resp.Status)
	}
	return nil
}

func (e *Env) healthz(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL("/healthz"), nil)
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	return nil
}

// grpcServing checks the standard gRPC health service of a service.
func (e *Env) grpcServing(ctx context.Context, name string) error {
	conn, err := grpc.NewClient(e.grpcAddrs[name], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s health: %s", name, resp.GetStatus())
	}
	return nil
}

// teardown stops the processes, prints the log tails of a failed test, and removes the
// databases, the stream keys and the work directory.
func (e *Env) teardown() {
	begin := time.Now()
	defer func() { e.t.Logf("harness: env %s torn down in %s", e.id, time.Since(begin).Round(time.Millisecond)) }()
	// How the processes stood when the test ended, before stopping them.
	states := map[string]string{}
	for name, p := range e.procs {
		states[name] = p.state()
	}
	e.http.CloseIdleConnections()
	// The gateway first (it holds connections to the services), then the services together.
	if p := e.procs[Gateway]; p != nil {
		p.stop(StopGrace)
	}
	var wg sync.WaitGroup
	for name, p := range e.procs {
		if name != Gateway {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(StopGrace) }()
		}
	}
	wg.Wait()
	// Binaries built with -race (ACCRUE_E2E_RACE=1) report data races in their logs.
	for _, name := range e.order {
		if strings.Contains(e.procs[name].log(), "WARNING: DATA RACE") {
			e.t.Errorf("harness: the %s process reported a data race (see %s)", name, e.procs[name].logPath)
		}
	}
	if e.t.Failed() && len(e.procs) > 0 {
		e.t.Logf("harness: env %s logs (work dir %s):\n%s", e.id, e.dir, e.tails(states))
	}

	e.mu.Lock()
	for _, p := range e.pools {
		p.Close()
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if len(e.dbNames) > 0 {
		e.dropDatabases(ctx)
	}
	if e.rdb != nil {
		iter := e.rdb.Scan(ctx, 0, e.prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			e.rdb.Del(ctx, iter.Val())
		}
		_ = e.rdb.Close()
	}
	if e.t.Failed() && os.Getenv("ACCRUE_E2E_KEEP") == "1" {
		e.t.Logf("harness: kept %s", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

func (e *Env) dropDatabases(ctx context.Context) {
	admin, err := pgxpool.New(ctx, pgtest.AdminURL())
	if err != nil {
		e.t.Logf("harness: cannot drop the databases: %v", err)
		return
	}
	defer admin.Close()
	var wg sync.WaitGroup
	for _, name := range e.dbNames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
				e.t.Logf("harness: drop database %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
}

// tails returns the last LogTailLines of every process log, with each process's state (from
// states when given, else now).
func (e *Env) tails(states map[string]string) string {
	var b strings.Builder
	for _, name := range e.order {
		p := e.procs[name]
		st, ok := states[name]
		if !ok {
			st = p.state()
		}
		fmt.Fprintf(&b, "----- %s: %s; last %d log lines -----\n%s\n", name, st, LogTailLines, p.tail(LogTailLines))
	}
	return b.String()
}

// ID is the Env's unique id (part of its database names, stream prefix and consumer names).
func (e *Env) ID() string { return e.id }

// URL returns the gateway URL of path.
func (e *Env) URL(path string) string { return "http://" + e.httpAddr + path }

// GRPCAddr returns the gRPC address of a service.
func (e *Env) GRPCAddr(name string) string { return e.mustAddr(e.grpcAddrs, name) }

// MetricsAddr returns the metrics address of a service.
func (e *Env) MetricsAddr(name string) string { return e.mustAddr(e.metricAddrs, name) }

func (e *Env) mustAddr(m map[string]string, name string) string {
	a, ok := m[name]
	if !ok {
		e.t.Fatalf("harness: no service %q", name)
	}
	return a
}

// Database returns the name of a service's database.
func (e *Env) Database(name string) string { return e.mustAddr(e.dbNames, name) }

// DB returns a pool on a service's database, for asserting rows. It is closed at teardown.
func (e *Env) DB(name string) *pgxpool.Pool {
	e.t.Helper()
	db := e.Database(name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.pools[name]; ok {
		return p
	}
	cfg, err := pgxpool.ParseConfig(databaseURL(db))
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	cfg.MaxConns = 2
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		e.t.Fatalf("harness: connect to %s: %v", db, err)
	}
	e.pools[name] = p
	return p
}

// Count returns the result of a SELECT count(*) ... query on a service's database.
func (e *Env) Count(name, query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.DB(name).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("harness: %s on %s: %v", query, name, err)
	}
	return n
}

// Redis returns a client of the Env's Redis and the Env's stream prefix (prepend it to a
// logical stream name such as "customer.events").
func (e *Env) Redis() (*redis.Client, string) { return e.rdb, e.prefix }

// Token returns a bearer token with the given scopes, minted by `accruectl token`.
func (e *Env) Token(scopes ...string) string {
	e.t.Helper()
	key := strings.Join(scopes, " ")
	e.mu.Lock()
	tok, ok := e.tokens[key]
	e.mu.Unlock()
	if ok {
		return tok
	}
	tok, err := e.accruectl("token", "--key", filepath.Join(e.keyDir, "signing.jwk"),
		"--scopes", key, "--ttl", "1h", "--sub", "e2e")
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	e.mu.Lock()
	e.tokens[key] = tok
	e.mu.Unlock()
	return tok
}

// Logs returns everything a process ("customer", ..., "gateway") wrote so far, all runs included.
func (e *Env) Logs(name string) string { return e.proc(name).log() }

func (e *Env) proc(name string) *process {
	p, ok := e.procs[name]
	if !ok {
		e.t.Fatalf("harness: no process %q", name)
	}
	return p
}

// Running reports whether a process is running.
func (e *Env) Running(name string) bool { return e.proc(name).running() }

// Kill sends sig to a process and waits until it has exited (SIGKILL: a crash; SIGTERM: a
// graceful stop). Use Signal for signals that do not end the process.
func (e *Env) Kill(name string, sig syscall.Signal) {
	e.t.Helper()
	p := e.proc(name)
	if err := p.signal(sig); err != nil {
		e.t.Fatalf("harness: kill %s: %v", name, err)
	}
	if !p.wait(StopGrace + 5*time.Second) {
		e.t.Fatalf("harness: %s did not exit after %s", name, sig)
	}
}

// Signal sends sig to a process without waiting.
func (e *Env) Signal(name string, sig syscall.Signal) {
	e.t.Helper()
	if err := e.proc(name).signal(sig); err != nil {
		e.t.Fatalf("harness: signal %s: %v", name, err)
	}
}

// Restart starts a process again (stopping it first if it still runs) with the same ports and
// environment, and waits until it is ready: gRPC health SERVING for a service, /healthz for the
// gateway.
func (e *Env) Restart(name string) {
	e.t.Helper()
	p := e.proc(name)
	p.stop(StopGrace)
	if err := p.start(); err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	check := func(ctx context.Context) error { return e.grpcServing(ctx, name) }
	if name == Gateway {
		check = e.healthz
	}
	if err := e.waitFor(ReadyTimeout, []string{name}, check); err != nil {
		e.t.Fatalf("harness: %s did not become ready after restart: %v (the process logs follow)", name, err)
	}
}

func randomID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// databaseURL is the administration DSN pointed at database name.
func databaseURL(name string) string {
	u, err := url.Parse(pgtest.AdminURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

var (
	portsMu   sync.Mutex
	usedPorts = map[string]bool{} // addresses handed out in this test binary
)

// freePorts returns n distinct free 127.0.0.1 addresses, never one handed out before in this test
// binary (parallel Envs would otherwise race for a port between its release here and the
// child's bind).
func freePorts(n int) ([]string, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	addrs := make([]string, 0, n)
	for len(addrs) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		a := l.Addr().String()
		if usedPorts[a] {
			continue
		}
		usedPorts[a] = true
		addrs = append(addrs, a)
	}
	return addrs, nil
}
