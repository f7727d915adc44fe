// Package project is the project domain: projects, their work breakdown (tasks), the templates a
// service line's projects start from, and the status lifecycle. No I/O here.
package project

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Status is where a project is in its lifecycle.
type Status string

const (
	Draft                      Status = "DRAFT"
	PendingFinancialActivation Status = "PENDING_FINANCIAL_ACTIVATION"
	Active                     Status = "ACTIVE"
	OnHold                     Status = "ON_HOLD"
	Closed                     Status = "CLOSED"
)

// transitions lists the allowed moves.
var transitions = map[Status][]Status{
	Draft:                      {PendingFinancialActivation, Closed},
	PendingFinancialActivation: {Active, Closed},
	Active:                     {OnHold, Closed},
	OnHold:                     {Active, Closed},
	Closed:                     nil,
}

// Errors.
var (
	ErrNotFound            = fault.New(fault.NotFound, "PROJECT_NOT_FOUND", "no such project")
	ErrInvalidTransition   = fault.New(fault.FailedPrecondition, "INVALID_STATUS_TRANSITION", "the project cannot move to that status")
	ErrNotFinanciallyReady = fault.New(fault.FailedPrecondition, "PROJECT_NOT_FINANCIALLY_ACTIVE", "the project has no contract yet; it is activated by its conversion")
	ErrVersionConflict     = fault.New(fault.Conflict, "VERSION_CONFLICT", "the project was changed by someone else; read it again")
)

// CanMove reports whether a project may go from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Budget is a project's budget; nil parts are not budgeted.
type Budget struct {
	Hours   *decimal.Decimal
	Cost    *money.Amount
	Revenue *money.Amount
}

// Task is a node of the work breakdown structure.
type Task struct {
	ID              string
	ParentID        string
	WBS             string
	Name            string
	Billable        bool
	ContractLineKey string
	ServiceLine     string
}

// SourceRef is the record a project was created from (the CRM opportunity).
type SourceRef struct {
	System, ObjectType, ExternalID string
}

// Project is a delivery project.
type Project struct {
	ID            string
	Name          string
	CustomerID    string
	ContractID    string
	LegalEntityID string
	Currency      string
	Start, End    civil.Date
	ManagerID     string
	ManagerName   string
	Budget        Budget
	Status        Status
	Tasks         []Task
	Source        SourceRef
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Move changes the status, checking the lifecycle. ACTIVE needs a contract.
func (p *Project) Move(to Status) error {
	if p.Status == to {
		return nil
	}
	if !CanMove(p.Status, to) {
		return ErrInvalidTransition.With(fmt.Sprintf("a %s project cannot become %s", p.Status, to),
			"from", string(p.Status), "to", string(to))
	}
	if to == Active && p.ContractID == "" {
		return ErrNotFinanciallyReady
	}
	p.Status = to
	return nil
}

// CheckVersion refuses a change made against another version than the project's
// (expected 0 skips the check).
func (p Project) CheckVersion(expected int64) error {
	if expected != 0 && p.Version != expected {
		v := strconv.FormatInt(p.Version, 10)
		return ErrVersionConflict.With("project "+p.ID+" is at version "+v, "current_version", v)
	}
	return nil
}

// AttachContract gives the project its contract and activates it when it was waiting for one
// (an active project keeps its status). It reports whether the project changed.
func (p *Project) AttachContract(contractID string, now time.Time) (bool, error) {
	if p.ContractID == contractID && p.Status != PendingFinancialActivation {
		return false, nil
	}
	p.ContractID = contractID
	if p.Status == PendingFinancialActivation {
		if err := p.Move(Active); err != nil {
			return false, err
		}
	}
	p.Version++
	p.UpdatedAt = now
	return true, nil
}

// TemplateTask is a task of a template.
type TemplateTask struct {
	Key       string
	ParentKey string
	Name      string
	Billable  bool
}

// Template is the task tree of a service line.
type Template struct {
	ServiceLine string
	Name        string
	Tasks       []TemplateTask
}

// Validate checks the tree: unique keys, parents that exist and come first (no cycles).
func (t Template) Validate() error {
	seen := map[string]bool{}
	for i, tt := range t.Tasks {
		if seen[tt.Key] {
			return fault.Invalidf("DUPLICATE_TASK_KEY", fmt.Sprintf("template.tasks[%d].key", i), "task key %q is used twice", tt.Key)
		}
		if tt.ParentKey != "" && !seen[tt.ParentKey] {
			return fault.Invalidf("INVALID_TASK_TREE", fmt.Sprintf("template.tasks[%d].parent_key", i),
				"parent %q must be listed before its children", tt.ParentKey)
		}
		seen[tt.Key] = true
	}
	return nil
}

// LineTasks builds the tasks of one contract line from its template: a summary task numbered
// n (billable when any child is) with the template's tree below it (n.1, n.1.1, ...). newID
// mints task ids.
func LineTasks(n int, lineKey, lineName string, tmpl Template, newID func() string) []Task {
	root := Task{ID: newID(), WBS: strconv.Itoa(n), Name: lineName, ContractLineKey: lineKey, ServiceLine: tmpl.ServiceLine}
	out := []Task{root}
	ids := map[string]string{}
	wbs := map[string]string{}
	children := map[string]int{}
	for _, tt := range tmpl.Tasks {
		parentID, parentWBS := root.ID, root.WBS
		if tt.ParentKey != "" {
			parentID, parentWBS = ids[tt.ParentKey], wbs[tt.ParentKey]
		}
		children[parentWBS]++
		code := parentWBS + "." + strconv.Itoa(children[parentWBS])
		t := Task{ID: newID(), ParentID: parentID, WBS: code, Name: tt.Name, Billable: tt.Billable,
			ContractLineKey: lineKey, ServiceLine: tmpl.ServiceLine}
		ids[tt.Key], wbs[tt.Key] = t.ID, code
		out = append(out, t)
		if tt.Billable {
			out[0].Billable = true
		}
	}
	return out
}

// LineKeys returns the contract line keys the project's tasks already cover.
func (p Project) LineKeys() map[string]bool {
	keys := map[string]bool{}
	for _, t := range p.Tasks {
		keys[t.ContractLineKey] = true
	}
	return keys
}

// NextRootNumber returns the WBS number of the next top-level task.
func (p Project) NextRootNumber() int {
	n := 0
	for _, t := range p.Tasks {
		if t.ParentID == "" {
			if v, err := strconv.Atoi(t.WBS); err == nil && v > n {
				n = v
			}
		}
	}
	return n + 1
}
