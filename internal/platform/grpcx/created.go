package grpcx

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// CreatedHeader is the response metadata by which a write says whether it created its record
// ("true") or found it already there ("false"), for responses whose message has no `created`
// field or *_CREATED outcome. The REST gateway answers 201 or 200 from it; a replayed response
// (idempotency) answers 200 whatever it says.
const CreatedHeader = "accrue-created"

// SetCreated sets CreatedHeader on the call's response. It does nothing outside a gRPC call.
func SetCreated(ctx context.Context, created bool) {
	_ = grpc.SetHeader(ctx, metadata.Pairs(CreatedHeader, strconv.FormatBool(created)))
}
