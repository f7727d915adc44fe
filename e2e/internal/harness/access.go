package harness

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

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
		check = func(ctx context.Context) error { return e.httpOK(ctx, "/healthz") }
	}
	if err := e.waitFor(ReadyTimeout, []string{name}, check); err != nil {
		e.t.Fatalf("harness: %s did not become ready after restart: %v (the process logs follow)", name, err)
	}
}

// GRPCTransport is the dial option of a test calling a service directly: mutual TLS with the
// harness's own certificate ("e2e"), issued by the Env's CA like every process's.
func (e *Env) GRPCTransport() grpc.DialOption {
	e.t.Helper()
	return grpc.WithTransportCredentials(credentials.NewTLS(e.TLSClientConfig("e2e")))
}

// TLSClientConfig is a mutual-TLS client configuration with the Env's certificate of name
// (a process name, or "e2e").
func (e *Env) TLSClientConfig(name string) *tls.Config {
	e.t.Helper()
	r, err := tlsx.NewReloader(tlsx.Files{CertFile: filepath.Join(e.tlsDir(), name+".crt"),
		KeyFile: filepath.Join(e.tlsDir(), name+".key"), CAFile: filepath.Join(e.tlsDir(), "ca.crt")})
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	return r.ClientConfig()
}

// TLSDir is the directory of the Env's CA (ca.crt, ca.key) and certificates (<name>.crt/.key).
func (e *Env) TLSDir() string { return e.tlsDir() }

// EventKeysDir is the directory of the Env's event signing keys.
func (e *Env) EventKeysDir() string { return filepath.Join(e.dir, "event-keys") }

// Sign signs envl, to be XADDed to the logical stream, with the Env's key of envl's producer:
// an event a test injects as if its producer had published it (tests of what consumers do with
// a legitimate event). An unsigned or otherwise signed event is dead-lettered.
func (e *Env) Sign(stream string, envl *commonv1.EventEnvelope) {
	e.t.Helper()
	keys, err := eventsig.LoadDir(e.EventKeysDir())
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	s, err := keys.Signer(envl.GetProducer(), "")
	if err == nil {
		err = s.Sign(stream, envl)
	}
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
}

// SigningKeyFile is the private JWK (accruectl keygen) the Env's tokens are signed with, for
// tests that forge tokens of their own.
func (e *Env) SigningKeyFile() string { return filepath.Join(e.keyDir, "signing.jwk") }
