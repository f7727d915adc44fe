package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/pgtest"
)

func (e *Env) createDatabases() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, pgtest.AdminURL())
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := ensureAppRole(ctx, admin); err != nil {
		return err
	}
	var wg sync.WaitGroup
	dbs := append(slices.Clone(Services), Dispatcher)
	errs := make([]error, len(dbs))
	for i, s := range dbs {
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

// createCredentials makes the Env's signing key (accruectl keygen), the mutual-TLS
// certificates of every process and of the harness itself (accruectl certs), the event signing
// keys (accruectl event-keys), the token file of each service that calls others (only the
// scopes accruectl service-scopes lists) and of each webhook route of the gateway (only the
// route's scopes, as accruectl webhook-routes lists them).
func (e *Env) createCredentials() error {
	if _, err := e.accruectl("keygen", "--dir", e.keyDir); err != nil {
		return err
	}
	names := append(append([]string{}, Services...), Dispatcher, Gateway, "e2e")
	if _, err := e.accruectl("certs", "--dir", e.tlsDir(), "--names", strings.Join(names, ","), "--ttl", "24h"); err != nil {
		return err
	}
	if _, err := e.accruectl("event-keys", "--dir", filepath.Join(e.dir, "event-keys"), "--producers", strings.Join(append(slices.Clone(Services), Dispatcher), ",")); err != nil {
		return err
	}
	routes, err := e.accruectl("webhook-routes")
	if err != nil {
		return err
	}
	scopes, err := e.accruectl("service-scopes")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "webhook-tokens"), 0o700); err != nil {
		return err
	}
	type token struct{ file, sub, scopes string }
	var tokens []token
	for _, line := range strings.Split(scopes, "\n") {
		if s, list, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			tokens = append(tokens, token{filepath.Join(e.dir, s+".token"), "svc-" + s, list})
		}
	}
	for _, line := range strings.Split(routes, "\n") {
		if route, scopes, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			tokens = append(tokens, token{filepath.Join(e.dir, "webhook-tokens", route+".jwt"), "gateway-webhook-" + route, scopes})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(tokens))
	for i, t := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := e.accruectl("token", "--key", filepath.Join(e.keyDir, "signing.jwk"),
				"--scopes", t.scopes, "--ttl", "1h", "--sub", t.sub)
			if err == nil {
				err = os.WriteFile(t.file, []byte(tok+"\n"), 0o600)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Env) tlsDir() string { return filepath.Join(e.dir, "tls") }

// tlsEnv is the mutual-TLS configuration of the process whose certificate is name.
func (e *Env) tlsEnv(name string) map[string]string {
	return map[string]string{
		"ACCRUE_TLS_CERT_FILE": filepath.Join(e.tlsDir(), name+".crt"),
		"ACCRUE_TLS_KEY_FILE":  filepath.Join(e.tlsDir(), name+".key"),
		"ACCRUE_TLS_CA_FILE":   filepath.Join(e.tlsDir(), "ca.crt"),
	}
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

func randomID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AppRole is the role the services connect as (ACCRUE_DATABASE_URL); the administration user
// owns their databases and applies the migrations (ACCRUE_MIGRATE_DATABASE_URL), which grant
// AppRole what a service needs and no more.
const AppRole = "accrue_e2e_app"

// ensureAppRole creates AppRole (LOGIN, no password) unless it exists; concurrent test
// binaries may race to create it.
func ensureAppRole(ctx context.Context, admin *pgxpool.Pool) error {
	_, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{AppRole}.Sanitize()+" LOGIN")
	var pgErr *pgconn.PgError
	if err == nil || errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") {
		return nil
	}
	return fmt.Errorf("create role %s: %w", AppRole, err)
}

// appDatabaseURL is databaseURL as AppRole.
func appDatabaseURL(name string) string {
	u, err := url.Parse(databaseURL(name))
	if err != nil {
		panic(err)
	}
	u.User = url.User(AppRole)
	return u.String()
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
