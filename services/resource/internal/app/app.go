// Package app holds the resource service's use cases: resources and their cost rates, HCM worker
// sync, assignments and their costing, utilization, and the replicas fed by other services'
// events. Each writes its state, its events (outbox) and its audit records in one transaction,
// through the Store it is given; it knows no SQL. Rates are never logged.
package app

import (
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Overbooking policies.
const (
	OverbookingWarn   = "warn"
	OverbookingReject = "reject"
)

// Audit actions.
const (
	actionResourceCreated    = "resource.created"
	actionResourceUpdated    = "resource.updated"
	actionRatesChanged       = resourcev1.EventTypeCostRateChanged
	actionAssignmentCreated  = "assignment.created"
	actionAssignmentUpdated  = "assignment.updated"
	actionAssignmentRecosted = "assignment.recosted"
)

// Deps are the use cases' collaborators.
type Deps struct {
	Store Store
	Log   *slog.Logger
	// Overbooking is OverbookingWarn (default) or OverbookingReject.
	Overbooking string
}

// Service runs the resource use cases.
type Service struct {
	Deps
	now   func() time.Time
	newID func() string
}

// New returns the use cases.
func New(d Deps) *Service {
	if d.Store == nil || d.Log == nil {
		panic("app: New needs a store and a logger")
	}
	if d.Overbooking == "" {
		d.Overbooking = OverbookingWarn
	}
	return &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}
