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

	"github.com/jackc/pgx/v5"

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
