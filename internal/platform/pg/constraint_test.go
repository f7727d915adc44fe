package pg_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

var constraintMigrations = fstest.MapFS{
	"00001_rates.sql": {Data: []byte(`-- +goose Up
CREATE TABLE owners (id bigint PRIMARY KEY);
CREATE TABLE rates (
  id bigint PRIMARY KEY,
  owner_id bigint REFERENCES owners (id),
  name text NOT NULL,
  code varchar(4),
  amount numeric(20,2) CONSTRAINT rates_amount_check CHECK (amount >= 0),
  day date
);
-- +goose Down
DROP TABLE rates;
DROP TABLE owners;
`)},
}

// TestConstraintViolationsAreClientErrors: every class of database refusal that can slip past the
// contract's rules maps to Invalid (400) or AlreadyExists (409) with a stable reason and the field,
// never to an unclassified (500) error, and the row is not written.
func TestConstraintViolationsAreClientErrors(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, constraintMigrations)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO owners VALUES (1); INSERT INTO rates (id, name, amount) VALUES (1, 'a', 1)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		class, sql string
		args       []any
		kind       fault.Kind
		reason     string
		field      string
	}{
		{"check 23514", `INSERT INTO rates (id, name, amount) VALUES (2, 'b', -1)`, nil, fault.Invalid, pg.ReasonConstraintViolated, "amount"},
		{"not-null 23502", `INSERT INTO rates (id, name) VALUES (2, NULL)`, nil, fault.Invalid, pg.ReasonConstraintViolated, "name"},
		{"unique 23505", `INSERT INTO rates (id, name) VALUES (1, 'dup')`, nil, fault.AlreadyExists, pg.ReasonAlreadyExists, "id"},
		{"foreign key 23503", `INSERT INTO rates (id, owner_id, name) VALUES (2, 99, 'b')`, nil, fault.Invalid, pg.ReasonReferenceNotFound, "owner_id"},
		{"invalid byte sequence 22021", `INSERT INTO rates (id, name) VALUES (2, $1)`, []any{"a\x00b"}, fault.Invalid, pg.ReasonInvalidText, ""},
		{"numeric overflow 22003", `INSERT INTO rates (id, name, amount) VALUES (2, 'b', $1::numeric)`, []any{"1234567890123456789012.5"}, fault.Invalid, pg.ReasonNumberOutOfRange, ""},
		{"too long 22001", `INSERT INTO rates (id, name, code) VALUES (2, 'b', $1)`, []any{"ABCDEFG"}, fault.Invalid, pg.ReasonValueTooLong, ""},
		{"date out of range 22008", `INSERT INTO rates (id, name, day) VALUES (2, 'b', make_date(1, 13, 1))`, nil, fault.Invalid, pg.ReasonInvalidValue, ""},
	}
	for _, c := range cases {
		_, err := db.Pool.Exec(ctx, c.sql, c.args...)
		if err == nil {
			t.Fatalf("%s: the statement succeeded", c.class)
		}
		fe, ok := fault.As(pg.Constraint(err))
		if !ok || fe.Kind != c.kind || fe.Reason != c.reason {
			t.Errorf("%s: Constraint(%v) = %v, want kind %v reason %s", c.class, err, fe, c.kind, c.reason)
			continue
		}
		if !errors.Is(fe, err) && fe.Cause != err {
			t.Errorf("%s: the cause is lost", c.class)
		}
		if c.field != "" && (len(fe.Violations) != 1 || fe.Violations[0].Field != c.field) {
			t.Errorf("%s: violations %+v, want the field %q", c.class, fe.Violations, c.field)
		}
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM rates`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rates = %d, %v; want only the seed row", n, err)
	}
	// Anything else is left alone (it stays an internal error).
	other := errors.New("boom")
	if got := pg.Constraint(other); got != other {
		t.Fatalf("Constraint(plain error) = %v", got)
	}
}
