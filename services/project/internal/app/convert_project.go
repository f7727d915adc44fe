package app

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// newProject builds the project of a first conversion (see project.Deal.NewProject) with the
// events and audit records its creation writes: created, and activated when the contract exists.
func (s *Service) newProject(prep prepared, customerID, contractID string) (project.Project, []outbox.Event, []audit.Record, error) {
	p, err := prep.deal.NewProject(customerID, prep.le.ID, contractID, prep.templates, s.now(), s.newID)
	if err != nil {
		return p, nil, nil, err
	}
	pp := wire.Project(p)
	events := []outbox.Event{projectEvent(p, projectv1.EventTypeProjectCreated, &projectv1.ProjectCreated{Project: pp})}
	records := []audit.Record{projectRecord(p, projectv1.EventTypeProjectCreated, "")}
	if p.Status == project.Active {
		account := ""
		if len(prep.deal.AccountChain) > 0 {
			account = prep.deal.AccountChain[0]
		}
		events = append(events, projectEvent(p, projectv1.EventTypeProjectActivated,
			&projectv1.ProjectActivated{Project: pp, CrossIds: wire.CrossIDs(p, account)}))
		records = append(records, projectRecord(p, projectv1.EventTypeProjectActivated, "contract "+contractID))
	}
	return p, events, records, nil
}

// createProject writes the project of a first conversion with its events and audit records, in
// the transaction of ctx.
func (s *Service) createProject(ctx context.Context, prep prepared, customerID, contractID string) (project.Project, error) {
	p, events, records, err := s.newProject(prep, customerID, contractID)
	if err != nil {
		return p, err
	}
	return p, s.store.CreateProject(ctx, p, events, records)
}

// createConverted writes the first conversion of an opportunity whose customer and contract
// exist: the project (ACTIVE) with its tasks, events and audit records, the conversion row and
// the resolution of the opportunity's open exception, in one round trip that commits them
// together. created is false, with nothing written, when a concurrent conversion of the same
// opportunity (on another instance) won: the caller converges on it.
func (s *Service) createConverted(ctx context.Context, opp *projectv1.Opportunity, prep prepared, customer project.ConvertedRecord, contract *billingv1.UpsertContractResponse) (project.ConversionResult, bool, error) {
	p, events, records, err := s.newProject(prep, customer.ID, contract.GetContract().GetContractId())
	if err != nil {
		return project.ConversionResult{}, false, err
	}
	c, err := conversionOf(opp, prep, customer.ID, p.ID, p.ContractID, project.ConversionActive)
	if err != nil {
		return project.ConversionResult{}, false, err
	}
	created, err := s.store.CreateConversion(ctx, p, c, events, records, conversionKey(c.CRMSystem, c.OpportunityID), "system", resolvedBySuccess)
	if err != nil || !created {
		return project.ConversionResult{}, false, err
	}
	res := project.ConversionResult{Outcome: project.OutcomeCreated, Customer: customer, Contract: contractRecord(contract),
		Project: project.ConvertedRecord{ID: p.ID, Outcome: project.OutcomeCreated}}
	finish(&res, p, opp.GetVersion())
	return res, true, nil
}

// amendProject applies a newer version of the opportunity to its project (see
// project.Project.Amend), in the transaction of ctx.
func (s *Service) amendProject(ctx context.Context, id, customerID string, opp *projectv1.Opportunity, prep prepared) (project.Project, error) {
	p, err := s.store.LockProject(ctx, id)
	if err != nil {
		return p, err
	}
	added := p.Amend(prep.deal, customerID, prep.templates, s.now(), s.newID)
	if err := s.store.InsertTasks(ctx, p.ID, added); err != nil {
		return p, err
	}
	if err := s.store.UpdateProject(ctx, p); err != nil {
		return p, err
	}
	return p, s.publishStatus(ctx, p, p.Status, fmt.Sprintf("amended from %s version %d", opp.GetCrmSystem(), opp.GetVersion()))
}

// conversionOf is the conversion record of opp converging on the given records.
func conversionOf(opp *projectv1.Opportunity, prep prepared, customerID, projectID, contractID, state string) (project.Conversion, error) {
	c := project.Conversion{CRMSystem: opp.GetCrmSystem(), OpportunityID: opp.GetOpportunityId(), Version: opp.GetVersion(),
		Fingerprint: prep.fp, CustomerID: customerID, ProjectID: projectID, ContractID: contractID, State: state}
	var err error
	c.Request, err = proto.Marshal(opp)
	return c, err
}
