package pgstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func newStore(t *testing.T) pgstore.Base {
	t.Helper()
	db := pgtest.New(t, nil)
	queue := exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return pgstore.New(db.Pool, outbox.Writer{Producer: "platformtest"}, queue)
}

// counts returns the rows in the outbox, the audit log and the open exceptions.
func counts(ctx context.Context, t *testing.T, s pgstore.Base) [3]int {
	t.Helper()
	var c [3]int
	err := s.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM audit_log),
		(SELECT count(*) FROM exceptions WHERE status = 'OPEN')`).Scan(&c[0], &c[1], &c[2])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// approve is a use case's transaction: the event, the audit record and an exception it raises
// are written through the store with the ctx InTx hands over.
func approve(ctx context.Context, s pgstore.Base, outcome error) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Publish(ctx, outbox.Event{Stream: "platformtest.events", Type: "sheet.approved", Subject: "ts-1", Payload: wrapperspb.String("8h")}); err != nil {
			return err
		}
		if err := s.Audit(ctx, audit.Record{Action: "sheet.approved", EntityType: "timesheet", EntityID: "ts-1"}); err != nil {
			return err
		}
		if _, err := s.RecordException(ctx, exceptions.New{Kind: "billing.rate_missing", Reason: "RATE_MISSING_FOR_DATE",
			Message: "no rate", EntityType: "timesheet", EntityID: "ts-1", DedupeKey: "rate:ts-1"}); err != nil {
			return err
		}
		return outcome
	})
}

func TestBaseWritesStandOrFallWithTheTransaction(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(correlation.With(context.Background(), "corr-approve"), 30*time.Second)
	defer cancel()
	s := newStore(t)
	errStop := errors.New("approval refused")

	if err := approve(ctx, s, errStop); !errors.Is(err, errStop) {
		t.Fatalf("approve = %v, want the use case's error", err)
	}
	if c := counts(ctx, t, s); c != [3]int{} {
		t.Fatalf("after a rolled-back transaction: outbox, audit, exceptions = %v, want none", c)
	}
	if err := approve(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if c := counts(ctx, t, s); c != [3]int{1, 1, 1} {
		t.Fatalf("after a committed transaction: outbox, audit, exceptions = %v, want one each", c)
	}
	var corr string
	if err := s.Pool.QueryRow(ctx, `SELECT correlation_id FROM audit_log`).Scan(&corr); err != nil || corr != "corr-approve" {
		t.Fatalf("audit correlation id = %q, %v", corr, err)
	}

	// Resolving is transactional too.
	errUndo := errors.New("undo")
	err := s.InTx(ctx, func(ctx context.Context) error {
		if ok, err := s.ResolveException(ctx, "rate:ts-1", "ops-alice", "rate added"); err != nil || !ok {
			t.Errorf("ResolveException = %v, %v; want resolved", ok, err)
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) || counts(ctx, t, s)[2] != 1 {
		t.Fatalf("a rolled-back resolve left %d open exceptions (err %v), want 1", counts(ctx, t, s)[2], err)
	}
	// Outside a transaction each call commits on its own.
	if ok, err := s.ResolveException(ctx, "rate:ts-1", "ops-alice", "rate added"); err != nil || !ok || counts(ctx, t, s)[2] != 0 {
		t.Fatalf("ResolveException on the pool = %v, %v; open left %d", ok, err, counts(ctx, t, s)[2])
	}
	if ok, err := s.ResolveException(ctx, "rate:ts-1", "ops-alice", "again"); err != nil || ok {
		t.Fatalf("resolving a resolved exception = %v, %v; want false", ok, err)
	}
}

func TestNewRefusesAnIncompleteBase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, nil)
	queue := exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for name, f := range map[string]func(){
		"no producer": func() { pgstore.New(db.Pool, outbox.Writer{}, queue) },
		"no queue":    func() { pgstore.New(db.Pool, outbox.Writer{Producer: "p"}, nil) },
		"no pool":     func() { pgstore.New(nil, outbox.Writer{Producer: "p"}, queue) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			f()
		}()
	}
}
