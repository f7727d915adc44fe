package exceptions_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

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

func nextRetryIn(t *testing.T, db *pgtest.DB, id string) time.Duration {
	t.Helper()
	var secs float64
	if err := db.Pool.QueryRow(context.Background(), `SELECT EXTRACT(EPOCH FROM next_retry_at - now())::float8 FROM exceptions WHERE id = $1`, id).Scan(&secs); err != nil {
		t.Fatal(err)
	}
	return time.Duration(secs * float64(time.Second))
}

func TestStopRetryingLeavesTheExceptionToAHuman(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	calls := 0
	q.Handle("stream.dead_letter.billing:time.events", func(context.Context, exceptions.Exception) error {
		calls++
		if calls == 1 {
			return fault.New(fault.Unavailable, "DATABASE_UNAVAILABLE", "still down")
		}
		return exceptions.StopRetrying(fault.New(fault.FailedPrecondition, "RATE_MISSING_FOR_DATE", "no rate"))
	})
	id := record(t, ctx, q, exceptions.New{Kind: "stream.dead_letter.billing:time.events", Reason: "DATABASE_UNAVAILABLE",
		EntityID: "te-9", RetryAfter: time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	// A transient failure: the retrier tries again later.
	if n, err := q.RetryDue(ctx, time.Millisecond, time.Millisecond); err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v", n, err)
	}
	if e := get(t, q, id); e.Status != exceptions.StatusOpen || e.NextRetryAt == nil {
		t.Fatalf("after a transient failure: %+v, want open and scheduled", e)
	}
	time.Sleep(10 * time.Millisecond)
	// A business failure: open, no longer scheduled, the new reason shown.
	if n, err := q.RetryDue(ctx, time.Millisecond, time.Millisecond); err != nil || n != 1 {
		t.Fatalf("RetryDue = %d, %v", n, err)
	}
	e := get(t, q, id)
	if e.Status != exceptions.StatusOpen || e.NextRetryAt != nil || e.Reason != "RATE_MISSING_FOR_DATE" || e.Attempts != 3 {
		t.Fatalf("after a StopRetrying failure: %+v, want open, unscheduled, reason RATE_MISSING_FOR_DATE", e)
	}
	time.Sleep(10 * time.Millisecond)
	if n, err := q.RetryDue(ctx, time.Millisecond, time.Millisecond); err != nil || n != 0 || calls != 2 {
		t.Fatalf("RetryDue after StopRetrying = %d, %v (%d calls); want nothing retried", n, err, calls)
	}
}
