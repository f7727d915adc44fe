package app

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/txn"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Store is what the use cases need of persistence (internal/store implements it). Every method
// runs in the transaction ctx carries (see InTx), or on its own when there is none.
type Store interface {
	txn.Store

	ResourceStore
	RateStore
	AssignmentStore
	ReplicaStore
}

// ResourceStore keeps resources and their external references.
type ResourceStore interface {
	// GetResource returns a resource with its references; resource.ErrNotFound when absent.
	GetResource(ctx context.Context, id string) (resource.Resource, error)
	// GetResourceForUpdate is GetResource, locking the resource until the transaction ends.
	GetResourceForUpdate(ctx context.Context, id string) (resource.Resource, error)
	// ResourceByRef returns the id of the resource holding any of refs.
	ResourceByRef(ctx context.Context, refs []resource.ExternalRef) (id string, found bool, err error)
	// ListResources returns up to limit resources after afterID, in id order.
	ListResources(ctx context.Context, afterID string, limit int) ([]resource.Resource, error)
	// SaveResource inserts (version 1) or updates r and attaches newRefs; it can return
	// resource.ErrReferenceTaken.
	SaveResource(ctx context.Context, r resource.Resource, newRefs []resource.ExternalRef) error
	// SetSourceVersion records the newest source version applied.
	SetSourceVersion(ctx context.Context, id string, v int64) error
	// LockWorker serialises the records of one HCM worker until the transaction ends.
	LockWorker(ctx context.Context, system, workerID string) error
}

// RateStore keeps cost-rate timelines and their history.
type RateStore interface {
	// CurrentRates returns the resource's current timeline, ordered by start.
	CurrentRates(ctx context.Context, resourceID string) (resource.Timeline, error)
	// RateHistory returns the superseded periods, newest first.
	RateHistory(ctx context.Context, resourceID string) ([]resource.HistoricRate, error)
	// ApplyRates supersedes the stored periods superseded, stores the periods of next not
	// stored yet, and returns the resource's new rates version.
	ApplyRates(ctx context.Context, resourceID string, superseded []int64, next resource.Timeline, now time.Time) (int64, error)
}

// AssignmentStore keeps assignments with their costed plans.
type AssignmentStore interface {
	// GetAssignment returns an assignment; resource.ErrAssignmentNotFound when absent.
	GetAssignment(ctx context.Context, id string) (resource.Assignment, error)
	// GetAssignmentForUpdate is GetAssignment, locking it until the transaction ends.
	GetAssignmentForUpdate(ctx context.Context, id string) (resource.Assignment, error)
	ListAssignments(ctx context.Context, f resource.AssignmentFilter) ([]resource.Assignment, error)
	// CountAssignments counts the assignments f selects, ignoring paging.
	CountAssignments(ctx context.Context, f resource.AssignmentFilter) (int64, error)
	// SaveAssignment inserts (version 1) or updates an assignment.
	SaveAssignment(ctx context.Context, a resource.Assignment) error
	// CountRateMissing counts active assignments lacking a cost rate.
	CountRateMissing(ctx context.Context) (int64, error)
}

// ReplicaStore keeps what other services' events tell: projects, and posted time.
type ReplicaStore interface {
	// ProjectView returns the replica of a project; found is false when unknown.
	ProjectView(ctx context.Context, id string) (v resource.ProjectView, found bool, err error)
	// UpsertProjectView applies v when its version is newer than the stored one.
	UpsertProjectView(ctx context.Context, v resource.ProjectView) error
	// ActualBillableHours returns the posted billable hours per month of [from, to], keyed by
	// the month's first day.
	ActualBillableHours(ctx context.Context, resourceID string, from, to civil.Date) (map[civil.Date]decimal.Decimal, error)
	// AddTimeActuals adds posted hours to their resources' days.
	AddTimeActuals(ctx context.Context, posted []resource.PostedTime) error
}
