package stream_test

import (
	"testing"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/stream"
)

type stringer interface{ GetValue() string }

func message(t *testing.T, payload *anypb.Any) stream.Message {
	t.Helper()
	return stream.Message{ID: "1-0", Envelope: &commonv1.EventEnvelope{EventId: "ev-1", Payload: payload}}
}

func TestPayloadAs(t *testing.T) {
	t.Parallel()
	str, err := anypb.New(wrapperspb.String("8h"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := stream.PayloadAs[stringer](message(t, str)); err != nil || !ok || v.GetValue() != "8h" {
		t.Fatalf("PayloadAs(string) = %v, %v, %v; want 8h, true, nil", v, ok, err)
	}

	// A payload of another type, or of a type this binary does not know, is skipped.
	num, _ := anypb.New(wrapperspb.Int64(8))
	if _, ok, err := stream.PayloadAs[stringer](message(t, num)); err != nil || ok {
		t.Fatalf("PayloadAs(int64) = %v, %v; want false, nil", ok, err)
	}
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/accrue.future.v9.Unheard", Value: []byte{8, 1}}
	if _, ok, err := stream.PayloadAs[stringer](message(t, unknown)); err != nil || ok {
		t.Fatalf("PayloadAs(unknown type) = %v, %v; want false, nil", ok, err)
	}

	// A known type whose bytes do not decode is an error naming the event.
	bad := &anypb.Any{TypeUrl: str.GetTypeUrl(), Value: []byte{0xff, 0xff}}
	if _, _, err := stream.PayloadAs[stringer](message(t, bad)); err == nil {
		t.Fatal("PayloadAs accepted a corrupt payload")
	}
}
