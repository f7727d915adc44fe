package exceptions_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newQueue(t *testing.T) (*exceptions.Queue, *pgtest.DB) {
	db := pgtest.New(t, nil)
	return exceptions.NewQueue(db.Pool, quietLogger()), db
}

func record(t *testing.T, ctx context.Context, q *exceptions.Queue, n exceptions.New) string {
	t.Helper()
	id, err := q.Record(ctx, nil, n)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return id
}

func get(t *testing.T, q *exceptions.Queue, id string) exceptions.Exception {
	t.Helper()
	e, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return e
}

func wantFault(t *testing.T, err error, kind fault.Kind, reason string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || fe.Reason != reason {
		t.Fatalf("error = %v, want %v/%s", err, kind, reason)
	}
}

func TestRecordDedupesOpenExceptions(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(testCtx(t), "corr-conv-9")
	q, _ := newQueue(t)
	n := exceptions.New{Kind: "opportunity.conversion", Reason: "BILLING_UNAVAILABLE", Message: "billing timed out",
		EntityType: "opportunity", EntityID: "opp-1", Payload: []byte("p1")}

	id := record(t, ctx, q, n)
	n.Message, n.Reason, n.Payload = "billing refused: 503", "BILLING_DOWN", nil
	again := record(t, ctx, q, n)
	if again != id {
		t.Fatalf("the same failure recorded twice made two exceptions (%s, %s)", id, again)
	}
	e := get(t, q, id)
	if e.Attempts != 2 || e.Message != "billing refused: 503" || e.Reason != "BILLING_DOWN" || string(e.Payload) != "p1" {
		t.Fatalf("after the second record: attempts %d, message %q, reason %q, payload %q", e.Attempts, e.Message, e.Reason, e.Payload)
	}
	if e.Status != exceptions.StatusOpen || e.CorrelationID != "corr-conv-9" || e.DedupeKey != "opportunity.conversion:opportunity:opp-1" {
		t.Fatalf("exception = %+v", e)
	}

	// Another entity is another exception.
	n.EntityID = "opp-2"
	if other := record(t, ctx, q, n); other == id {
		t.Fatal("a different entity was folded into the first exception")
	}
	// Once resolved, the same failure opens a new exception.
	if _, err := q.Resolve(ctx, id, "ops", "billing back"); err != nil {
		t.Fatal(err)
	}
	n.EntityID = "opp-1"
	if reopened := record(t, ctx, q, n); reopened == id {
		t.Fatal("recording after resolution reused the resolved exception")
	}
	if c, _ := q.CountOpen(ctx, "opportunity.conversion", ""); c != 2 {
		t.Fatalf("open exceptions = %d, want 2", c)
	}
	if _, err := q.Record(ctx, nil, exceptions.New{Kind: "x"}); err == nil {
		t.Fatal("Record accepted an exception without a reason")
	}
}

func TestRecordConcurrentDuplicatesMakeOneException(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			ids[i], errs[i] = q.Record(ctx, nil, exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", EntityType: "time_entry", EntityID: "te-1"})
		})
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("record %d = %s, %v; want %s", i, ids[i], errs[i], ids[0])
		}
	}
	if e := get(t, q, ids[0]); e.Attempts != 8 {
		t.Fatalf("attempts = %d, want 8", e.Attempts)
	}
}

func TestRecordInCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, db := newQueue(t)
	errRollback := errors.New("rollback")
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := q.Record(ctx, tx, exceptions.New{Kind: "k", Reason: "R"}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n, _ := q.CountOpen(ctx, "", ""); n != 0 {
		t.Fatalf("%d exceptions survived the rolled-back transaction", n)
	}
}

func TestListFiltersNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	a := record(t, ctx, q, exceptions.New{Kind: "invoice", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1"})
	b := record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", EntityID: "te-1"})
	c := record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "RATE_MISSING_FOR_DATE", EntityID: "te-2"})
	if _, err := q.Resolve(ctx, b, "ops", "period reopened"); err != nil {
		t.Fatal(err)
	}

	ids := func(f exceptions.Filter) []string {
		list, err := q.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range list {
			out = append(out, e.ID)
		}
		return out
	}
	eq := func(name string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	eq("all", ids(exceptions.Filter{}), c, b, a)
	eq("open", ids(exceptions.Filter{Status: exceptions.StatusOpen}), c, a)
	eq("resolved", ids(exceptions.Filter{Status: exceptions.StatusResolved}), b)
	eq("kind", ids(exceptions.Filter{Kind: "posting"}), c, b)
	eq("reason", ids(exceptions.Filter{Reason: "TAX_PROFILE_MISSING"}), a)
	eq("open posting", ids(exceptions.Filter{Status: exceptions.StatusOpen, Kind: "posting"}), c)
	eq("limit", ids(exceptions.Filter{Limit: 2}), c, b)
}

func TestServerListPagesThroughEverything(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	srv := exceptions.NewServer(q, "billing")
	var all []string
	for i := range 7 {
		all = append(all, record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", EntityID: fmt.Sprint("te-", i)}))
	}
	record(t, ctx, q, exceptions.New{Kind: "invoice", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1"})

	var got []string
	var pages []int
	tok := ""
	for {
		resp, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Kind: "posting", PageSize: 3, PageToken: tok})
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		pages = append(pages, len(resp.GetExceptions()))
		for _, e := range resp.GetExceptions() {
			got = append(got, e.GetExceptionId())
		}
		tok = resp.GetNextPageToken()
		if tok == "" {
			break
		}
		if len(pages) > 5 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(pages) != "[3 3 1]" {
		t.Errorf("page sizes = %v, want [3 3 1]", pages)
	}
	// Newest first, each exactly once.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("paged ids = %v, want %v", got, all)
	}

	// Exactly one page's worth: no next token.
	resp, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Kind: "posting", PageSize: 7})
	if err != nil || len(resp.GetExceptions()) != 7 || resp.GetNextPageToken() != "" {
		t.Fatalf("page of exactly 7 = %d items, token %q, %v", len(resp.GetExceptions()), resp.GetNextPageToken(), err)
	}
	// Status filter through the contract enum.
	resp, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Status: opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED})
	if err != nil || len(resp.GetExceptions()) != 0 {
		t.Fatalf("resolved = %v, %v; want none", resp.GetExceptions(), err)
	}

	_, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", PageToken: "%%%garbage"})
	wantFault(t, err, fault.Invalid, "INVALID_PAGE_TOKEN")
	_, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "customer"})
	wantFault(t, err, fault.Invalid, "WRONG_SERVICE")
}

func TestRetry(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	var mu sync.Mutex
	var seen []exceptions.Exception
	var seenCorr []string
	fail := fault.New(fault.Unavailable, "BILLING_UNAVAILABLE", "billing still down")
	q.Handle("opportunity.conversion", func(ctx context.Context, e exceptions.Exception) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, e)
		seenCorr = append(seenCorr, correlation.ID(ctx))
		if len(seen) == 1 {
			return fail
		}
		return nil
	})
	id := record(t, correlation.With(ctx, "corr-opp-1"), q, exceptions.New{Kind: "opportunity.conversion", Reason: "BILLING_TIMEOUT",
		Message: "first failure", EntityType: "opportunity", EntityID: "opp-1", Payload: []byte(`{"opp":"opp-1"}`)})

	// Failure: stays open, one more attempt, the new error recorded.
	e, err := q.Retry(ctx, id, "alice")
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if e.Status != exceptions.StatusOpen || e.Attempts != 2 || e.Reason != "BILLING_UNAVAILABLE" || e.Message != fail.Error() || e.ResolvedBy != "" {
		t.Fatalf("after a failed retry: %+v", e)
	}

	// Success: resolved by the actor.
	e, err = q.Retry(ctx, id, "alice")
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if e.Status != exceptions.StatusResolved || e.ResolvedBy != "alice" || e.ResolutionNote != "retry succeeded" || e.Attempts != 3 || e.NextRetryAt != nil {
		t.Fatalf("after a successful retry: %+v", e)
	}
	mu.Lock()
	if len(seen) != 2 || string(seen[0].Payload) != `{"opp":"opp-1"}` || seenCorr[0] != "corr-opp-1" || seenCorr[1] != "corr-opp-1" {
		t.Errorf("retry function got %d calls, payload %q, correlation ids %v", len(seen), seen[0].Payload, seenCorr)
	}
	mu.Unlock()

	// Resolved: nothing left to retry.
	_, err = q.Retry(ctx, id, "alice")
	wantFault(t, err, fault.FailedPrecondition, exceptions.ReasonNotOpen)
	_, err = q.Retry(ctx, uuid.NewString(), "alice")
	wantFault(t, err, fault.NotFound, exceptions.ReasonNotFound)

	// A kind without a retry function can only be resolved by hand.
	manual := record(t, ctx, q, exceptions.New{Kind: "invoice.tax", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-9"})
	e, err = q.Retry(ctx, manual, "alice")
	wantFault(t, err, fault.FailedPrecondition, exceptions.ReasonNoRetryForKind)
	if e := get(t, q, manual); e.Status != exceptions.StatusOpen || e.Attempts != 1 {
		t.Fatalf("refused retry changed the exception: %+v", e)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	id := record(t, ctx, q, exceptions.New{Kind: "invoice.tax", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1", RetryAfter: time.Hour})
	e, err := q.Resolve(ctx, id, "bob", "tax profile added in ERP")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != exceptions.StatusResolved || e.ResolvedBy != "bob" || e.ResolutionNote != "tax profile added in ERP" || e.NextRetryAt != nil {
		t.Fatalf("resolved = %+v", e)
	}
	_, err = q.Resolve(ctx, id, "carol", "again")
	wantFault(t, err, fault.FailedPrecondition, exceptions.ReasonNotOpen)
	if e := get(t, q, id); e.ResolvedBy != "bob" {
		t.Fatalf("second resolve overwrote the first: %+v", e)
	}
	_, err = q.Resolve(ctx, uuid.NewString(), "bob", "x")
	wantFault(t, err, fault.NotFound, exceptions.ReasonNotFound)

	// ResolveByKey: the work succeeded on its own.
	n := exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", DedupeKey: "posting:te-7:v1"}
	id2 := record(t, ctx, q, n)
	ok, err := q.ResolveByKey(ctx, nil, "posting:te-7:v1", "system", "posted after period reopened")
	if err != nil || !ok {
		t.Fatalf("ResolveByKey = %v, %v", ok, err)
	}
	if e := get(t, q, id2); e.Status != exceptions.StatusResolved || e.ResolvedBy != "system" {
		t.Fatalf("resolved by key = %+v", e)
	}
	if ok, _ := q.ResolveByKey(ctx, nil, "posting:te-7:v1", "system", ""); ok {
		t.Fatal("ResolveByKey resolved something twice")
	}
}

func TestServerRetryAndResolveNameTheCaller(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	q.Handle("sync", func(context.Context, exceptions.Exception) error { return nil })
	srv := exceptions.NewServer(q, "billing")
	caller := auth.WithPrincipal(ctx, auth.Principal{Subject: "ops-dashboard", ClientID: "ops-dashboard"})

	id := record(t, ctx, q, exceptions.New{Kind: "sync", Reason: "UPSTREAM_DOWN", EntityID: "a"})
	resp, err := srv.RetryException(caller, &opsv1.RetryExceptionRequest{Service: "billing", ExceptionId: id})
	if err != nil {
		t.Fatal(err)
	}
	if x := resp.GetException(); x.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || x.GetResolvedBy() != "ops-dashboard" {
		t.Fatalf("retried = %v", x)
	}

	id = record(t, ctx, q, exceptions.New{Kind: "sync", Reason: "UPSTREAM_DOWN", EntityID: "b"})
	res, err := srv.ResolveException(ctx, &opsv1.ResolveExceptionRequest{Service: "billing", ExceptionId: id, Note: "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	if x := res.GetException(); x.GetResolvedBy() != "system" || x.GetResolutionNote() != "dropped" {
		t.Fatalf("resolved without a principal = %v", x)
	}
	got, err := srv.GetException(ctx, &opsv1.GetExceptionRequest{Service: "billing", ExceptionId: id})
	if err != nil || got.GetException().GetEntityId() != "b" || got.GetException().GetKind() != "sync" || got.GetException().GetAttempts() != 1 {
		t.Fatalf("GetException = %v, %v", got, err)
	}
	_, err = srv.RetryException(ctx, &opsv1.RetryExceptionRequest{Service: "project", ExceptionId: id})
	wantFault(t, err, fault.Invalid, "WRONG_SERVICE")
}

func TestRetryDueBacksOff(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, db := newQueue(t)
	var calls sync.Map
	failing := true
	var mu sync.Mutex
	q.Handle("posting", func(_ context.Context, e exceptions.Exception) error {
		v, _ := calls.LoadOrStore(e.ID, new(int))
		mu.Lock()
		defer mu.Unlock()
		*v.(*int)++
		if failing {
			return fault.New(fault.FailedPrecondition, "RATE_MISSING_FOR_DATE", "still no rate")
		}
		return nil
	})
	due := record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "RATE_MISSING_FOR_DATE", EntityID: "te-1", RetryAfter: time.Millisecond})
	notDue := record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "RATE_MISSING_FOR_DATE", EntityID: "te-2", RetryAfter: time.Hour})
	manualOnly := record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "RATE_MISSING_FOR_DATE", EntityID: "te-3"})
	time.Sleep(20 * time.Millisecond)

	n, err := q.RetryDue(ctx, time.Minute, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v; want 1 (only the due one)", n, err)
	}
	e := get(t, q, due)
	if e.Status != exceptions.StatusOpen || e.Attempts != 2 || e.NextRetryAt == nil {
		t.Fatalf("after a failed automatic retry: %+v", e)
	}
	// Backoff base × 2^attempts = 1m × 4.
	delay := nextRetryIn(t, db, due)
	if delay < 3*time.Minute+50*time.Second || delay > 4*time.Minute {
		t.Fatalf("next retry in %v, want about 4m", delay)
	}
	for _, id := range []string{notDue, manualOnly} {
		if _, ok := calls.Load(id); ok {
			t.Fatalf("exception %s retried before it was due", id)
		}
	}
	// Not due again yet.
	if n, err := q.RetryDue(ctx, time.Minute, time.Hour); err != nil || n != 0 {
		t.Fatalf("immediate second RetryDue = %d, %v; want 0", n, err)
	}

	// The backoff is capped.
	if _, err := db.Pool.Exec(ctx, `UPDATE exceptions SET next_retry_at = now() - interval '1 second', attempts = 30 WHERE id = $1`, due); err != nil {
		t.Fatal(err)
	}
	if n, err := q.RetryDue(ctx, time.Minute, 10*time.Minute); err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v", n, err)
	}
	delay = nextRetryIn(t, db, due)
	if delay < 9*time.Minute || delay > 10*time.Minute {
		t.Fatalf("capped next retry in %v, want about 10m", delay)
	}

	// The cause goes away: the next due retry resolves it.
	mu.Lock()
	failing = false
	mu.Unlock()
	if _, err := db.Pool.Exec(ctx, `UPDATE exceptions SET next_retry_at = now() - interval '1 second' WHERE id = $1`, due); err != nil {
		t.Fatal(err)
	}
	if n, err := q.RetryDue(ctx, time.Minute, time.Hour); err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v", n, err)
	}
	if e := get(t, q, due); e.Status != exceptions.StatusResolved || e.ResolvedBy != "system" || e.NextRetryAt != nil {
		t.Fatalf("after a successful automatic retry: %+v", e)
	}
}

func TestToProto(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := exceptions.ToProto(exceptions.Exception{ID: "id-1", Kind: "k", Reason: "R", Status: exceptions.StatusResolved,
		Attempts: 3, CreatedAt: created, UpdatedAt: created, ResolvedBy: "bob", Payload: []byte("secret payload")})
	if p.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || p.GetAttempts() != 3 || !p.GetCreateTime().AsTime().Equal(created) || p.GetResolvedBy() != "bob" {
		t.Fatalf("ToProto = %v", p)
	}
	if p := exceptions.ToProto(exceptions.Exception{Status: exceptions.StatusOpen}); p.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN {
		t.Fatalf("open status = %v", p.GetStatus())
	}
}

func nextRetryIn(t *testing.T, db *pgtest.DB, id string) time.Duration {
	t.Helper()
	var secs float64
	if err := db.Pool.QueryRow(context.Background(), `SELECT EXTRACT(EPOCH FROM next_retry_at - now())::float8 FROM exceptions WHERE id = $1`, id).Scan(&secs); err != nil {
		t.Fatal(err)
	}
	return time.Duration(secs * float64(time.Second))
}
