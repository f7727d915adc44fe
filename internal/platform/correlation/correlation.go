// Package correlation carries the correlation id (one per business request or event chain) and
// the causation id (the request or event that directly caused this work) through contexts, gRPC
// metadata and event envelopes. The id is set once where work enters Accrue and never overwritten.
package correlation

import (
	"context"

	"github.com/google/uuid"
)

// Header is the HTTP header and (lower-cased) gRPC metadata key of the correlation id.
const (
	Header      = "X-Correlation-ID"
	MetadataKey = "x-correlation-id"
)

type ctxKey int

const (
	correlationKey ctxKey = iota
	causationKey
)

// NewID returns a fresh correlation id (a UUIDv7, so ids sort by creation time in logs).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// With returns ctx carrying the correlation id id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// ID returns the correlation id carried by ctx, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}

// Ensure returns ctx with a correlation id, minting one when ctx has none.
func Ensure(ctx context.Context) (context.Context, string) {
	if id := ID(ctx); id != "" {
		return ctx, id
	}
	id := NewID()
	return With(ctx, id), id
}

// WithCausation returns ctx carrying the id of the event or request that caused the current work.
func WithCausation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, causationKey, id)
}

// CausationID returns the causation id carried by ctx, or "".
func CausationID(ctx context.Context) string {
	id, _ := ctx.Value(causationKey).(string)
	return id
}

// Valid reports whether an incoming correlation id is acceptable: short, printable ASCII, no
// spaces. Anything else is replaced by a fresh id rather than trusted into logs.
func Valid(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
