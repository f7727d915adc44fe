// Package wire is the only mapping between the project service's domain and the protobuf
// contracts: its own API and events, the events it consumes (customer, billing, resource) and the
// requests its conversion sends the customer and billing services.
package wire

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/project/internal/project"
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

var outcomes = map[project.Outcome]projectv1.ConversionOutcome{
	project.OutcomeCreated:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_CREATED,
	project.OutcomeUpdated:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_UPDATED,
	project.OutcomeUnchanged:    projectv1.ConversionOutcome_CONVERSION_OUTCOME_UNCHANGED,
	project.OutcomePending:      projectv1.ConversionOutcome_CONVERSION_OUTCOME_PENDING,
	project.OutcomeIgnoredStale: projectv1.ConversionOutcome_CONVERSION_OUTCOME_IGNORED_STALE,
}

func convertedRecord(r project.ConvertedRecord) *projectv1.ConvertedRecord {
	return &projectv1.ConvertedRecord{Id: r.ID, Outcome: outcomes[r.Outcome], Version: r.Version}
}

// ConversionResponse converts what a conversion did.
func ConversionResponse(r project.ConversionResult) *projectv1.ConvertOpportunityResponse {
	return &projectv1.ConvertOpportunityResponse{Outcome: outcomes[r.Outcome], Customer: convertedRecord(r.Customer),
		Contract: convertedRecord(r.Contract), Project: convertedRecord(r.Project), ProjectStatus: Status(r.ProjectStatus),
		TaskCount: int32(r.TaskCount), ConvertedVersion: r.Version, Message: r.Message, ExceptionId: r.ExceptionID}
}
