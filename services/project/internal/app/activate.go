package app

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
	"github.com/accrue/accrue/services/project/internal/wire"
)

var errBillingUnavailable = fault.New(fault.Unavailable, ReasonBillingUnavailable, "the billing service is unavailable; the project waits for its contract")

// finishActivation completes the financial activation of a conversion left pending: it asks
// billing for the contract (no transaction open), then activates the project in a short
// transaction. When billing is still unavailable: with record, the pending answer is returned
// (and the exception kept); without (the retry path), errBillingUnavailable.
func (s *Service) finishActivation(ctx context.Context, conv store.Conversion, opp *projectv1.Opportunity, le store.LegalEntity, record bool) (Result, error) {
	contract, err := s.upsertContract(ctx, opp, le, conv.CustomerID, false)
	if err != nil {
		if !grpcx.Retryable(err) {
			return Result{}, grpcx.FaultFromStatus(err, contractField)
		}
		if !record {
			return Result{}, errBillingUnavailable
		}
		contract = nil
	}
	var res Result
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		cur, _, err := store.LockConversion(ctx, tx, conv.CRMSystem, conv.OpportunityID)
		if err != nil {
			return err
		}
		if cur.State == store.ConversionActive || cur.Version != conv.Version {
			res, err = s.describe(ctx, tx, cur, Unchanged, "already activated; nothing changed")
			return err
		}
		p, err := store.GetProject(ctx, tx, cur.ProjectID, true)
		if err != nil {
			return err
		}
		res = Result{Outcome: Unchanged, Customer: Record{ID: cur.CustomerID, Outcome: Unchanged},
			Project: Record{ID: p.ID, Outcome: Unchanged, Version: p.Version}, Version: cur.Version}
		if contract == nil {
			if err := s.pend(ctx, tx, &p, &res); err != nil {
				return err
			}
		} else {
			if err := s.activate(ctx, tx, &cur, &p, contract, &res); err != nil {
				return err
			}
			res.Outcome, res.Project.Outcome = Updated, Updated
			s.Log.InfoContext(ctx, "project financially activated", "project_id", p.ID, "contract_id", p.ContractID)
		}
		res.Project.Version, res.ProjectStatus, res.TaskCount = p.Version, p.Status, len(p.Tasks)
		res.Message = summary(&res)
		return store.SaveConversion(ctx, tx, cur)
	})
	return res, err
}

// activate attaches the contract billing returned and activates the project (a pending project
// becomes ACTIVE; an active one keeps its status), resolving any pending-activation exception.
func (s *Service) activate(ctx context.Context, tx pgx.Tx, conv *store.Conversion, p *project.Project, resp *billingv1.UpsertContractResponse, res *Result) error {
	c := resp.GetContract()
	conv.ContractID = c.GetContractId()
	res.Contract = contractRecord(resp)
	if p.ContractID != c.GetContractId() || p.Status == project.PendingFinancialActivation {
		prev := p.Status
		p.ContractID = c.GetContractId()
		if p.Status == project.PendingFinancialActivation {
			if err := p.Move(project.Active); err != nil {
				return err
			}
		}
		p.Version++
		p.UpdatedAt = s.now()
		if err := store.UpdateProject(ctx, tx, *p); err != nil {
			return err
		}
		// Staffing planned before the contract existed is priced now that rates are known.
		if err := store.PriceWhere(ctx, tx, p.ID, ""); err != nil {
			return err
		}
		if prev != p.Status {
			if err := s.publish(ctx, tx, *p, wire.EventActivated, &projectv1.ProjectActivated{Project: wire.Project(*p)},
				"project.activated", "contract "+p.ContractID); err != nil {
				return err
			}
			if err := s.publishStatus(ctx, tx, *p, prev, "financial activation"); err != nil {
				return err
			}
		}
	}
	conv.State = store.ConversionActive
	_, err := s.Queue.ResolveByKey(ctx, tx, activationKey(p.ID), "system", "contract "+p.ContractID+" created; project activated")
	return err
}

// contractRecord says what billing did with the contract.
func contractRecord(resp *billingv1.UpsertContractResponse) Record {
	c := resp.GetContract()
	out := Unchanged
	switch resp.GetOutcome() {
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED:
		out = Created
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED:
		out = Updated
	}
	return Record{ID: c.GetContractId(), Outcome: out, Version: c.GetVersion()}
}

// pend leaves the project waiting for its contract and records an exception retried with backoff.
func (s *Service) pend(ctx context.Context, tx pgx.Tx, p *project.Project, res *Result) error {
	id, err := s.Queue.Record(ctx, tx, exceptions.New{
		Kind: KindActivation, Reason: ReasonBillingUnavailable,
		Message:    fmt.Sprintf("project %s waits for its contract: the billing service was unavailable", p.ID),
		EntityType: "project", EntityID: p.ID, DedupeKey: activationKey(p.ID), RetryAfter: s.ActivationRetryAfter,
	})
	if err != nil {
		return err
	}
	res.Contract = Record{Outcome: Pending}
	res.ExceptionID = id
	res.Outcome = Pending
	return nil
}

// retryActivation is the exception queue's retry of KindActivation: it re-runs the contract
// step of the conversion that created the project.
func (s *Service) retryActivation(ctx context.Context, e exceptions.Exception) error {
	conv, found, err := store.ConversionByProject(ctx, s.Pool, e.EntityID)
	if err != nil {
		return err
	}
	if !found {
		return fault.New(fault.NotFound, "CONVERSION_NOT_FOUND", "no conversion created project %s", e.EntityID)
	}
	defer s.locks.lock(conv.CRMSystem + "\n" + conv.OpportunityID)()
	if conv, _, err = store.GetConversion(ctx, s.Pool, conv.CRMSystem, conv.OpportunityID); err != nil {
		return err
	}
	if conv.State == store.ConversionActive {
		return nil
	}
	var opp projectv1.Opportunity
	if err := proto.Unmarshal(conv.Request, &opp); err != nil {
		return err
	}
	le, err := store.LegalEntityByCode(ctx, s.Pool, opp.GetLegalEntityCode())
	if err != nil {
		return err
	}
	_, err = s.finishActivation(ctx, conv, &opp, le, false)
	return err
}
