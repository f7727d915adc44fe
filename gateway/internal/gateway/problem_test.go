package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/pg"
)

func TestProblemFromStatus(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(context.Background(), "corr-7")
	err := grpcx.ToStatus(ctx, fault.Invalidf("INVALID_DATE", "work_date", "2026-02-30 is not a calendar date").
		With("the entry is invalid", "entry", "e-1"))
	st, _ := status.FromError(err)
	p := problemFromStatus(st)
	if p.Status != http.StatusBadRequest || p.Reason != "INVALID_DATE" || p.Detail != "the entry is invalid" ||
		p.CorrelationID != "corr-7" || p.Metadata["entry"] != "e-1" || len(p.Metadata) != 1 {
		t.Fatalf("problem = %+v", p)
	}
	if want := []Violation{{Field: "work_date", Description: "2026-02-30 is not a calendar date"}}; !slices.Equal(p.Violations, want) {
		t.Fatalf("violations = %+v, want %+v", p.Violations, want)
	}

	// A reason whose code maps too coarsely gets its own HTTP status.
	reused, _ := status.FromError(grpcx.ToStatus(ctx, fault.New(fault.Conflict, idempotency.ReasonReused, "key reused")))
	if p := problemFromStatus(reused); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("%s → HTTP %d, want 422", idempotency.ReasonReused, p.Status)
	}
	// A bare status: the code, in upper snake case, is the reason.
	if p := problemFromStatus(status.New(codes.Unavailable, "down")); p.Status != http.StatusServiceUnavailable || p.Reason != "UNAVAILABLE" {
		t.Fatalf("bare Unavailable → %+v", p)
	}
	if p := problemFromStatus(status.New(codes.FailedPrecondition, "no")); p.Reason != "FAILED_PRECONDITION" {
		t.Fatalf("bare FailedPrecondition → reason %q", p.Reason)
	}
}

func TestUnavailableAnswers503WithRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(context.Background(), "corr-db")
	g := &Gateway{opts: Options{Logger: slog.New(slog.DiscardHandler)}}
	// What pg.InTx returns when the connection is lost at COMMIT.
	lost := fault.New(fault.Unavailable, pg.ReasonDatabaseUnavailable, "the database is unavailable; retry later")
	r := httptest.NewRequest(http.MethodPost, "/v1/customers", nil)
	w := httptest.NewRecorder()
	g.errorHandler(ctx, nil, nil, w, r, grpcx.ToStatus(ctx, lost))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != RetryAfterSeconds {
		t.Fatalf("DATABASE_UNAVAILABLE → HTTP %d, Retry-After %q; want 503 and %q", w.Code, w.Header().Get("Retry-After"), RetryAfterSeconds)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Reason != pg.ReasonDatabaseUnavailable || p.Status != 503 {
		t.Fatalf("problem = %+v, %v", p, err)
	}
	// Other errors carry no Retry-After.
	w = httptest.NewRecorder()
	g.errorHandler(ctx, nil, nil, w, r, grpcx.ToStatus(ctx, fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "closed")))
	if w.Code != http.StatusBadRequest && w.Code != http.StatusPreconditionFailed || w.Header().Get("Retry-After") != "" {
		t.Fatalf("PERIOD_CLOSED → HTTP %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// Transport failures never reach the caller's detail: neither the gateway's own (no ErrorInfo)
// nor one a service relays from its dependency (reason UPSTREAM_<code>, the transport message).
// A service's own answer keeps its detail, and so does grpc-gateway's decode error.
func TestTransportDetailsAreMasked(t *testing.T) {
	t.Parallel()
	const transport = `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:7001: connect: connection refused"`
	relayed, _ := status.New(codes.Unavailable, transport).WithDetails(&errdetails.ErrorInfo{Reason: "UPSTREAM_Unavailable", Domain: "accrue"})
	own, _ := status.New(codes.Unavailable, "the billing service is unavailable; the project waits for its contract").
		WithDetails(&errdetails.ErrorInfo{Reason: "BILLING_UNAVAILABLE", Domain: "accrue"})
	for _, c := range []struct {
		st         *status.Status
		wantDetail string
	}{
		{status.New(codes.Unavailable, transport), "an upstream service is unavailable; retry with backoff"},
		{relayed, "an upstream service is unavailable; retry with backoff"},
		{status.New(codes.DeadlineExceeded, "context deadline exceeded"), "an upstream service did not answer in time; retry with backoff"},
		{status.New(codes.Internal, "grpc: error while marshaling: proto: …"), "the request failed inside Accrue; quote the correlation id to support"},
		{own, "the billing service is unavailable; the project waits for its contract"},
		{status.New(codes.InvalidArgument, "proto: syntax error (line 1:2): invalid value"), "proto: syntax error (line 1:2): invalid value"},
	} {
		if p := problemFromStatus(c.st); p.Detail != c.wantDetail {
			t.Errorf("%s %q: detail %q, want %q", c.st.Code(), c.st.Message(), p.Detail, c.wantDetail)
		}
	}
}
