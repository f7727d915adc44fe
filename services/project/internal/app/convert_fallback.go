package app

import (
	"context"
	"fmt"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/services/project/internal/project"
)

// converge writes the project side of a conversion in one transaction that holds the
// opportunity's lock across instances and re-reads its conversion: whatever another instance
// converted meanwhile is answered (known) or amended, never duplicated. It serves amendments, the
// first conversion while billing is down (the project waits for its contract) and the first
// conversion that lost the one-round-trip race (createConverted). customer is what the customer
// service did; contract is nil when billing is unavailable.
func (s *Service) converge(ctx context.Context, opp *projectv1.Opportunity, prep prepared, customer project.ConvertedRecord, contract *billingv1.UpsertContractResponse) (project.ConversionResult, error) {
	var res project.ConversionResult
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		res = project.ConversionResult{Customer: customer}
		cur, found, err := s.store.LockConversion(ctx, opp.GetCrmSystem(), opp.GetOpportunityId())
		if err != nil {
			return err
		}
		if found {
			if r, done, err := s.known(ctx, cur, opp, prep); done || err != nil {
				res = r
				return err
			}
		}
		var p project.Project
		if found {
			if p, err = s.amendProject(ctx, cur.ProjectID, customer.ID, opp, prep); err != nil {
				return err
			}
			res.Project, res.Outcome = project.ConvertedRecord{ID: p.ID, Outcome: project.OutcomeUpdated}, project.OutcomeUpdated
		} else {
			contractID := ""
			if contract != nil {
				contractID = contract.GetContract().GetContractId()
			}
			if p, err = s.createProject(ctx, prep, customer.ID, contractID); err != nil {
				return err
			}
			res.Project, res.Outcome = project.ConvertedRecord{ID: p.ID, Outcome: project.OutcomeCreated}, project.OutcomeCreated
		}
		c, err := conversionOf(opp, prep, customer.ID, p.ID, cur.ContractID, project.ConversionPending)
		if err != nil {
			return err
		}
		switch {
		case contract != nil && !found: // created active above
			c.ContractID, c.State, res.Contract = p.ContractID, project.ConversionActive, contractRecord(contract)
		case contract != nil:
			err = s.activate(ctx, &c, &p, contract, &res)
		default:
			err = s.pend(ctx, &p, &res)
		}
		if err != nil {
			return err
		}
		finish(&res, p, opp.GetVersion())
		return s.store.SaveConversion(ctx, c)
	})
	return res, err
}

// known answers requests about a version already converted (see project.Conversion.Judge): older
// → IGNORED_STALE, the same version with other content → SOURCE_VERSION_REUSED, the same version
// done → UNCHANGED. done is false when the caller has work left (a newer version, or the same
// one still pending).
func (s *Service) known(ctx context.Context, conv project.Conversion, opp *projectv1.Opportunity, prep prepared) (project.ConversionResult, bool, error) {
	verdict, err := conv.Judge(opp.GetVersion(), prep.fp)
	if err != nil {
		return project.ConversionResult{}, true, err
	}
	switch verdict {
	case project.Stale:
		r, err := s.describe(ctx, conv, project.OutcomeIgnoredStale,
			fmt.Sprintf("opportunity version %d is older than the converted version %d; nothing changed", opp.GetVersion(), conv.Version))
		return r, true, err
	case project.Done:
		r, err := s.describe(ctx, conv, project.OutcomeUnchanged, "already converted; nothing changed")
		return r, true, err
	}
	return project.ConversionResult{}, false, nil
}

// describe reports a stored conversion without changing anything.
func (s *Service) describe(ctx context.Context, conv project.Conversion, out project.Outcome, msg string) (project.ConversionResult, error) {
	p, err := s.store.GetProject(ctx, conv.ProjectID)
	if err != nil {
		return project.ConversionResult{}, err
	}
	contractOut := out
	if conv.ContractID == "" {
		contractOut = project.OutcomePending
	}
	// The records' real versions (as the customer directory and the contract replica hold them),
	// not 0: nothing changed, but the caller still learns where each record stands.
	customerVersion, contractVersion, err := s.store.RecordVersions(ctx, conv.CustomerID, conv.ContractID)
	if err != nil {
		return project.ConversionResult{}, err
	}
	return project.ConversionResult{Outcome: out, Customer: project.ConvertedRecord{ID: conv.CustomerID, Outcome: out, Version: customerVersion},
		Contract: project.ConvertedRecord{ID: conv.ContractID, Outcome: contractOut, Version: contractVersion},
		Project:  project.ConvertedRecord{ID: p.ID, Outcome: out, Version: p.Version}, ProjectStatus: p.Status, TaskCount: len(p.Tasks),
		Version: conv.Version, Message: msg}, nil
}
