package grpcx_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

type response struct{ total string }

func encode(n int) *response { return &response{total: strconv.Itoa(n)} }

func TestHandleDecodesRunsAndEncodes(t *testing.T) {
	ran := 0
	double := func(_ context.Context, n int) (int, error) { ran++; return 2 * n, nil }
	resp, err := grpcx.Handle(context.Background(), "21", strconv.Atoi, double, encode)
	if err != nil || resp == nil || resp.total != "42" || ran != 1 {
		t.Fatalf("Handle = %+v, %v after %d runs; want total 42 after one run", resp, err, ran)
	}
}

func TestHandleReturnsARefusedRequestWithoutRunningTheUseCase(t *testing.T) {
	refused := fault.Invalidf("BAD_NUMBER", "n", "not a number")
	decode := func(string) (int, error) { return 0, refused }
	ran := 0
	run := func(context.Context, int) (int, error) { ran++; return 0, nil }
	resp, err := grpcx.Handle(context.Background(), "x", decode, run, encode)
	if !errors.Is(err, refused) || resp != nil || ran != 0 {
		t.Fatalf("Handle = %+v, %v after %d runs; want the refusal as is, no response, no run", resp, err, ran)
	}
}

func TestHandleReturnsTheUseCasesErrorAsIs(t *testing.T) {
	notFound := fault.New(fault.NotFound, "NO_SUCH_THING", "no such thing")
	run := func(context.Context, int) (int, error) { return 7, notFound }
	resp, err := grpcx.Handle(context.Background(), "1", strconv.Atoi, run, encode)
	if !errors.Is(err, notFound) || resp != nil {
		t.Fatalf("Handle = %+v, %v; want the use case's error as is and no response", resp, err)
	}
}

func TestReplyEncodesTheResultOrPassesTheErrorOn(t *testing.T) {
	resp, err := grpcx.Reply(encode)(5, nil)
	if err != nil || resp == nil || resp.total != "5" {
		t.Fatalf("Reply(5, nil) = %+v, %v; want total 5", resp, err)
	}
	conflict := fault.New(fault.Conflict, "STALE_VERSION", "stale")
	resp, err = grpcx.Reply(encode)(5, conflict)
	if !errors.Is(err, conflict) || resp != nil {
		t.Fatalf("Reply(5, err) = %+v, %v; want the error as is and no response", resp, err)
	}
}

func TestReply2EncodesBothResultsOrPassesTheErrorOn(t *testing.T) {
	join := func(n int, s string) *response { return &response{total: strconv.Itoa(n) + s} }
	resp, err := grpcx.Reply2(join)(5, "x", nil)
	if err != nil || resp == nil || resp.total != "5x" {
		t.Fatalf("Reply2(5, x, nil) = %+v, %v; want total 5x", resp, err)
	}
	conflict := fault.New(fault.Conflict, "STALE_VERSION", "stale")
	resp, err = grpcx.Reply2(join)(5, "x", conflict)
	if !errors.Is(err, conflict) || resp != nil {
		t.Fatalf("Reply2(5, x, err) = %+v, %v; want the error as is and no response", resp, err)
	}
}

func TestNeedRefusesMissingUseCases(t *testing.T) {
	type service struct{ name string }
	s := &service{name: "billing"}
	if got := grpcx.Need(s); got != s {
		t.Fatalf("Need(s) = %p, want %p", got, s)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Need(nil) did not panic")
		}
	}()
	grpcx.Need[service](nil)
}
