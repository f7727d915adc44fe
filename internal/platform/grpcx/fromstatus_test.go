package grpcx_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// What one service's ToStatus sends, another's DetailsOf and FaultFromStatus read back.
func TestStatusDetailsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := correlation.With(context.Background(), "corr-42")
	sent := fault.Invalidf("RATE_CARD_INVALID", "rate_card.lines[1].rate", "the rate is negative").
		With("the rate card is invalid", "contract_id", "c-1")
	err := grpcx.ToStatus(ctx, sent)
	st, _ := status.FromError(err)

	d := grpcx.DetailsOf(st)
	if d.Reason != "RATE_CARD_INVALID" || d.CorrelationID != "corr-42" || len(d.Metadata) != 1 || d.Metadata["contract_id"] != "c-1" {
		t.Fatalf("DetailsOf = %+v; want the reason, the correlation id apart, and the metadata", d)
	}
	if len(d.Violations) != 1 || d.Violations[0].Field != "rate_card.lines[1].rate" {
		t.Fatalf("violations = %+v", d.Violations)
	}

	fe := grpcx.FaultFromStatus(err, func(f string) string { return "contract." + f })
	if fe.Kind != fault.Invalid || fe.Reason != "RATE_CARD_INVALID" || fe.Message != "the rate card is invalid" ||
		fe.Metadata["contract_id"] != "c-1" || len(fe.Metadata) != 1 || !errors.Is(fe.Cause, err) {
		t.Fatalf("FaultFromStatus = %+v", fe)
	}
	if len(fe.Violations) != 1 || fe.Violations[0].Field != "contract.rate_card.lines[1].rate" {
		t.Fatalf("violations = %+v, want the field rewritten into the caller's request", fe.Violations)
	}

	// A status without details keeps its code as the reason.
	bare := grpcx.FaultFromStatus(status.Error(codes.NotFound, "no such thing"), nil)
	if bare.Kind != fault.NotFound || bare.Reason != "UPSTREAM_NotFound" {
		t.Fatalf("FaultFromStatus(bare NotFound) = %+v", bare)
	}
	if d := grpcx.DetailsOf(status.New(codes.NotFound, "x")); d.Reason != "" || d.Metadata != nil || d.Violations != nil {
		t.Fatalf("DetailsOf(bare) = %+v, want empty", d)
	}
}
