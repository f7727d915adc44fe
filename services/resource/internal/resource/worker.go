package resource

import (
	"strconv"

	"github.com/accrue/accrue/internal/platform/fault"
)

// WorkerObjectType is the object type of the external reference an HCM worker record gives its
// resource.
const WorkerObjectType = "Worker"

// ErrRateNeedsDate refuses a worker record whose cost rate has no effective date.
var ErrRateNeedsDate = fault.Invalidf("RATE_DATE_REQUIRED", "worker.cost_rate_effective_from", "a cost rate needs the date it takes effect")

// Worker is an HCM worker record.
type Worker struct {
	System   string
	WorkerID string
	// Version orders the HCM's records of the worker; an older one changes nothing.
	Version int64
	// Input is the resource the record describes (the HCM does not own the utilization target).
	Input Input
	// Rate, when set, is the compensation-derived cost rate in force from Rate.From.
	Rate *Rate
}

// Check refuses a record whose cost rate has no effective date.
func (w Worker) Check() error {
	if w.Rate != nil && w.Rate.From.IsZero() {
		return ErrRateNeedsDate
	}
	return nil
}

// Ref is the reference the record gives its resource.
func (w Worker) Ref() ExternalRef {
	return ExternalRef{System: w.System, ObjectType: WorkerObjectType, ExternalID: w.WorkerID}
}

// CostRate is the record's cost rate (w.Rate must be set), with the record named as its reason.
func (w Worker) CostRate() Rate {
	r := *w.Rate
	r.Reason = w.System + " record " + strconv.FormatInt(w.Version, 10)
	return r
}
