package wire

import (
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// The responses of the gRPC API, one per use case's result.

// GetProjectResponse answers GetProject.
func GetProjectResponse(p project.Project) *projectv1.GetProjectResponse {
	return &projectv1.GetProjectResponse{Project: Project(p)}
}

// ChangeStatusResponse answers ChangeProjectStatus.
func ChangeStatusResponse(p project.Project) *projectv1.ChangeProjectStatusResponse {
	return &projectv1.ChangeProjectStatusResponse{Project: Project(p)}
}

// PutTemplateResponse answers PutProjectTemplate.
func PutTemplateResponse(t project.Template) *projectv1.PutProjectTemplateResponse {
	return &projectv1.PutProjectTemplateResponse{Template: Template(t)}
}

// TemplatesResponse answers ListProjectTemplates with every template, by service line.
func TemplatesResponse(ts map[string]project.Template) *projectv1.ListProjectTemplatesResponse {
	resp := &projectv1.ListProjectTemplatesResponse{}
	for _, t := range ts {
		resp.Templates = append(resp.Templates, Template(t))
	}
	return resp
}

// DirectoryCustomerResponse answers GetDirectoryCustomer.
func DirectoryCustomerResponse(c project.DirectoryCustomer) *projectv1.GetDirectoryCustomerResponse {
	return &projectv1.GetDirectoryCustomerResponse{Customer: DirectoryCustomer(c)}
}

// FinancialsResponse answers GetProjectFinancials.
func FinancialsResponse(f financials.Economics) *projectv1.GetProjectFinancialsResponse {
	return &projectv1.GetProjectFinancialsResponse{Financials: Financials(f)}
}

// PortfolioResponse answers ListPortfolio.
func PortfolioResponse(list []financials.Economics) *projectv1.ListPortfolioResponse {
	resp := &projectv1.ListPortfolioResponse{}
	for _, f := range list {
		resp.Projects = append(resp.Projects, Financials(f))
	}
	return resp
}
