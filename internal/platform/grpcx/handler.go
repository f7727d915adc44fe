package grpcx

import "context"

// Handle is the whole body of a gRPC handler that calls one use case: decode translates the
// request into the use case's input, run is the use case, encode translates its result into the
// response. An error from decode (a refusal of the request) or from run returns as is, with the
// zero response, for the interceptor to map to a status (ToStatus); run is not called when decode
// fails. A handler reads
//
//	return grpcx.Handle(ctx, req, wire.RecordTimeInput, s.app.Record, wire.RecordTimeEntryResponse)
func Handle[Req, In, Out, Resp any](ctx context.Context, req Req, decode func(Req) (In, error),
	run func(context.Context, In) (Out, error), encode func(Out) Resp) (Resp, error) {
	in, err := decode(req)
	if err != nil {
		var zero Resp
		return zero, err
	}
	return Reply(encode)(run(ctx, in))
}

// Reply ends a handler whose use case takes more than one argument, or arguments straight from the
// request's getters: Reply(encode)(s.app.Get(ctx, req.GetId())) returns the use case's error as
// is, with the zero response, else encode of its result.
func Reply[Out, Resp any](encode func(Out) Resp) func(Out, error) (Resp, error) {
	return func(out Out, err error) (Resp, error) {
		if err != nil {
			var zero Resp
			return zero, err
		}
		return encode(out), nil
	}
}

// Reply2 is Reply for a use case with two results, such as the record and what the write did:
// Reply2(wire.UpsertResponse)(s.app.Upsert(ctx, in)).
func Reply2[A, B, Resp any](encode func(A, B) Resp) func(A, B, error) (Resp, error) {
	return func(a A, b B, err error) (Resp, error) {
		if err != nil {
			var zero Resp
			return zero, err
		}
		return encode(a, b), nil
	}
}

// Need returns the use cases a service's gRPC server is built over, and panics when there are none:
// a wiring mistake, found at start-up rather than on the first call.
func Need[T any](uses *T) *T {
	if uses == nil {
		panic("grpcapi: New needs the use cases")
	}
	return uses
}
