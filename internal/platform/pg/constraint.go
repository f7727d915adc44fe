package pg

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Stable reasons of a database constraint violation that slipped past the contract's rules and
// the domain's checks. They answer 400 (the input is wrong) or 409 (it collides with a stored
// record), never 500: the database refused the write, so nothing was written.
const (
	// ReasonConstraintViolated: a CHECK or NOT NULL constraint refused a value (400).
	ReasonConstraintViolated = "CONSTRAINT_VIOLATED"
	// ReasonReferenceNotFound: a foreign key names a row that does not exist (400).
	ReasonReferenceNotFound = "REFERENCE_NOT_FOUND"
	// ReasonAlreadyExists: a unique constraint already holds the value (409).
	ReasonAlreadyExists = "ALREADY_EXISTS"
	// ReasonInvalidText: the text holds a byte sequence the database refuses, e.g. NUL (400).
	ReasonInvalidText = "INVALID_TEXT"
	// ReasonNumberOutOfRange: a number exceeds its column's precision (400).
	ReasonNumberOutOfRange = "NUMBER_OUT_OF_RANGE"
	// ReasonValueTooLong: a text exceeds its column's length (400).
	ReasonValueTooLong = "VALUE_TOO_LONG"
	// ReasonInvalidValue: a value the database cannot read as its column's type, e.g. a date out
	// of range (400).
	ReasonInvalidValue = "INVALID_VALUE"
)

type constraintClass struct {
	kind   fault.Kind
	reason string
	msg    string
}

var constraintClasses = map[string]constraintClass{
	"23514": {fault.Invalid, ReasonConstraintViolated, "a value is outside its allowed range"},
	"23502": {fault.Invalid, ReasonConstraintViolated, "a required value is missing"},
	"23503": {fault.Invalid, ReasonReferenceNotFound, "a referenced record does not exist"},
	"23505": {fault.AlreadyExists, ReasonAlreadyExists, "a record with this value already exists"},
	"23P01": {fault.AlreadyExists, ReasonAlreadyExists, "the record overlaps a stored one"},
	"22021": {fault.Invalid, ReasonInvalidText, "a text holds a character that cannot be stored (e.g. NUL)"},
	"22P05": {fault.Invalid, ReasonInvalidText, "a text holds a character that cannot be stored (e.g. NUL)"},
	"22003": {fault.Invalid, ReasonNumberOutOfRange, "a number is too large"},
	"22001": {fault.Invalid, ReasonValueTooLong, "a text is too long"},
	"22008": {fault.Invalid, ReasonInvalidValue, "a date or time is out of range"},
	"22007": {fault.Invalid, ReasonInvalidValue, "a date or time is invalid"},
	"22P02": {fault.Invalid, ReasonInvalidValue, "a value has the wrong format"},
	"22023": {fault.Invalid, ReasonInvalidValue, "a value is invalid"},
}

// Constraint returns err as a classified fault when it is a database refusal of the data itself
// (integrity constraint class 23, data exception class 22) that no fault classifies yet, and err
// unchanged otherwise. The violation names the column when Postgres reports it (NOT NULL), else
// the constraint's column part (items_rate_check → rate), so that a 4xx names the field; the
// message never echoes the value.
func Constraint(err error) error {
	if _, ok := fault.As(err); ok || err == nil {
		return err
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	c, ok := constraintClasses[pgErr.Code]
	if !ok {
		return err
	}
	fe := fault.New(c.kind, c.reason, "%s", c.msg).Wrap(err)
	if field := fieldOf(pgErr); field != "" {
		fe.Violations = []fault.Violation{{Field: field, Description: c.msg}}
		fe.Metadata = map[string]string{"field": field}
	}
	return fe
}

// fieldOf guesses the field at fault from the column, else the key the detail names ("Key
// (owner_id)=(…) …" of UNIQUE and FK violations; the value is not kept), else the constraint's
// name (<table>_<column>_check, Postgres's default naming).
func fieldOf(e *pgconn.PgError) string {
	if e.ColumnName != "" {
		return e.ColumnName
	}
	if rest, ok := strings.CutPrefix(e.Detail, "Key ("); ok {
		if col, _, ok := strings.Cut(rest, ")="); ok {
			return col
		}
	}
	name := e.ConstraintName
	if name == "" {
		return ""
	}
	for _, suf := range []string{"_check", "_key", "_fkey", "_excl", "_not_null"} {
		name = strings.TrimSuffix(name, suf)
	}
	if e.TableName != "" {
		name = strings.TrimPrefix(name, e.TableName+"_")
	}
	return name
}
