package exceptions_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/exceptions"
)

// GetException shows the payload an operator needs: an envelope decoded to JSON; a cost rate in
// it reads *** unless the caller has costrates:read.
func TestGetExceptionShowsThePayloadWithCostRatesMasked(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	srv := exceptions.NewServer(q, "resource")
	rated := record(t, ctx, q, exceptions.New{Kind: "assignment.costing", Reason: "RATE_MISSING_FOR_DATE", EntityID: "a-1",
		Payload: []byte(`{"assignment_id":"a-1","cost_rate":{"amount":"85.00","currency_code":"USD"},"hours":"12"}`)})
	money, _ := anypb.New(&commonv1.Money{Amount: "12.50", CurrencyCode: "EUR"})
	raw, _ := proto.Marshal(&commonv1.EventEnvelope{EventId: "0192-evt", Type: "expense.approved", Subject: "e-1", Payload: money})
	enveloped := record(t, ctx, q, exceptions.New{Kind: "stream.dead_letter.billing:x", Reason: "EVENT_INVALID", EntityID: "e-1", Payload: raw})

	ops := auth.WithPrincipal(ctx, auth.Principal{Subject: "analyst", Scopes: []string{"ops:read"}})
	finance := auth.WithPrincipal(ctx, auth.Principal{Subject: "controller", Scopes: []string{"ops:read", "costrates:read"}})
	resp, err := srv.GetException(ops, &opsv1.GetExceptionRequest{Service: "resource", ExceptionId: rated})
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.GetException().GetPayloadJson(); !strings.Contains(p, `"cost_rate": "***"`) || strings.Contains(p, "85.00") || !strings.Contains(p, `"hours": "12"`) {
		t.Errorf("payload for ops:read only:\n%s\nwant the cost rate masked, the hours shown", p)
	}
	resp, err = srv.GetException(finance, &opsv1.GetExceptionRequest{Service: "resource", ExceptionId: rated})
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.GetException().GetPayloadJson(); !strings.Contains(p, `"amount": "85.00"`) {
		t.Errorf("payload with costrates:read:\n%s\nwant the cost rate 85.00", p)
	}
	resp, err = srv.GetException(ops, &opsv1.GetExceptionRequest{Service: "resource", ExceptionId: enveloped})
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.GetException().GetPayloadJson(); !strings.Contains(p, `"event_id": "0192-evt"`) || !strings.Contains(p, `"amount": "12.50"`) {
		t.Errorf("envelope payload:\n%s\nwant the event id and the decoded money", p)
	}
	list, err := srv.ListExceptions(finance, &opsv1.ListExceptionsRequest{Service: "resource"})
	if err != nil || len(list.GetExceptions()) != 2 || list.GetExceptions()[0].GetPayloadJson() != "" {
		t.Errorf("list: %v (%v), want two exceptions without payloads", list, err)
	}
}
