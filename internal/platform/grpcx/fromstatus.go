package grpcx

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
// Unavailable: from the caller's side the dependency failed, and a retry may succeed.
func FaultFromStatus(err error, field func(string) string) *fault.Error {
	st, ok := status.FromError(err)
	if !ok {
		return &fault.Error{Kind: fault.Unavailable, Reason: "UPSTREAM_FAILED", Message: "a dependency failed", Cause: err}
	}
	kind, ok := codeKinds[st.Code()]
	if !ok {
		kind = fault.Unavailable
	}
	if st.Code() == codes.Unauthenticated || st.Code() == codes.PermissionDenied {
		return &fault.Error{Kind: fault.Unavailable, Reason: ReasonUpstreamAuth,
			Message: "a dependency refused this service's credentials", Cause: err}
	}
	fe := &fault.Error{Kind: kind, Reason: "UPSTREAM_" + st.Code().String(), Message: st.Message(), Cause: err}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fe.Reason = d.GetReason()
			for k, v := range d.GetMetadata() {
				if k == "correlation_id" {
					continue
				}
				if fe.Metadata == nil {
					fe.Metadata = map[string]string{}
				}
				fe.Metadata[k] = v
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				f := v.GetField()
				if field != nil {
					f = field(f)
				}
				fe.Violations = append(fe.Violations, fault.Violation{Field: f, Description: v.GetDescription()})
			}
		}
	}
	return fe
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
