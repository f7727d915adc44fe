package stream_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/stream"
)

type stringer interface{ GetValue() string }

func message(payload proto.Message) stream.Message {
	return stream.Message{ID: "1-0", Envelope: &commonv1.EventEnvelope{EventId: "ev-1"}, Payload: payload}
}

func TestPayloadAs(t *testing.T) {
	t.Parallel()
	if v, ok := stream.PayloadAs[stringer](message(wrapperspb.String("8h"))); !ok || v.GetValue() != "8h" {
		t.Fatalf("PayloadAs(string) = %v, %v; want 8h, true", v, ok)
	}
	if v, ok := stream.PayloadAs[*wrapperspb.StringValue](message(wrapperspb.String("4h"))); !ok || v.GetValue() != "4h" {
		t.Fatalf("PayloadAs[*StringValue] = %v, %v; want 4h, true", v, ok)
	}
	// A payload of another type, or none, is not a T.
	if _, ok := stream.PayloadAs[stringer](message(wrapperspb.Int64(8))); ok {
		t.Fatal("PayloadAs(int64) matched a string family")
	}
	if _, ok := stream.PayloadAs[stringer](message(nil)); ok {
		t.Fatal("PayloadAs(no payload) matched")
	}
}
