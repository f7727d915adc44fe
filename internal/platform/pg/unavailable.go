package pg

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/fault"
)

// ReasonDatabaseUnavailable is the reason of an operation that failed because Postgres could not
// be reached or the connection was lost (fault.Unavailable: retry with backoff).
const ReasonDatabaseUnavailable = "DATABASE_UNAVAILABLE"

// Postgres error codes that mean the server is going away or refusing connections, not that the
// statement was wrong: class 08 (connection exception), admin_shutdown, crash_shutdown,
// cannot_connect_now.
var unavailableCodes = map[string]bool{"57P01": true, "57P02": true, "57P03": true}

// IsConnectionFailure reports whether err says that the connection to Postgres failed (refused,
// lost, closed, timed out, or the server shutting down) rather than that a statement failed. A
// context cancelled by the caller, or whose deadline passed, is not a connection failure: the
// caller gave up, and its code (CANCELLED, DEADLINE_EXCEEDED) says so.
func IsConnectionFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || unavailableCodes[pgErr.Code]
	}
	var connectErr *pgconn.ConnectError
	var opErr *net.OpError
	switch {
	case pgconn.SafeToRetry(err), pgconn.Timeout(err), errors.As(err, &connectErr), errors.As(err, &opErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool")
}

// Unavailable returns err as a fault.Unavailable / DATABASE_UNAVAILABLE error (err as its cause)
// when it is a connection failure that no fault classifies yet, and err unchanged otherwise.
// Callers (and the REST gateway's 503 + Retry-After) then know that a retry may succeed; a
// mutating call carrying an Idempotency-Key is safe to retry even when the connection was lost
// at COMMIT and the outcome is unknown.
func Unavailable(err error) error {
	if _, ok := fault.As(err); ok || !IsConnectionFailure(err) {
		return err
	}
	return fault.New(fault.Unavailable, ReasonDatabaseUnavailable, "the database is unavailable; retry later").Wrap(err)
}
