// Package early tells a reference that is wrong from one that is only early. A service checks
// references against local replicas fed by the owners' events, which trail the owner by the
// outbox relay and the consumer (usually well under a second). A canonical id is a UUIDv7 minted
// by its owner, and its first 48 bits are the owner's clock when it was minted: an id unknown
// here whose timestamp lies within the window (ACCRUE_REFERENCE_WINDOW, 30 s by default) of now
// may still be in flight, and the answer is REFERENCE_NOT_YET_KNOWN (gRPC ABORTED, REST 409 with
// Retry-After), retry soon; an older id, or one that is not a UUIDv7, is unknown for good and the
// caller's own not-found error (400 with the field) stands. The rule needs no state (nothing is
// written, every instance answers alike) and no call to the owner.
package early

import (
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/fault"
)

// ReasonReferenceNotYetKnown is the reason of a reference that may still be in flight.
const ReasonReferenceNotYetKnown = "REFERENCE_NOT_YET_KNOWN"

// RetryAfterKey is the ErrorInfo metadata key of the seconds to wait before retrying; the gateway
// turns it into the Retry-After header.
const RetryAfterKey = "retry_after_seconds"

// DefaultWindow is how long after its minting an unknown id may still be in flight.
const DefaultWindow = 30 * time.Second

// EnvWindow names the environment variable that sets the window (a Go duration; 0 turns the rule
// off: every unknown reference is a 400 at once).
const EnvWindow = "ACCRUE_REFERENCE_WINDOW"

var (
	windowOnce sync.Once
	window     time.Duration
)

// Window returns the configured window (read once from EnvWindow; DefaultWindow when unset or
// unreadable).
func Window() time.Duration {
	windowOnce.Do(func() {
		window = DefaultWindow
		if v := os.Getenv(EnvWindow); v != "" {
			if d, err := time.ParseDuration(v); err == nil && d >= 0 {
				window = d
			}
		}
	})
	return window
}

// MintedAt returns the time a UUIDv7 was minted, and false for anything else.
func MintedAt(id string) (time.Time, bool) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return time.Time{}, false
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec), true
}

// InFlight reports whether id is a UUIDv7 minted within window of now (either side: the
// owner's clock may run ahead).
func InFlight(id string, now time.Time, window time.Duration) bool {
	at, ok := MintedAt(id)
	if !ok || window <= 0 {
		return false
	}
	d := now.Sub(at)
	return d <= window && d >= -window
}

// Unknown returns the answer for a reference id that is not known locally: notFound (the
// caller's own error, naming the field) when id cannot be in flight, else a Conflict /
// REFERENCE_NOT_YET_KNOWN error carrying notFound's violations and metadata, and the seconds to
// wait.
func Unknown(id string, now time.Time, notFound *fault.Error) *fault.Error {
	return unknown(id, now, Window(), notFound)
}

func unknown(id string, now time.Time, window time.Duration, notFound *fault.Error) *fault.Error {
	if !InFlight(id, now, window) {
		return notFound
	}
	return NotYetKnown(notFound)
}

// NotYetKnown returns notFound as a Conflict / REFERENCE_NOT_YET_KNOWN error (its violations and
// metadata kept, the final reason in not_found_reason, retry after 1 s): for a reference the
// owner confirmed to exist though the local replica lacks it, e.g. a code that carries no
// minting time.
func NotYetKnown(notFound *fault.Error) *fault.Error {
	md := map[string]string{RetryAfterKey: "1", "not_found_reason": notFound.Reason}
	for k, v := range notFound.Metadata {
		md[k] = v
	}
	return &fault.Error{Kind: fault.Conflict, Reason: ReasonReferenceNotYetKnown,
		Message:    notFound.Message + "; it may have been created moments ago and not have arrived here yet: retry shortly",
		Violations: notFound.Violations, Metadata: md}
}
