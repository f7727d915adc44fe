package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/customer/internal/app"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
)

// setup returns the use cases over a fresh database, and its store.
func setup(t *testing.T) (*app.Service, *store.Store, *pgtest.DB) {
	t.Parallel()
	db := pgtest.New(t, store.Migrations())
	queue := exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "customer"}, queue))
	return app.New(st), st, db
}

func ref(id string) customer.ExternalRef {
	return customer.ExternalRef{System: "salesforce", ObjectType: "Account", ExternalID: id}
}

func input(name string, refs ...string) customer.Input {
	in := customer.Input{Details: customer.Details{Name: name, Currency: "USD"}}
	for _, r := range refs {
		in.Refs = append(in.Refs, ref(r))
	}
	return in
}

// wantRows fails t unless the tables hold want rows together.
func wantRows(t *testing.T, db *pgtest.DB, want int, tables ...string) {
	t.Helper()
	n := 0
	for _, table := range tables {
		n += count(t, db, table)
	}
	if n != want {
		t.Fatalf("%v hold %d rows, want %d", tables, n, want)
	}
}

func count(t *testing.T, db *pgtest.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if fault.ReasonOf(err) != reason {
		t.Fatalf("got %v, want reason %s", err, reason)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}
