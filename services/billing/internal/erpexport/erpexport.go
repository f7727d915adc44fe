// Package erpexport is the ERP journal export: the position of a journal line in the export
// order, the opaque cursor that names it, the exported line and its two formats (JSON lines and
// CSV), and what an ERP was sent and confirmed. No I/O here beyond writing to a buffer.
//
// # Order and the safe watermark
//
// A line's position is (xact, seq): the id of the transaction that wrote it, then a sequence
// number drawn at insert. Transactions commit out of order, so ordering by seq alone would let
// a cursor pass a line whose transaction commits later. The export reads only lines whose xact is
// below the watermark, the oldest transaction still running when the export started
// (pg_snapshot_xmin): every transaction below it has ended, so no line can appear below the
// watermark any more, and a cursor below it never skips a line. The watermark is fixed for one
// export, so re-running it from the same cursor yields the same lines.
package erpexport

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// Errors.
var (
	ErrBadCursor = fault.New(fault.Invalid, "EXPORT_CURSOR_INVALID", "the cursor is not one this export produced")
	// ErrNotExported refuses an acknowledgement beyond the furthest line exported.
	ErrNotExported = fault.New(fault.FailedPrecondition, "EXPORT_CURSOR_NOT_EXPORTED",
		"the cursor is beyond the lines exported to this legal entity")
)

// Position is a line's place in the export order; the zero value is before every line.
type Position struct {
	Xact, Seq int64
}

// After reports whether p comes after o.
func (p Position) After(o Position) bool {
	return p.Xact > o.Xact || (p.Xact == o.Xact && p.Seq > o.Seq)
}

// IsZero reports whether p is before every line.
func (p Position) IsZero() bool { return p == Position{} }

const cursorPrefix = "j1."

// Cursor is the opaque cursor of p ("" for the zero position).
func (p Position) Cursor() string {
	if p.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(p.Xact, 10) + "." + strconv.FormatInt(p.Seq, 10)))
}

// ParseCursor reads a cursor made by Position.Cursor ("" is the zero position).
func ParseCursor(field, c string) (Position, error) {
	if c == "" {
		return Position{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	parts := strings.Split(s, ".")
	if err != nil || !ok || len(parts) != 2 {
		return Position{}, badCursor(field)
	}
	x, err1 := strconv.ParseInt(parts[0], 10, 64)
	q, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || x <= 0 || q <= 0 {
		return Position{}, badCursor(field)
	}
	return Position{Xact: x, Seq: q}, nil
}

func badCursor(field string) error {
	return fault.Invalidf(ErrBadCursor.Reason, field, "%s", ErrBadCursor.Message)
}

// Format of the exported lines.
type Format int

const (
	JSONLines Format = iota
	CSV
)

// ContentType is the media type of f.
func (f Format) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// Request asks for at most Max lines (0: all) of a legal entity after a cursor.
type Request struct {
	LegalEntityID string
	After         Position
	Format        Format
	Max           int64
}

// Line is one exported journal line. Debit and Credit are in the transaction currency
// (Currency), FunctionalDebit and FunctionalCredit in the legal entity's functional currency.
type Line struct {
	Position           Position
	EntryID            string
	LineNo             int
	PostingDate        civil.Date
	LegalEntityID      string
	Account            string
	Debit, Credit      decimal.Decimal
	Currency           string
	FunctionalDebit    decimal.Decimal
	FunctionalCredit   decimal.Decimal
	FunctionalCurrency string
	FXRate             decimal.Decimal
	ProjectID          string
	CustomerID         string
	SourceType         string
	SourceID           string
	SourceVersion      int64
	CorrelationID      string
}

// Period is the line's accounting period ("YYYY-MM").
func (l Line) Period() string { return l.PostingDate.String()[:7] }

// Status is what a legal entity's ERP was sent and confirmed.
type Status struct {
	LegalEntityID string
	Available     int64
	Exported      int64
	ExportedUpTo  Position
	ExportedAt    time.Time
	Acknowledged  int64
	AckedUpTo     Position
	AckedAt       time.Time
	AckedBy       string
}

// String is for logs.
func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Xact, p.Seq) }

// Split turns a signed transaction amount (debit − credit) into its debit and credit.
func Split(signed decimal.Decimal) (debit, credit decimal.Decimal) {
	if signed.IsNegative() {
		return decimal.Zero, signed.Neg()
	}
	return signed, decimal.Zero
}
