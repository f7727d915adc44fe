package resource

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// AssignmentFilter selects assignments.
type AssignmentFilter struct {
	ProjectID, ResourceID string
	RateMissingOnly       bool
	// ActiveOnly leaves cancelled assignments out.
	ActiveOnly bool
	// From and To, when From is set, keep the assignments whose dates meet [From, To].
	From, To civil.Date
	// AfterID and Limit page through the assignments in id order.
	AfterID string
	Limit   int
	// LegalEntities keeps the assignments of projects of these legal entities; nil means any.
	LegalEntities []string
}

// ProjectView is what the resource service knows of a project (replica of project events).
type ProjectView struct {
	ID     string
	Status string
	// LegalEntityID is the legal entity the project (and so its assignments) belongs to.
	LegalEntityID string
	Start, End    civil.Date
	Tasks         map[string]bool // task id → billable
	// Version orders the project's events; an older view changes nothing.
	Version int64
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

// Overbooked returns the weeks, earliest first, where a and the other active assignments of its
// resource (others, which may include a's stored version) plan more than capacity on a's dates.
func Overbooked(a Assignment, others []Assignment, capacity decimal.Decimal) []WeekLoad {
	if a.Status == Cancelled || len(a.Segments) == 0 {
		return nil
	}
	days := Days(a.Segments)
	for _, o := range others {
		if o.ID == a.ID {
			continue
		}
		for _, d := range Days(o.Segments) {
			if !d.Date.Before(a.Start) && !d.Date.After(a.End) {
				days = append(days, d)
			}
		}
	}
	over := Overbooking(days, capacity)
	slices.SortFunc(over, func(x, y WeekLoad) int { return x.Monday.Compare(y.Monday) })
	return over
}

// OverbookingWarnings words the overbooked weeks for the caller.
func OverbookingWarnings(over []WeekLoad, capacity decimal.Decimal) []string {
	var out []string
	for _, w := range over {
		out = append(out, fmt.Sprintf("OVERBOOKED: week of %s plans %sh for %sh capacity", w.Monday, w.Hours, capacity))
	}
	return out
}

// OverbookedError refuses the overbooked weeks (the reject policy).
func OverbookedError(over []WeekLoad, capacity decimal.Decimal) error {
	return ErrOverbooked.With(strings.Join(OverbookingWarnings(over, capacity), "; "), "weeks", strconv.Itoa(len(over)))
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
