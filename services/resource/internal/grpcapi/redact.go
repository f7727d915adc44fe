package grpcapi

import (
	"context"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// Scopes a request's content needs beyond its method's scope.
const (
	// scopeCostRatesRead sees cost amounts (assignment planned cost); without it they are redacted.
	scopeCostRatesRead = "costrates:read"
	// scopeCostRatesWrite sets cost rates, SyncWorker's included.
	scopeCostRatesWrite = "costrates:write"
)

// redact leaves the cost amounts of the assignments out when the caller may not read cost rates.
func redact(ctx context.Context, as ...*resourcev1.Assignment) {
	if auth.Granted(ctx, scopeCostRatesRead) {
		return
	}
	for _, a := range as {
		wire.RedactCost(a)
	}
}
