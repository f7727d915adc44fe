package idempotency_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	_ "github.com/accrue/accrue/gen/go/accrue/customer/v1" // registers the idempotent CustomerService contract
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// idempotentMethod is declared idempotent in its contract; plainMethod is not.
const (
	idempotentMethod = "/accrue.customer.v1.CustomerService/CreateCustomer"
	plainMethod      = "/accrue.ops.v1.ExceptionService/ResolveException"
)

var effectsMigrations = fstest.MapFS{
	"00001_effects.sql": {Data: []byte(`-- +goose Up
CREATE TABLE effects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
-- +goose Down
DROP TABLE effects;
`)},
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func count(t *testing.T, db *pgtest.DB, sql string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func request(note string) *opsv1.ResolveExceptionRequest {
	return &opsv1.ResolveExceptionRequest{Service: "billing", ExceptionId: "0190f1d2-4b7a-7c3e-9a51-3e2f4d5c6b7a", Note: note}
}

// effect is an operation: it writes one effect row (through pg.InTx, which joins the idempotency
// transaction) and returns a response naming the row.
type effect struct {
	db   *pgtest.DB
	runs atomic.Int64
	fail error
}

func (e *effect) fn(req *opsv1.ResolveExceptionRequest) func(ctx context.Context) (proto.Message, error) {
	return func(ctx context.Context) (proto.Message, error) {
		e.runs.Add(1)
		var id int64
		err := pg.InTx(ctx, e.db.Pool, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO effects (note) VALUES ($1) RETURNING id`, req.GetNote()).Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		if e.fail != nil {
			return nil, e.fail
		}
		return &opsv1.ResolveExceptionResponse{Exception: &opsv1.Exception{
			ExceptionId: req.GetExceptionId(), ResolutionNote: req.GetNote(), Attempts: int32(id),
			Status: opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED}}, nil
	}
}

func wantFault(t *testing.T, err error, kind fault.Kind, reason string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || fe.Reason != reason {
		t.Fatalf("error = %v, want %v/%s", err, kind, reason)
	}
}

func TestDoReplaysStoredResponse(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	req := request("fixed at source")

	first, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-1", req, e.fn(req))
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The retry sends an equal request (a fresh message, as after a network retry).
	again := request("fixed at source")
	second, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-1", again, e.fn(again))
	if err != nil {
		t.Fatalf("retried call: %v", err)
	}
	if !proto.Equal(first, second) {
		t.Fatalf("replayed response %v differs from the original %v", second, first)
	}
	if _, ok := second.(*opsv1.ResolveExceptionResponse); !ok {
		t.Fatalf("replayed response is a %T", second)
	}
	if e.runs.Load() != 1 || count(t, db, `SELECT count(*) FROM effects`) != 1 {
		t.Fatalf("operation ran %d times with %d effects, want once", e.runs.Load(), count(t, db, `SELECT count(*) FROM effects`))
	}

	// Same key, different request: refused, nothing runs.
	other := request("something else")
	_, err = idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-1", other, e.fn(other))
	wantFault(t, err, fault.FailedPrecondition, idempotency.ReasonReused)
	if e.runs.Load() != 1 || count(t, db, `SELECT count(*) FROM effects`) != 1 {
		t.Fatalf("a reused key ran the operation")
	}

	// A new key is a new operation.
	if _, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-2", other, e.fn(other)); err != nil {
		t.Fatal(err)
	}
	if count(t, db, `SELECT count(*) FROM effects`) != 2 || count(t, db, `SELECT count(*) FROM idempotency_keys`) != 2 {
		t.Fatal("second key did not produce one effect and one stored key")
	}
}

func TestDoKeyInUseWhileFirstRuns(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	req := request("slow")

	started, release := make(chan struct{}), make(chan struct{})
	type result struct {
		resp proto.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-slow", req, func(ctx context.Context) (proto.Message, error) {
			close(started)
			<-release
			return e.fn(req)(ctx)
		})
		done <- result{resp, err}
	}()
	<-started

	_, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-slow", req, e.fn(req))
	wantFault(t, err, fault.Conflict, idempotency.ReasonInUse)
	if e.runs.Load() != 0 {
		t.Fatal("the concurrent duplicate ran the operation")
	}

	close(release)
	r := <-done
	if r.err != nil {
		t.Fatalf("first call: %v", r.err)
	}
	// Once the first committed, the duplicate gets its response.
	replay, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-slow", req, e.fn(req))
	if err != nil || !proto.Equal(replay, r.resp) {
		t.Fatalf("after completion: %v, %v; want the stored response", replay, err)
	}
	if e.runs.Load() != 1 || count(t, db, `SELECT count(*) FROM effects`) != 1 {
		t.Fatalf("operation ran %d times, want 1", e.runs.Load())
	}
}

func TestDoFailureStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db, fail: fault.New(fault.Unavailable, "BILLING_UNAVAILABLE", "billing is down")}
	req := request("needs billing")

	_, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-f", req, e.fn(req))
	wantFault(t, err, fault.Unavailable, "BILLING_UNAVAILABLE")
	// The effect written before the failure was rolled back with the key.
	if n := count(t, db, `SELECT count(*) FROM effects`); n != 0 {
		t.Fatalf("%d effects after a failed operation, want 0", n)
	}
	if n := count(t, db, `SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Fatalf("%d keys stored after a failed operation, want 0", n)
	}

	// The client retries with the same key once billing is back: the operation runs.
	e.fail = nil
	resp, err := idempotency.Do(ctx, db.Pool, "svc-ops /m", "key-f", req, e.fn(req))
	if err != nil || resp == nil {
		t.Fatalf("retry with the same key: %v, %v", resp, err)
	}
	if e.runs.Load() != 2 || count(t, db, `SELECT count(*) FROM effects`) != 1 {
		t.Fatalf("runs = %d, effects = %d; want 2 runs and 1 effect", e.runs.Load(), count(t, db, `SELECT count(*) FROM effects`))
	}
}

// call invokes the interceptor as the gRPC server would, for principal (none when empty) with
// the given idempotency key (none when empty).
func call(ctx context.Context, t *testing.T, db *pgtest.DB, e *effect, method, client, key string, req *opsv1.ResolveExceptionRequest) (any, error) {
	t.Helper()
	if client != "" {
		ctx = auth.WithPrincipal(ctx, auth.Principal{Subject: client, ClientID: client})
	}
	if key != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(idempotency.MetadataKey, key))
	}
	ic := idempotency.UnaryServerInterceptor(db.Pool)
	return ic(ctx, req, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, req any) (any, error) {
		return e.fn(req.(*opsv1.ResolveExceptionRequest))(ctx)
	})
}

func TestInterceptorScopesKeysPerClient(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	req := request("crm sync")

	// Two clients happen to use the same key: both operations run.
	if _, err := call(ctx, t, db, e, idempotentMethod, "crm-connector", "evt-123", req); err != nil {
		t.Fatal(err)
	}
	if _, err := call(ctx, t, db, e, idempotentMethod, "psa-connector", "evt-123", req); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM effects`); n != 2 {
		t.Fatalf("effects = %d, want one per client (2)", n)
	}
	// Each client's retry replays its own response.
	resp, err := call(ctx, t, db, e, idempotentMethod, "psa-connector", "evt-123", req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.(*opsv1.ResolveExceptionResponse).GetException().GetAttempts(); got != 2 {
		t.Fatalf("psa-connector's replay names effect %d, want its own (2)", got)
	}
	if e.runs.Load() != 2 {
		t.Fatalf("runs = %d, want 2", e.runs.Load())
	}
	// Same key, different request from the same client.
	_, err = call(ctx, t, db, e, idempotentMethod, "crm-connector", "evt-123", request("other"))
	wantFault(t, err, fault.FailedPrecondition, idempotency.ReasonReused)
}

func TestInterceptorAppliesOnlyToIdempotentMethodsWithKey(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	req := request("x")

	// No key: every call runs.
	for range 2 {
		if _, err := call(ctx, t, db, e, idempotentMethod, "crm", "", req); err != nil {
			t.Fatal(err)
		}
	}
	// A method the contract does not mark idempotent ignores the key.
	for range 2 {
		if _, err := call(ctx, t, db, e, plainMethod, "crm", "k", req); err != nil {
			t.Fatal(err)
		}
	}
	if e.runs.Load() != 4 || count(t, db, `SELECT count(*) FROM idempotency_keys`) != 0 {
		t.Fatalf("runs = %d, keys = %d; want 4 runs and no stored keys", e.runs.Load(), count(t, db, `SELECT count(*) FROM idempotency_keys`))
	}

	// A malformed key is refused before anything runs.
	for _, bad := range []string{"line\nbreak", string(make([]byte, 256))} {
		_, err := call(ctx, t, db, e, idempotentMethod, "crm", bad, req)
		wantFault(t, err, fault.Invalid, idempotency.ReasonInvalid)
	}
	if e.runs.Load() != 4 {
		t.Fatalf("a malformed key ran the operation")
	}

	// The same key on two RPCs names two operations.
	if _, err := call(ctx, t, db, e, idempotentMethod, "crm", "k2", req); err != nil {
		t.Fatal(err)
	}
	if _, err := call(ctx, t, db, e, "/accrue.customer.v1.CustomerService/UpsertCustomer", "crm", "k2", req); err != nil {
		t.Fatal(err)
	}
	if e.runs.Load() != 6 {
		t.Fatalf("runs = %d, want 6", e.runs.Load())
	}
}

func TestInterceptorHandlerErrorPassesThrough(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	boom := errors.New("boom")
	e := &effect{db: db, fail: boom}
	if _, err := call(ctx, t, db, e, idempotentMethod, "crm", "k", request("x")); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the handler's", err)
	}
	if n := count(t, db, `SELECT count(*) FROM idempotency_keys`); n != 0 {
		t.Fatalf("%d keys stored for a failed call", n)
	}
}

func TestFingerprintIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := idempotency.Fingerprint(request("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := idempotency.Fingerprint(request("x"))
	c, _ := idempotency.Fingerprint(request("y"))
	if string(a) != string(b) || string(a) == string(c) || len(a) != 32 {
		t.Fatalf("fingerprints: equal requests %x / %x, different request %x", a, b, c)
	}
}

func TestSweepDeletesExpiredKeys(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, effectsMigrations)
	e := &effect{db: db}
	for _, k := range []string{"old", "new"} {
		if _, err := idempotency.Do(ctx, db.Pool, "s", k, request(k), e.fn(request(k))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '8 days' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	n, err := idempotency.Sweep(ctx, db.Pool, 7*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	var left string
	if err := db.Pool.QueryRow(ctx, `SELECT key FROM idempotency_keys`).Scan(&left); err != nil || left != "new" {
		t.Fatalf("remaining key = %q, %v", left, err)
	}
}
