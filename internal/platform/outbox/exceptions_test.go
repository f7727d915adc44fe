package outbox_test

import (
	"context"
	"errors"
	"testing"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// A new exception writes exception.opened with it (on the pool: in a transaction of its own);
// another attempt of the open exception writes nothing more; a hook that fails records nothing.
func TestExceptionOpenedIsWrittenWithTheException(t *testing.T) {
	db := pgtest.New(t, nil)
	ctx := testCtx(t)
	q := exceptions.NewQueue(db.Pool, quietLogger())
	q.OnOpened(outbox.ExceptionOpened(outbox.Writer{Producer: "billing"}, "billing"))
	n := exceptions.New{Kind: "stream.dead_letter", Reason: "EVENT_UNDECODABLE", EntityType: "project", EntityID: "p-1"}
	id, err := q.Record(ctx, nil, n)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := q.Record(ctx, nil, n); err != nil || again != id {
		t.Fatalf("second attempt: %s, %v; want the open exception %s", again, err, id)
	}
	if got := count(t, db.Pool, `SELECT count(*) FROM outbox WHERE event_type = $1 AND subject = $2 AND stream = $3`,
		opsv1.EventTypeExceptionOpened, id, opsv1.EventStream); got != 1 {
		t.Fatalf("%d exception.opened events about %s, want 1", got, id)
	}
	failing := exceptions.NewQueue(db.Pool, quietLogger())
	failing.OnOpened(func(context.Context, pg.Querier, exceptions.Exception) error { return errors.New("outbox down") })
	if _, err := failing.Record(context.Background(), nil, exceptions.New{Kind: "k", Reason: "R", EntityID: "x"}); err == nil {
		t.Fatal("recording with a failing hook succeeded")
	}
	if got := count(t, db.Pool, `SELECT count(*) FROM exceptions WHERE entity_id = 'x'`); got != 0 {
		t.Fatalf("%d exceptions recorded although their event failed, want 0", got)
	}
}
