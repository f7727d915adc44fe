package app

import (
	"context"
	"time"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/txn"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// Store is what the use cases keep and read (implemented by store.Store). Every method runs in
// the transaction InTx put in ctx, when there is one.
type Store interface {
	txn.Store

	ProjectStore
	ConversionStore
	ReplicaStore
	FinancialsStore
}

// ProjectStore keeps projects, their tasks and the templates they start from.
type ProjectStore interface {
	// GetProject returns a project with its tasks (project.ErrNotFound); LockProject also locks it
	// until the transaction ends.
	GetProject(ctx context.Context, id string) (project.Project, error)
	LockProject(ctx context.Context, id string) (project.Project, error)
	ListProjects(ctx context.Context, status project.Status, customerID, afterID string, limit int, only []string) ([]project.Project, int64, error)
	CountByStatus(ctx context.Context, status project.Status) (int64, error)
	// CreateProject writes a new project with its tasks, events and audit records at once.
	CreateProject(ctx context.Context, p project.Project, events []outbox.Event, records []audit.Record) error
	InsertTasks(ctx context.Context, projectID string, tasks []project.Task) error
	// UpdateProject stores the project's header fields (not its tasks).
	UpdateProject(ctx context.Context, p project.Project) error
	// Templates returns the templates of lines (every template when none given).
	Templates(ctx context.Context, lines ...string) (map[string]project.Template, error)
	PutTemplate(ctx context.Context, t project.Template) error
}

// ConversionStore keeps the conversions of opportunities.
type ConversionStore interface {
	// LookupConversion reads what a conversion decides on, in one round trip, locking nothing.
	LookupConversion(ctx context.Context, lines []string, leCode, crm, oppID string) (project.ConversionLookup, error)
	GetConversion(ctx context.Context, crm, oppID string) (project.Conversion, bool, error)
	// LockConversion is GetConversion that serialises, across instances, every conversion of the
	// opportunity until the transaction ends.
	LockConversion(ctx context.Context, crm, oppID string) (project.Conversion, bool, error)
	ConversionByProject(ctx context.Context, projectID string) (project.Conversion, bool, error)
	SaveConversion(ctx context.Context, c project.Conversion) error
	// CreateConversion writes a first conversion (project, tasks, events, audit records,
	// conversion row and the resolution of the exception with resolveKey) in one round trip that
	// commits it, never overwriting a conversion. created=false means nothing was written: another
	// writer converted the opportunity first, or ctx carries a transaction; the caller then goes
	// through LockConversion.
	CreateConversion(ctx context.Context, p project.Project, c project.Conversion, events []outbox.Event, records []audit.Record,
		resolveKey, resolvedBy, note string) (created bool, err error)
}

// ReplicaStore keeps the replicas of other services' data (a replica only moves forward).
type ReplicaStore interface {
	// LegalEntityByCode returns a legal entity (project.ErrUnknownLegalEntity).
	LegalEntityByCode(ctx context.Context, code string) (project.LegalEntity, error)
	UpsertLegalEntity(ctx context.Context, le project.LegalEntity) error
	UpsertDirectoryCustomers(ctx context.Context, list []project.DirectoryCustomer) (int64, error)
	// DirectoryCustomer returns a customer's replica (project.ErrCustomerNotInDirectory).
	DirectoryCustomer(ctx context.Context, id string) (project.DirectoryCustomer, error)
	// RecordVersions returns the replicas' versions of a customer and a contract (0 when unknown).
	RecordVersions(ctx context.Context, customerID, contractID string) (customer, contract int64, err error)
	// ApplyContract replaces a contract's replica when its version is newer, and reports whether
	// it did.
	ApplyContract(ctx context.Context, c financials.Contract) (bool, error)
}

// FinancialsStore keeps staffing plans, their forecast and the projects' actuals.
type FinancialsStore interface {
	// UpsertPlan stores a plan when its version is newer, and reports whether it did.
	UpsertPlan(ctx context.Context, p financials.Plan) (bool, error)
	// StaffedPlans returns what pricing needs of the plans of scope.
	StaffedPlans(ctx context.Context, scope financials.Scope) ([]financials.Staffed, error)
	SaveForecasts(ctx context.Context, list []financials.Forecast) error
	AddActuals(ctx context.Context, byProject map[string]financials.Actuals) error
	// Economics returns a project's economics (project.ErrNotFound); Portfolio up to limit
	// projects', lowest forecast margin first.
	Economics(ctx context.Context, projectID string) (financials.Economics, error)
	Portfolio(ctx context.Context, status project.Status, limit int, only []string) ([]financials.Economics, error)
	// MarkFinancialsChanged records that the financials of the projects (and of the projects
	// using contractID, when set) changed: a pending project.financials_changed due after window,
	// or one more change counted into the pending one. TakeDueFinancials deletes and returns up to
	// limit pending rows due at now (project id → changes), skipping rows another instance holds.
	MarkFinancialsChanged(ctx context.Context, window time.Duration, projectIDs []string, contractID string) error
	TakeDueFinancials(ctx context.Context, now time.Time, limit int) (map[string]int, error)
}
