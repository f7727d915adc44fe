package timeexpense

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// Errors of the rules that need the replicas.
var (
	ErrProjectNotFound  = fault.New(fault.FailedPrecondition, "PROJECT_NOT_FOUND", "the project is unknown to the time & expense service (yet)")
	ErrResourceNotFound = fault.New(fault.FailedPrecondition, "RESOURCE_NOT_FOUND", "the resource is unknown to the time & expense service")
	ErrProjectInactive  = fault.New(fault.FailedPrecondition, "PROJECT_INACTIVE", "the project is not active")
	ErrTaskNotInProject = fault.New(fault.FailedPrecondition, "TASK_NOT_IN_PROJECT", "the task does not belong to the project")
	ErrTaskNotBillable  = fault.New(fault.FailedPrecondition, "TASK_NOT_BILLABLE", "billable work on a non-billable task")
	ErrPeriodClosed     = fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "the date falls in a closed accounting period")
)

// ProjectActive is the only project status that accepts time and expenses.
const ProjectActive = "ACTIVE"

// Project is what the service knows of a project (replica of project events).
type Project struct {
	ID            string
	Status        string
	LegalEntityID string
	Currency      string
	Start, End    civil.Date
	// Tasks maps task id → billable.
	Tasks map[string]bool
	// Version orders the project's changes: an older one never replaces a newer.
	Version int64
}

// Policy is a legal entity's closed-period policy.
type Policy string

const (
	PolicyUnspecified Policy = ""
	// PolicyReject refuses entries dated in a closed period.
	PolicyReject Policy = "REJECT"
	// PolicyRollForward accepts them: billing posts them in the next open period.
	PolicyRollForward Policy = "ROLL_FORWARD"
)

// PeriodOf returns the accounting period ("YYYY-MM") of d.
func PeriodOf(d civil.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) }

// PeriodKey names one period of one legal entity.
type PeriodKey struct {
	LegalEntityID string
	Period        string
}

// LegalEntity is what the service knows of a legal entity (replica of billing events).
type LegalEntity struct {
	ID     string
	Policy Policy
	// Version orders the entity's changes: an older one never replaces a newer.
	Version int64
}

// Period statuses.
const (
	PeriodOpen   = "OPEN"
	PeriodClosed = "CLOSED"
)

// Period is one period's status as billing last changed it; the latest change wins.
type Period struct {
	Key       PeriodKey
	Status    string
	ChangedAt time.Time
}

// Replica is the part of the replicas a set of entries is checked against.
type Replica struct {
	Projects map[string]Project
	Policies map[string]Policy
	Closed   map[PeriodKey]bool
}

// Check applies the project and period rules to in: the project must be known and ACTIVE, the
// task one of its tasks (and billable when the entry is), and the date outside the closed periods
// of a legal entity that rejects such entries.
func (r Replica) Check(in Input) error {
	p, ok := r.Projects[in.ProjectID]
	if !ok {
		return ErrProjectNotFound.With("project "+in.ProjectID+" is unknown", "project_id", in.ProjectID).At("project_id")
	}
	if p.Status != ProjectActive {
		return ErrProjectInactive.With("project "+in.ProjectID+" is "+p.Status, "project_id", in.ProjectID).At("project_id")
	}
	billable, ok := p.Tasks[in.TaskID]
	if !ok {
		return ErrTaskNotInProject.With("task "+in.TaskID+" is not a task of project "+in.ProjectID, "task_id", in.TaskID).At("task_id")
	}
	if in.Billable && !billable {
		return ErrTaskNotBillable.With("task "+in.TaskID+" is not billable", "task_id", in.TaskID).At("task_id", "billable")
	}
	period := PeriodOf(in.Date)
	if r.Policies[p.LegalEntityID] == PolicyReject && r.Closed[PeriodKey{p.LegalEntityID, period}] {
		return ErrPeriodClosed.With("period "+period+" of the project's legal entity is closed",
			"period", period, "legal_entity_id", p.LegalEntityID).At(in.DateField())
	}
	return nil
}

// Day is one resource's day.
type Day struct {
	ResourceID string
	Date       civil.Date
}

// DailyHours holds the hours already counted per resource and day.
type DailyHours map[Day]decimal.Decimal

// Add counts a time entry's hours, refusing it when the day's total would exceed 24 hours.
// Expenses pass without effect.
func (h DailyHours) Add(in Input) error {
	if in.Kind != Time {
		return nil
	}
	d := Day{in.ResourceID, in.Date}
	total := h[d].Add(in.Hours)
	if total.GreaterThan(MaxDailyHours) {
		return ErrDailyHoursExceeded.With(fmt.Sprintf("resource %s would have %s hours on %s", in.ResourceID, total.String(), in.Date),
			"resource_id", in.ResourceID, "work_date", in.Date.String()).At("hours", "work_date")
	}
	h[d] = total
	return nil
}
