package grpcx_test

import (
	"context"
	"errors"
	"strings"
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

	// A status without details keeps its code as the reason, in upper snake case, and never
	// relays the transport's message.
	bare := grpcx.FaultFromStatus(status.Error(codes.NotFound, "no such thing"), nil)
	if bare.Kind != fault.NotFound || bare.Reason != "UPSTREAM_NOT_FOUND" || bare.Message == "no such thing" {
		t.Fatalf("FaultFromStatus(bare NotFound) = %+v", bare)
	}
	if d := grpcx.DetailsOf(status.New(codes.NotFound, "x")); d.Reason != "" || d.Metadata != nil || d.Violations != nil {
		t.Fatalf("DetailsOf(bare) = %+v, want empty", d)
	}
}

// A dependency's transport failure (no ErrorInfo) is masked: upper-snake reason, generic message.
func TestFaultFromStatusMasksTransportErrors(t *testing.T) {
	t.Parallel()
	transport := "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.0.7:9091: connect: connection refused\""
	for code, reason := range map[codes.Code]string{
		codes.Unavailable:       "UPSTREAM_UNAVAILABLE",
		codes.DeadlineExceeded:  "UPSTREAM_DEADLINE_EXCEEDED",
		codes.Internal:          "UPSTREAM_INTERNAL",
		codes.ResourceExhausted: "UPSTREAM_RESOURCE_EXHAUSTED",
		codes.Unknown:           "UPSTREAM_UNKNOWN",
	} {
		fe := grpcx.FaultFromStatus(status.Error(code, transport), nil)
		if fe.Reason != reason || fe.Kind != fault.Unavailable {
			t.Errorf("%s: reason %q kind %v, want %q Unavailable", code, fe.Reason, fe.Kind, reason)
		}
		st, _ := status.FromError(grpcx.ToStatus(context.Background(), fe))
		if strings.Contains(st.Message(), "10.0.0.7") || strings.Contains(st.Message(), "dial tcp") {
			t.Errorf("%s: the caller sees the transport message %q", code, st.Message())
		}
		if got := grpcx.DetailsOf(st).Reason; got != reason {
			t.Errorf("%s: status reason %q, want %q", code, got, reason)
		}
	}
	// The caller's own legal-entity refusal, relayed with its token, stays the caller's 403.
	denied := grpcx.ToStatus(context.Background(), fault.New(fault.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN", "no"))
	if fe := grpcx.FaultFromStatus(denied, nil); fe.Kind != fault.PermissionDenied || fe.Reason != "LEGAL_ENTITY_FORBIDDEN" {
		t.Errorf("relayed LEGAL_ENTITY_FORBIDDEN = %+v", fe)
	}
}
