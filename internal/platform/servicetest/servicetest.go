// Package servicetest runs a service's gRPC API in-process for component tests: a real Postgres
// database (pgtest), a real Redis namespace (redistest), the platform's interceptor chain with
// token verification against a throwaway signing key, and a client connection. Tests assert
// status codes and reasons the way a caller sees them.
package servicetest

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/logging"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
)

// Issuer and Audience of test tokens.
const (
	Issuer   = "https://auth.accrue.test"
	Audience = "accrue-test"
)

// Env is one in-process service.
type Env struct {
	T      testing.TB
	Name   string
	DB     *pgtest.DB
	Redis  *redis.Client
	Prefix string
	Log    *slog.Logger
	Queue  *exceptions.Queue
	Outbox outbox.Writer
	Server *grpc.Server
	Conn   *grpc.ClientConn

	key []byte
}

// New starts service name with its migrations; register adds the service's gRPC servers (it runs
// before the server starts serving).
func New(t testing.TB, name string, migrations fs.FS, register func(e *Env)) *Env {
	t.Helper()
	e := &Env{T: t, Name: name, DB: pgtest.New(t, migrations)}
	e.Redis, e.Prefix = redistest.New(t)
	w := io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	e.Log = logging.New(w, name, "debug")
	priv, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatal(err)
	}
	e.key = priv
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuer: Issuer, Audience: Audience, JWKSFile: jwksFile})
	if err != nil {
		t.Fatal(err)
	}
	srv, _, err := grpcx.NewServer(grpcx.ServerConfig{Verifier: v, Pool: e.DB.Pool, Logger: e.Log})
	if err != nil {
		t.Fatal(err)
	}
	e.Server = srv
	e.Queue = exceptions.NewQueue(e.DB.Pool, e.Log)
	e.Outbox = outbox.Writer{Producer: name}
	register(e)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e.Conn = conn
	return e
}

// Token returns a bearer token for subject "test-client" with scopes, acting for every legal
// entity.
func (e *Env) Token(scopes ...string) string {
	return e.EntityToken([]string{auth.AllLegalEntities}, scopes...)
}

// EntityToken returns a bearer token with scopes acting for the legal entities ids (none when
// ids is nil).
func (e *Env) EntityToken(ids []string, scopes ...string) string {
	tok, err := auth.SignToken(e.key, auth.TokenRequest{Issuer: Issuer, Audience: Audience, Subject: "test-client",
		Scopes: scopes, TTL: time.Hour, LegalEntities: ids})
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// Ctx returns a context whose calls carry a token with scopes (and extra metadata pairs).
func (e *Env) Ctx(scopes []string, kv ...string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.T.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, append([]string{"authorization", "Bearer " + e.Token(scopes...)}, kv...)...)
}

// EntityCtx is Ctx with a token acting for the legal entities ids.
func (e *Env) EntityCtx(ids []string, scopes []string, kv ...string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.T.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, append([]string{"authorization", "Bearer " + e.EntityToken(ids, scopes...)}, kv...)...)
}

// TokenSource presents a token with scopes (for services that call this one).
func (e *Env) TokenSource(scopes ...string) grpcx.TokenSource { return staticToken(e.Token(scopes...)) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// Count returns the number of rows of table (a test helper for "nothing was written").
func (e *Env) Count(table string) int {
	e.T.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.T.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Concurrently runs call(0) … call(n-1) at once (released together) and returns their answers in
// order. A failed call fails t and leaves its answer nil.
func Concurrently[T any](t testing.TB, n int, call func(i int) (T, error)) []T {
	t.Helper()
	answers := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := call(i)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			answers[i] = a
		}()
	}
	close(start)
	wg.Wait()
	return answers
}
