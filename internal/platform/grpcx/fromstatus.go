package grpcx

import (
	"strings"
	"unicode"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
)

var codeKinds = map[codes.Code]fault.Kind{
	codes.InvalidArgument:    fault.Invalid,
	codes.OutOfRange:         fault.Invalid,
	codes.NotFound:           fault.NotFound,
	codes.AlreadyExists:      fault.AlreadyExists,
	codes.FailedPrecondition: fault.FailedPrecondition,
	codes.Aborted:            fault.Conflict,
	codes.Unavailable:        fault.Unavailable,
	codes.DeadlineExceeded:   fault.Unavailable,
	codes.ResourceExhausted:  fault.Unavailable,
	codes.Canceled:           fault.Unavailable,
}

// FaultFromStatus turns the status error of a call to another service back into a *fault.Error
// with the same kind, reason, message, metadata and field violations (rewritten by field when it
// is not nil, e.g. to express them in the caller's own request). Upstream internal errors become
// Unavailable: from the caller's side the dependency failed, and a retry may succeed. A status
// without ErrorInfo is masked: reason UpstreamReason(code), a generic message, the original in
// the cause only.
func FaultFromStatus(err error, field func(string) string) *fault.Error {
	st, ok := status.FromError(err)
	if !ok {
		return &fault.Error{Kind: fault.Unavailable, Reason: "UPSTREAM_FAILED", Message: "a dependency failed", Cause: err}
	}
	kind, ok := codeKinds[st.Code()]
	if !ok {
		kind = fault.Unavailable
	}
	d := DetailsOf(st)
	if st.Code() == codes.PermissionDenied && d.Reason == auth.ReasonLegalEntityForbidden {
		// The caller's own token was relayed and its legal-entity boundary refused the call:
		// the caller's 403, not a deployment problem.
		return &fault.Error{Kind: fault.PermissionDenied, Reason: d.Reason, Message: st.Message(), Metadata: d.Metadata, Cause: err}
	}
	if st.Code() == codes.Unauthenticated || st.Code() == codes.PermissionDenied {
		return &fault.Error{Kind: fault.Unavailable, Reason: ReasonUpstreamAuth,
			Message: "a dependency refused this service's credentials", Cause: err}
	}
	if d.Reason == "" {
		// Not a service's answer but gRPC's or the transport's (a refused connection, a deadline,
		// a reset stream): its message names hosts, ports and internals, so it stays in the cause
		// (logged) and the caller gets the code and a fixed sentence.
		return &fault.Error{Kind: kind, Reason: UpstreamReason(st.Code()),
			Message: "a dependency failed (" + st.Code().String() + ")", Cause: err}
	}
	fe := &fault.Error{Kind: kind, Reason: d.Reason, Message: st.Message(), Cause: err}
	fe.Metadata = d.Metadata
	for _, v := range d.Violations {
		if field != nil {
			v.Field = field(v.Field)
		}
		fe.Violations = append(fe.Violations, v)
	}
	return fe
}

// UpstreamReason is the reason of a dependency's failure that carried no ErrorInfo:
// "UPSTREAM_" and the code's name in upper snake case (UPSTREAM_UNAVAILABLE,
// UPSTREAM_DEADLINE_EXCEEDED, ...).
func UpstreamReason(c codes.Code) string {
	var b strings.Builder
	b.WriteString("UPSTREAM_")
	for i, r := range c.String() {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// Details is what a status carries besides its code and message (see ToStatus).
type Details struct {
	// Reason is the ErrorInfo reason; "" when the status has none.
	Reason string
	// CorrelationID is the correlation id the server put in the ErrorInfo metadata.
	CorrelationID string
	// Metadata is the rest of the ErrorInfo metadata; nil when empty.
	Metadata map[string]string
	// Violations are the BadRequest field violations.
	Violations []fault.Violation
}

// DetailsOf reads the ErrorInfo and BadRequest details of st.
func DetailsOf(st *status.Status) Details {
	var out Details
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			out.Reason = d.GetReason()
			for k, v := range d.GetMetadata() {
				if k == "correlation_id" {
					out.CorrelationID = v
					continue
				}
				if out.Metadata == nil {
					out.Metadata = map[string]string{}
				}
				out.Metadata[k] = v
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.Violations = append(out.Violations, fault.Violation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return out
}

// ReasonUpstreamAuth is the reason when another service refused this service's own credentials:
// a deployment problem, not the caller's, so it is never reported as the caller's 401 or 403.
const ReasonUpstreamAuth = "UPSTREAM_AUTH_FAILED"

// Retryable reports whether a call's error means "the dependency is down or overloaded", as
// opposed to "the dependency refused the request".
func Retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unknown, codes.Canceled:
		return true
	}
	return false
}
