package grpcx

import (
	"context"
	"errors"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
)

// ErrorDomain is the ErrorInfo domain of every Accrue error.
const ErrorDomain = "accrue.dev"

// ReasonValidationFailed is the reason of requests rejected by their contract's rules.
const ReasonValidationFailed = "VALIDATION_FAILED"

// ReasonInternal is the reason of masked internal errors.
const ReasonInternal = "INTERNAL"

// ReasonDatabaseTimeout is the reason of UNAVAILABLE when a statement ran into the database's
// statement_timeout or lock_timeout (see pg.Options): retry later.
const ReasonDatabaseTimeout = "DATABASE_TIMEOUT"

var kindCodes = map[fault.Kind]codes.Code{
	fault.Internal:           codes.Internal,
	fault.Invalid:            codes.InvalidArgument,
	fault.NotFound:           codes.NotFound,
	fault.AlreadyExists:      codes.AlreadyExists,
	fault.FailedPrecondition: codes.FailedPrecondition,
	fault.Conflict:           codes.Aborted,
	fault.PermissionDenied:   codes.PermissionDenied,
	fault.Unauthenticated:    codes.Unauthenticated,
	fault.Unavailable:        codes.Unavailable,
}

// ToStatus is the one place where an error becomes a gRPC status: *fault.Error values keep their
// reason (ErrorInfo) and field violations (BadRequest); protovalidate errors become
// INVALID_ARGUMENT / VALIDATION_FAILED; context errors keep their code; a statement the database
// timed out becomes UNAVAILABLE / DATABASE_TIMEOUT; anything else is logged
// and masked as INTERNAL with the correlation id, so no internal detail reaches a caller.
func ToStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	var verr *protovalidate.ValidationError
	if errors.As(err, &verr) {
		fe := &fault.Error{Kind: fault.Invalid, Reason: ReasonValidationFailed, Message: "the request is invalid"}
		for _, v := range verr.Violations {
			fe.Violations = append(fe.Violations, fault.Violation{
				Field:       protovalidate.FieldPathString(v.Proto.GetField()),
				Description: v.Proto.GetMessage(),
			})
		}
		err = fe
	}
	// A lost database connection outside a transaction (InTx classifies the ones inside) is the
	// database's failure: UNAVAILABLE, so that the caller retries, not a masked INTERNAL.
	err = pg.Unavailable(err)
	// A constraint the contract and the domain did not catch (CHECK, UNIQUE, FK, NOT NULL, a NUL
	// byte, a numeric overflow) is the caller's input, not a bug: 400 / 409 with a stable reason.
	err = pg.Constraint(err)
	// A kind without a code (Internal, or a value outside the enum) is masked below: mapping it to
	// the zero code would turn the error into OK.
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal && kindCodes[fe.Kind] != codes.OK {
		if fe.Cause != nil && fe.Kind == fault.Unavailable {
			slog.WarnContext(ctx, "dependency unavailable", "reason", fe.Reason, "err", fe.Cause)
		}
		return faultStatus(ctx, fe, kindCodes[fe.Kind])
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request deadline was exceeded")
	case pg.IsTimeout(err):
		slog.WarnContext(ctx, "database statement timed out", "err", err)
		return faultStatus(ctx, &fault.Error{Reason: ReasonDatabaseTimeout,
			Message: "the database did not answer in time; retry later"}, codes.Unavailable)
	}
	cid := correlation.ID(ctx)
	slog.ErrorContext(ctx, "internal error", "err", err)
	return faultStatus(ctx, &fault.Error{Reason: ReasonInternal,
		Message: "internal error; quote correlation id " + cid + " to support"}, codes.Internal)
}

func faultStatus(ctx context.Context, fe *fault.Error, code codes.Code) error {
	st := status.New(code, fe.Message)
	md := map[string]string{}
	for k, v := range fe.Metadata {
		md[k] = v
	}
	if cid := correlation.ID(ctx); cid != "" {
		md["correlation_id"] = cid
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: fe.Reason, Domain: ErrorDomain, Metadata: md}}
	if len(fe.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range fe.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	if withDetails, err := st.WithDetails(details...); err == nil {
		st = withDetails
	}
	return st.Err()
}

// ReasonOf returns the ErrorInfo reason of a status error (client side), or "".
func ReasonOf(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
