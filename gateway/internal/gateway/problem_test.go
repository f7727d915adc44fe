package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

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
	// What pg.InTx returns when the connection is lost at COMMIT.
	lost := fault.New(fault.Unavailable, pg.ReasonDatabaseUnavailable, "the database is unavailable; retry later")
	r := httptest.NewRequest(http.MethodPost, "/v1/customers", nil)
	w := httptest.NewRecorder()
	errorHandler(ctx, nil, nil, w, r, grpcx.ToStatus(ctx, lost))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != RetryAfterSeconds {
		t.Fatalf("DATABASE_UNAVAILABLE → HTTP %d, Retry-After %q; want 503 and %q", w.Code, w.Header().Get("Retry-After"), RetryAfterSeconds)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Reason != pg.ReasonDatabaseUnavailable || p.Status != 503 {
		t.Fatalf("problem = %+v, %v", p, err)
	}
	// Other errors carry no Retry-After.
	w = httptest.NewRecorder()
	errorHandler(ctx, nil, nil, w, r, grpcx.ToStatus(ctx, fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "closed")))
	if w.Code != http.StatusBadRequest && w.Code != http.StatusPreconditionFailed || w.Header().Get("Retry-After") != "" {
		t.Fatalf("PERIOD_CLOSED → HTTP %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}
