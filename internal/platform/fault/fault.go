// Package fault is the transport-free error type of Accrue. Domain and application code return
// *fault.Error values (or wrap them with %w) to say what kind of failure happened and why, with a
// stable UPPER_SNAKE reason that clients can match on. The gRPC layer (platform/grpcx) maps a Kind
// to a status code in exactly one place; nothing below the transport knows about gRPC.
package fault

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a failure the way a caller needs to react to it.
type Kind int

const (
	// Internal is a bug or an infrastructure failure; details are masked at the edge.
	Internal Kind = iota
	// Invalid means the request is malformed; retrying it unchanged cannot succeed.
	Invalid
	// NotFound means the addressed entity does not exist.
	NotFound
	// AlreadyExists means the entity (or its external id) exists with different content.
	AlreadyExists
	// FailedPrecondition means the system is not in a state that allows the operation
	// (a closed period, an inactive project, a missing rate).
	FailedPrecondition
	// Conflict means a concurrency conflict (version mismatch, request in flight); retry later.
	Conflict
	// PermissionDenied means the caller is known but lacks the right scope.
	PermissionDenied
	// Unauthenticated means the caller's credentials are missing or invalid.
	Unauthenticated
	// Unavailable means a dependency is down; retry with backoff.
	Unavailable
)

var kindNames = [...]string{"Internal", "Invalid", "NotFound", "AlreadyExists", "FailedPrecondition",
	"Conflict", "PermissionDenied", "Unauthenticated", "Unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Violation is one problem with one field of a request.
type Violation struct {
	// Field is the path of the field, e.g. "customer.currency_code" or "lines[2].amount".
	Field string
	// Description says what is wrong, without echoing sensitive values.
	Description string
}

// Error is a classified failure with a stable reason.
type Error struct {
	Kind Kind
	// Reason is a stable UPPER_SNAKE code, e.g. "DUPLICATE_EXTERNAL_ID".
	Reason string
	// Message is a human-readable explanation safe to show to the caller.
	Message string
	// Violations lists field problems for Invalid errors.
	Violations []Violation
	// Metadata carries small key/value facts for clients (ids, dates), never secrets or rates.
	Metadata map[string]string
	// Cause is the underlying error, logged but never shown to callers.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is a *Error with the same reason, so sentinel faults can be matched
// with errors.Is(err, domain.ErrSomething) even after they were copied with details.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && t.Kind == e.Kind
}

// New returns an Error of the given kind and reason with a formatted message.
func New(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an Invalid error with one field violation.
func Invalidf(reason, field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Kind: Invalid, Reason: reason, Message: msg,
		Violations: []Violation{{Field: field, Description: msg}}}
}

// With returns a copy of e with the message replaced and metadata added; e itself (often a
// package-level sentinel) is not modified.
func (e *Error) With(message string, kv ...string) *Error {
	c := *e
	c.Message = message
	if len(kv) > 0 {
		c.Metadata = make(map[string]string, len(e.Metadata)+len(kv)/2)
		for k, v := range e.Metadata {
			c.Metadata[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c.Metadata[kv[i]] = kv[i+1]
		}
	}
	return &c
}

// At returns a copy of e with one field violation per field, each described by e's message: the
// fields at fault, named relative to the input the domain checked ("hours", "amount.amount").
// The transport puts them under the request's path with Under.
func (e *Error) At(fields ...string) *Error {
	c := *e
	c.Violations = append([]Violation(nil), e.Violations...)
	for _, f := range fields {
		c.Violations = append(c.Violations, Violation{Field: f, Description: e.Message})
	}
	return &c
}

// Under returns err with the field of every violation of its *Error put under prefix ("hours" →
// "entry.hours"); fields already under it stay as they are. Any other error returns unchanged.
func Under(err error, prefix string) error {
	fe, ok := As(err)
	if !ok || len(fe.Violations) == 0 || prefix == "" {
		return err
	}
	c := *fe
	c.Violations = make([]Violation, len(fe.Violations))
	for i, v := range fe.Violations {
		if v.Field != prefix && !strings.HasPrefix(v.Field, prefix+".") && !strings.HasPrefix(v.Field, prefix+"[") {
			v.Field = prefix + "." + v.Field
		}
		c.Violations[i] = v
	}
	return &c
}

// Wrap returns a copy of e whose cause is err.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Cause = err
	return &c
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// ReasonOf returns the reason of the *Error in err's chain, or "" when there is none.
func ReasonOf(err error) string {
	if fe, ok := As(err); ok {
		return fe.Reason
	}
	return ""
}
