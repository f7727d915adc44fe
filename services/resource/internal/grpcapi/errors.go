package grpcapi

import "github.com/accrue/accrue/internal/platform/fault"

var (
	errRateNeedsDate    = fault.Invalidf("RATE_DATE_REQUIRED", "worker.cost_rate_effective_from", "a cost rate needs the date it takes effect")
	errUtilizationRange = fault.Invalidf("INVALID_PERIOD", "to", "the period must end after it starts and span at most 800 days")
)
