package resource

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// Status of an assignment.
type Status string

const (
	Tentative Status = "TENTATIVE"
	Confirmed Status = "CONFIRMED"
	Cancelled Status = "CANCELLED"
)

// Errors of assignments.
var (
	ErrAssignmentNotFound = fault.New(fault.NotFound, "ASSIGNMENT_NOT_FOUND", "no such assignment")
	ErrProjectUnknown     = fault.New(fault.FailedPrecondition, "PROJECT_NOT_FOUND", "the project is unknown to the resource service (yet)")
	ErrProjectClosed      = fault.New(fault.FailedPrecondition, "PROJECT_CLOSED", "the project is closed")
	ErrTaskNotInProject   = fault.New(fault.FailedPrecondition, "TASK_NOT_IN_PROJECT", "the task does not belong to the project")
	ErrOutsideProject     = fault.New(fault.FailedPrecondition, "ASSIGNMENT_OUTSIDE_PROJECT_DATES", "the assignment's dates fall outside the project's")
	ErrOverbooked         = fault.New(fault.FailedPrecondition, "RESOURCE_OVERBOOKED", "the assignment would overbook the resource")
	ErrVersionConflict    = fault.New(fault.Conflict, "VERSION_CONFLICT", "the assignment was changed by someone else; read it again")
)

// Assignment is a resource staffed on a project task.
type Assignment struct {
	ID           string
	ResourceID   string
	ProjectID    string
	TaskID       string
	Role         string
	Start, End   civil.Date
	HoursPerWeek *decimal.Decimal
	TotalHours   *decimal.Decimal
	Status       Status
	Segments     []Segment
	Plan         Costed
	Version      int64
	UpdatedAt    time.Time
}

// Planned returns the assignment's segments: none when cancelled.
func (a Assignment) Planned() []Segment {
	if a.Status == Cancelled {
		return nil
	}
	if a.HoursPerWeek != nil {
		return PlanWeekly(a.Start, a.End, *a.HoursPerWeek)
	}
	if a.TotalHours != nil {
		return PlanTotal(a.Start, a.End, *a.TotalHours)
	}
	return nil
}

// ProjectView is what the resource service knows of a project (replica of project events).
type ProjectView struct {
	ID         string
	Status     string
	Start, End civil.Date
	Tasks      map[string]bool // task id → billable
}

// Check validates the assignment against its project.
func (a Assignment) Check(p ProjectView, found bool) error {
	if a.End.Before(a.Start) {
		return fault.Invalidf("INVALID_PERIOD", "assignment.end_date", "the assignment ends (%s) before it starts (%s)", a.End, a.Start)
	}
	if !found {
		return ErrProjectUnknown.With("project "+a.ProjectID+" is unknown", "project_id", a.ProjectID)
	}
	if p.Status == "CLOSED" {
		return ErrProjectClosed.With("project "+a.ProjectID+" is closed", "project_id", a.ProjectID)
	}
	if _, ok := p.Tasks[a.TaskID]; !ok {
		return ErrTaskNotInProject.With("task "+a.TaskID+" is not a task of project "+a.ProjectID, "task_id", a.TaskID)
	}
	if a.Start.Before(p.Start) || a.End.After(p.End) {
		return ErrOutsideProject.With(fmt.Sprintf("the assignment runs %s..%s; the project runs %s..%s", a.Start, a.End, p.Start, p.End))
	}
	return nil
}

// WeekLoad is the planned hours of a resource in one ISO week.
type WeekLoad struct {
	Monday civil.Date
	Hours  decimal.Decimal
}

// Overbooking returns the weeks where the days planned exceed weekly capacity.
func Overbooking(days []Day, capacity decimal.Decimal) []WeekLoad {
	weeks := map[civil.Date]decimal.Decimal{}
	var order []civil.Date
	for _, d := range days {
		m := d.Date.StartOfISOWeek()
		if _, ok := weeks[m]; !ok {
			order = append(order, m)
		}
		weeks[m] = weeks[m].Add(d.Hours)
	}
	var out []WeekLoad
	for _, m := range order {
		if weeks[m].GreaterThan(capacity) {
			out = append(out, WeekLoad{Monday: m, Hours: weeks[m]})
		}
	}
	return out
}
