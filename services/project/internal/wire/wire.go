// Package wire converts between the project domain and its protobuf contract, for the gRPC API
// and the events the service publishes.
package wire

import (
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// Stream is the stream the project service publishes to.
const Stream = "project.events"

// Event types.
const (
	EventCreated       = "project.created"
	EventActivated     = "project.activated"
	EventStatusChanged = "project.status_changed"
)

var statuses = map[project.Status]projectv1.ProjectStatus{
	project.Draft:                      projectv1.ProjectStatus_PROJECT_STATUS_DRAFT,
	project.PendingFinancialActivation: projectv1.ProjectStatus_PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION,
	project.Active:                     projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE,
	project.OnHold:                     projectv1.ProjectStatus_PROJECT_STATUS_ON_HOLD,
	project.Closed:                     projectv1.ProjectStatus_PROJECT_STATUS_CLOSED,
}

// Status converts a domain status.
func Status(s project.Status) projectv1.ProjectStatus { return statuses[s] }

// StatusFromProto converts a contract status ("" for unspecified).
func StatusFromProto(p projectv1.ProjectStatus) project.Status {
	for k, v := range statuses {
		if v == p {
			return k
		}
	}
	return ""
}

func moneyProto(a *money.Amount) *commonv1.Money {
	if a == nil {
		return nil
	}
	return &commonv1.Money{Amount: a.Format(), CurrencyCode: a.Currency}
}

// Project converts a project (tasks included when loaded).
func Project(p project.Project) *projectv1.Project {
	out := &projectv1.Project{
		ProjectId: p.ID, Name: p.Name, CustomerId: p.CustomerID, ContractId: p.ContractID, LegalEntityId: p.LegalEntityID,
		CurrencyCode: p.Currency, StartDate: civilpb.To(p.Start), EndDate: civilpb.To(p.End), ManagerId: p.ManagerID,
		ManagerName: p.ManagerName, Status: Status(p.Status), Version: p.Version,
		Budget:     &projectv1.Budget{Cost: moneyProto(p.Budget.Cost), Revenue: moneyProto(p.Budget.Revenue)},
		CreateTime: timestamppb.New(p.CreatedAt), UpdateTime: timestamppb.New(p.UpdatedAt),
	}
	if p.Budget.Hours != nil {
		out.Budget.Hours = p.Budget.Hours.String()
	}
	if p.Source.System != "" {
		out.SourceReference = &commonv1.ExternalReference{System: p.Source.System, ObjectType: p.Source.ObjectType, ExternalId: p.Source.ExternalID}
	}
	for _, t := range p.Tasks {
		out.Tasks = append(out.Tasks, &projectv1.Task{TaskId: t.ID, ParentTaskId: t.ParentID, WbsCode: t.WBS, Name: t.Name,
			Billable: t.Billable, ContractLineKey: t.ContractLineKey, ServiceLine: t.ServiceLine})
	}
	return out
}

// Template converts a template.
func Template(t project.Template) *projectv1.ProjectTemplate {
	out := &projectv1.ProjectTemplate{ServiceLine: t.ServiceLine, Name: t.Name}
	for _, tt := range t.Tasks {
		out.Tasks = append(out.Tasks, &projectv1.TemplateTask{Key: tt.Key, ParentKey: tt.ParentKey, Name: tt.Name, Billable: tt.Billable})
	}
	return out
}

// TemplateFromProto converts a contract template.
func TemplateFromProto(p *projectv1.ProjectTemplate) project.Template {
	t := project.Template{ServiceLine: p.GetServiceLine(), Name: p.GetName()}
	for _, tt := range p.GetTasks() {
		t.Tasks = append(t.Tasks, project.TemplateTask{Key: tt.GetKey(), ParentKey: tt.GetParentKey(), Name: tt.GetName(), Billable: tt.GetBillable()})
	}
	return t
}

// Financials converts a project's economics, with margins computed here.
func Financials(f store.Financials) *projectv1.ProjectFinancials {
	amt := func(v decimal.Decimal) *commonv1.Money {
		a := money.Amount{Value: v, Currency: f.Currency}
		return &commonv1.Money{Amount: a.Round().Format(), CurrencyCode: f.Currency}
	}
	pct := func(p *decimal.Decimal) string {
		if p == nil {
			return ""
		}
		return p.StringFixed(2)
	}
	fm, fp := financials.Margin(f.ForecastRevenue, f.PlannedCost)
	am, ap := financials.Margin(f.ActualRevenue, f.ActualCost)
	out := &projectv1.ProjectFinancials{ProjectId: f.ProjectID, Name: f.Name, Status: Status(f.Status), CurrencyCode: f.Currency,
		Budget:       &projectv1.Budget{Cost: moneyProto(f.Budget.Cost), Revenue: moneyProto(f.Budget.Revenue)},
		PlannedHours: f.PlannedHours.StringFixed(2), PlannedBillableHours: f.PlannedBillableHours.StringFixed(2),
		PlannedCost: amt(f.PlannedCost), ForecastRevenue: amt(f.ForecastRevenue), ForecastMargin: amt(fm), ForecastMarginPercent: pct(fp),
		ActualHours: f.ActualHours.StringFixed(2), ActualCost: amt(f.ActualCost), ActualRevenue: amt(f.ActualRevenue),
		ActualMargin: amt(am), ActualMarginPercent: pct(ap), AssignmentsMissingCostRates: f.MissingCostAssignments,
		BillableHoursMissingBillRate: f.MissingBillRateHours.StringFixed(2), UpdateTime: timestamppb.New(f.UpdatedAt)}
	if f.Budget.Hours != nil {
		out.Budget.Hours = f.Budget.Hours.String()
	}
	return out
}
