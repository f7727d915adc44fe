package app

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// checkContract asks billing whether it would accept the contract before anything is written
// (customerID is the known customer, "" on a first conversion). A billing outage is not a reason
// to refuse the deal: it reports billingDown, and the project then waits for activation.
func (s *Service) checkContract(ctx context.Context, opp *projectv1.Opportunity, le project.LegalEntity, customerID string) (billingDown bool, err error) {
	if _, err := s.upsertContract(ctx, opp, le, customerID, true); err != nil {
		if !grpcx.Retryable(err) {
			return false, grpcx.FaultFromStatus(err, wire.ContractField)
		}
		return true, nil
	}
	return false, nil
}

// createContract creates (or amends) the contract of customerID unless billing is known to be
// down; it returns nil when billing is unavailable.
func (s *Service) createContract(ctx context.Context, opp *projectv1.Opportunity, le project.LegalEntity, customerID string, billingDown bool) (*billingv1.UpsertContractResponse, error) {
	if billingDown {
		return nil, nil
	}
	contract, err := s.upsertContract(ctx, opp, le, customerID, false)
	if err != nil {
		if !grpcx.Retryable(err) {
			return nil, grpcx.FaultFromStatus(err, wire.ContractField)
		}
		s.Log.WarnContext(ctx, "billing unavailable; project waits for financial activation", "err", err)
		return nil, nil
	}
	return contract, nil
}

func (s *Service) upsertContract(ctx context.Context, opp *projectv1.Opportunity, le project.LegalEntity, customerID string, validateOnly bool) (*billingv1.UpsertContractResponse, error) {
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	return s.Contracts.UpsertContract(cctx, wire.ContractRequest(opp, le.ID, customerID, validateOnly))
}

// contractRecord says what billing did with the contract.
func contractRecord(resp *billingv1.UpsertContractResponse) project.ConvertedRecord {
	c := resp.GetContract()
	out := project.OutcomeUnchanged
	switch resp.GetOutcome() {
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED:
		out = project.OutcomeCreated
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED:
		out = project.OutcomeUpdated
	}
	return project.ConvertedRecord{ID: c.GetContractId(), Outcome: out, Version: c.GetVersion()}
}
