package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// details returns the ErrorInfo and BadRequest of a status error.
func details(t *testing.T, err error) (*status.Status, *errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a status error", err)
	}
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	return st, info, br
}

func TestToStatusMapsFaultKinds(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(context.Background(), "corr-kinds-1")
	cases := []struct {
		kind fault.Kind
		code codes.Code
	}{
		{fault.Invalid, codes.InvalidArgument},
		{fault.NotFound, codes.NotFound},
		{fault.AlreadyExists, codes.AlreadyExists},
		{fault.FailedPrecondition, codes.FailedPrecondition},
		{fault.Conflict, codes.Aborted},
		{fault.PermissionDenied, codes.PermissionDenied},
		{fault.Unauthenticated, codes.Unauthenticated},
		{fault.Unavailable, codes.Unavailable},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			fe := fault.New(tc.kind, "PERIOD_CLOSED", "period 2026-03 is closed").With("period 2026-03 is closed", "period", "2026-03")
			// Wrapped, as application code returns it.
			err := grpcx.ToStatus(ctx, fmt.Errorf("post time: %w", fe))
			st, info, _ := details(t, err)
			if st.Code() != tc.code {
				t.Fatalf("code = %v, want %v", st.Code(), tc.code)
			}
			if st.Message() != "period 2026-03 is closed" {
				t.Errorf("message = %q", st.Message())
			}
			if info == nil {
				t.Fatal("no ErrorInfo detail")
			}
			if info.GetReason() != "PERIOD_CLOSED" || info.GetDomain() != grpcx.ErrorDomain || grpcx.ErrorDomain != "accrue.dev" {
				t.Errorf("ErrorInfo = %v", info)
			}
			if info.GetMetadata()["correlation_id"] != "corr-kinds-1" || info.GetMetadata()["period"] != "2026-03" {
				t.Errorf("metadata = %v", info.GetMetadata())
			}
			if grpcx.ReasonOf(err) != "PERIOD_CLOSED" {
				t.Errorf("ReasonOf = %q", grpcx.ReasonOf(err))
			}
		})
	}
}

func TestToStatusFieldViolations(t *testing.T) {
	t.Parallel()
	fe := fault.Invalidf("INVALID_AMOUNT", "lines[2].amount", "%q is not a decimal number", "12,5")
	fe.Violations = append(fe.Violations, fault.Violation{Field: "currency_code", Description: "unknown currency"})
	st, info, br := details(t, grpcx.ToStatus(context.Background(), fe))
	if st.Code() != codes.InvalidArgument || info.GetReason() != "INVALID_AMOUNT" {
		t.Fatalf("status = %v / %v", st.Code(), info.GetReason())
	}
	if br == nil || len(br.GetFieldViolations()) != 2 {
		t.Fatalf("BadRequest = %v, want 2 field violations", br)
	}
	if v := br.GetFieldViolations()[0]; v.GetField() != "lines[2].amount" || !strings.Contains(v.GetDescription(), "12,5") {
		t.Errorf("violation[0] = %v", v)
	}
	if v := br.GetFieldViolations()[1]; v.GetField() != "currency_code" {
		t.Errorf("violation[1] = %v", v)
	}
	if _, ok := info.GetMetadata()["correlation_id"]; ok {
		t.Errorf("correlation_id set without one in the context: %v", info.GetMetadata())
	}
}

func TestToStatusMasksInternalErrors(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(context.Background(), "corr-internal-7")
	secret := `ERROR: relation "cost_rates" does not exist; password=hunter2`
	for name, err := range map[string]error{
		"plain error":       errors.New(secret),
		"wrapped error":     fmt.Errorf("store: %w", errors.New(secret)),
		"internal fault":    fault.New(fault.Internal, "DB_BROKEN", "%s", secret),
		"out-of-range kind": &fault.Error{Kind: fault.Kind(42), Reason: "ODD", Message: secret},
	} {
		t.Run(name, func(t *testing.T) {
			out := grpcx.ToStatus(ctx, err)
			if out == nil {
				t.Fatal("ToStatus turned an error into success")
			}
			st, info, _ := details(t, out)
			if st.Code() != codes.Internal {
				t.Fatalf("code = %v, want Internal", st.Code())
			}
			if info.GetReason() != grpcx.ReasonInternal || info.GetReason() != "INTERNAL" {
				t.Errorf("reason = %q, want INTERNAL", info.GetReason())
			}
			if strings.Contains(st.Message(), "cost_rates") || strings.Contains(st.Message(), "hunter2") || strings.Contains(st.Message(), "DB_BROKEN") {
				t.Errorf("internal detail leaked to the caller: %q", st.Message())
			}
			if !strings.Contains(st.Message(), "corr-internal-7") || info.GetMetadata()["correlation_id"] != "corr-internal-7" {
				t.Errorf("correlation id missing: message %q, metadata %v", st.Message(), info.GetMetadata())
			}
		})
	}
}

func TestToStatusContextErrorsAndPassthrough(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if grpcx.ToStatus(ctx, nil) != nil {
		t.Fatal("ToStatus(nil) != nil")
	}
	if c := status.Code(grpcx.ToStatus(ctx, fmt.Errorf("query: %w", context.Canceled))); c != codes.Canceled {
		t.Errorf("cancelled → %v, want Canceled", c)
	}
	if c := status.Code(grpcx.ToStatus(ctx, fmt.Errorf("query: %w", context.DeadlineExceeded))); c != codes.DeadlineExceeded {
		t.Errorf("deadline → %v, want DeadlineExceeded", c)
	}
	// A fault that wraps a context error keeps its own classification.
	fe := fault.New(fault.Unavailable, "DATABASE_UNAVAILABLE", "the database is unavailable").Wrap(context.DeadlineExceeded)
	if st, info, _ := details(t, grpcx.ToStatus(ctx, fe)); st.Code() != codes.Unavailable || info.GetReason() != "DATABASE_UNAVAILABLE" {
		t.Errorf("unavailable fault → %v/%v", st.Code(), info.GetReason())
	}
	// An existing status (e.g. from a downstream call) passes through unchanged.
	in := status.Error(codes.ResourceExhausted, "quota")
	if out := grpcx.ToStatus(ctx, in); status.Code(out) != codes.ResourceExhausted || status.Convert(out).Message() != "quota" {
		t.Errorf("status passthrough → %v", out)
	}
}

func TestToStatusProtovalidateErrors(t *testing.T) {
	t.Parallel()
	err := protovalidate.Validate(&opsv1.GetExceptionRequest{Service: "payroll", ExceptionId: "not-a-uuid"})
	if err == nil {
		t.Fatal("protovalidate accepted an invalid request")
	}
	st, info, br := details(t, grpcx.ToStatus(context.Background(), err))
	if st.Code() != codes.InvalidArgument || info.GetReason() != grpcx.ReasonValidationFailed {
		t.Fatalf("status = %v/%v, want InvalidArgument/VALIDATION_FAILED", st.Code(), info.GetReason())
	}
	fields := map[string]bool{}
	for _, v := range br.GetFieldViolations() {
		fields[v.GetField()] = true
		if v.GetDescription() == "" {
			t.Errorf("violation of %s has no description", v.GetField())
		}
	}
	if !fields["exception_id"] || !fields["service"] || len(fields) != 2 {
		t.Errorf("violations on %v, want service and exception_id", fields)
	}
}

func TestReasonOfNonStatus(t *testing.T) {
	t.Parallel()
	if r := grpcx.ReasonOf(errors.New("x")); r != "" {
		t.Errorf("ReasonOf(plain) = %q", r)
	}
	if r := grpcx.ReasonOf(status.Error(codes.NotFound, "x")); r != "" {
		t.Errorf("ReasonOf(status without ErrorInfo) = %q", r)
	}
}
