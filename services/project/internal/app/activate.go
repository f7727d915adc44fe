package app

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

var errBillingUnavailable = fault.New(fault.Unavailable, ReasonBillingUnavailable, "the billing service is unavailable; the project waits for its contract")

// finishActivation completes the financial activation of a conversion left pending: it asks
// billing for the contract (no transaction open), then activates the project in a short
// transaction. When billing is still unavailable: with record, the pending answer is returned
// (and the exception kept); without (the retry path), errBillingUnavailable.
func (s *Service) finishActivation(ctx context.Context, conv project.Conversion, opp *projectv1.Opportunity, le project.LegalEntity, record bool) (project.ConversionResult, error) {
	contract, err := s.upsertContract(ctx, opp, le, conv.CustomerID, false)
	if err != nil {
		if !grpcx.Retryable(err) {
			return project.ConversionResult{}, grpcx.FaultFromStatus(err, wire.ContractField)
		}
		if !record {
			return project.ConversionResult{}, errBillingUnavailable
		}
		contract = nil
	}
	var res project.ConversionResult
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, _, err := s.store.LockConversion(ctx, conv.CRMSystem, conv.OpportunityID)
		if err != nil {
			return err
		}
		if cur.State == project.ConversionActive || cur.Version != conv.Version {
			res, err = s.describe(ctx, cur, project.OutcomeUnchanged, "already activated; nothing changed")
			return err
		}
		p, err := s.store.LockProject(ctx, cur.ProjectID)
		if err != nil {
			return err
		}
		customerVersion, _, err := s.store.RecordVersions(ctx, cur.CustomerID, "")
		if err != nil {
			return err
		}
		res = project.ConversionResult{Outcome: project.OutcomeUnchanged,
			Customer: project.ConvertedRecord{ID: cur.CustomerID, Outcome: project.OutcomeUnchanged, Version: customerVersion},
			Project:  project.ConvertedRecord{ID: p.ID, Outcome: project.OutcomeUnchanged, Version: p.Version}}
		if contract == nil {
			if err := s.pend(ctx, &p, &res); err != nil {
				return err
			}
		} else {
			if err := s.activate(ctx, &cur, &p, contract, &res); err != nil {
				return err
			}
			res.Outcome, res.Project.Outcome = project.OutcomeUpdated, project.OutcomeUpdated
			s.Log.InfoContext(ctx, "project financially activated", "project_id", p.ID, "contract_id", p.ContractID)
		}
		finish(&res, p, cur.Version)
		return s.store.SaveConversion(ctx, cur)
	})
	return res, err
}

// activate attaches the contract billing returned and activates the project (a pending project
// becomes ACTIVE; an active one keeps its status), resolving any pending-activation exception.
func (s *Service) activate(ctx context.Context, conv *project.Conversion, p *project.Project, resp *billingv1.UpsertContractResponse, res *project.ConversionResult) error {
	contractID := resp.GetContract().GetContractId()
	conv.ContractID = contractID
	res.Contract = contractRecord(resp)
	prev := p.Status
	changed, err := p.AttachContract(contractID, s.now())
	if err != nil {
		return err
	}
	if changed {
		if err := s.store.UpdateProject(ctx, *p); err != nil {
			return err
		}
		// Staffing planned before the contract existed is priced now that rates are known.
		if err := s.price(ctx, financials.Scope{ProjectID: p.ID}); err != nil {
			return err
		}
		if err := s.financialsChanged(ctx, "", p.ID); err != nil {
			return err
		}
		if prev != p.Status {
			ev, err := s.activatedEvent(ctx, *p)
			if err != nil {
				return err
			}
			if err := s.store.Publish(ctx, ev); err != nil {
				return err
			}
			if err := s.store.Audit(ctx, projectRecord(*p, projectv1.EventTypeProjectActivated, "contract "+p.ContractID)); err != nil {
				return err
			}
			if err := s.publishStatus(ctx, *p, prev, "financial activation"); err != nil {
				return err
			}
		}
	}
	conv.State = project.ConversionActive
	_, err = s.store.ResolveException(ctx, activationKey(p.ID), "system", "contract "+p.ContractID+" created; project activated")
	return err
}

// pend leaves the project waiting for its contract and records an exception retried with backoff.
func (s *Service) pend(ctx context.Context, p *project.Project, res *project.ConversionResult) error {
	id, err := s.store.RecordException(ctx, exceptions.New{
		Kind: KindActivation, Reason: ReasonBillingUnavailable,
		Message:    fmt.Sprintf("project %s waits for its contract: the billing service was unavailable", p.ID),
		EntityType: "project", EntityID: p.ID, DedupeKey: activationKey(p.ID), RetryAfter: s.ActivationRetryAfter,
	})
	if err != nil {
		return err
	}
	res.Contract = project.ConvertedRecord{Outcome: project.OutcomePending}
	res.ExceptionID = id
	res.Outcome = project.OutcomePending
	return nil
}

// RetryActivation is the exception queue's retry of KindActivation: it re-runs the contract
// step of the conversion that created the project.
func (s *Service) RetryActivation(ctx context.Context, e exceptions.Exception) error {
	conv, found, err := s.store.ConversionByProject(ctx, e.EntityID)
	if err != nil {
		return err
	}
	if !found {
		return fault.New(fault.NotFound, "CONVERSION_NOT_FOUND", "no conversion created project %s", e.EntityID)
	}
	defer s.locks.lock(conv.CRMSystem + "\n" + conv.OpportunityID)()
	if conv, _, err = s.store.GetConversion(ctx, conv.CRMSystem, conv.OpportunityID); err != nil {
		return err
	}
	if conv.State == project.ConversionActive {
		return nil
	}
	var opp projectv1.Opportunity
	if err := proto.Unmarshal(conv.Request, &opp); err != nil {
		return err
	}
	le, err := s.store.LegalEntityByCode(ctx, opp.GetLegalEntityCode())
	if err != nil {
		return err
	}
	_, err = s.finishActivation(ctx, conv, &opp, le, false)
	return err
}
