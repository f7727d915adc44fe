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

// activate creates or amends the contract in billing and activates the project. When billing is
// unavailable the project stays PENDING_FINANCIAL_ACTIVATION: with record, an exception (retried
// automatically) is written in tx; without, errBillingUnavailable is returned (the retry path).
func (s *Service) activate(ctx context.Context, tx pgx.Tx, conv *store.Conversion, p *project.Project, opp *projectv1.Opportunity, le store.LegalEntity, record bool, res *Result) error {
	resp, err := s.upsertContract(ctx, opp, le, conv.CustomerID, false)
	if err != nil {
		if !grpcx.Retryable(err) {
			return grpcx.FaultFromStatus(err, contractField)
		}
		s.Log.WarnContext(ctx, "billing unavailable; project waits for financial activation", "project_id", p.ID, "err", err)
		if !record {
			return errBillingUnavailable
		}
		return s.pend(ctx, tx, p, res)
	}
	c := resp.GetContract()
	conv.ContractID = c.GetContractId()
	switch resp.GetOutcome() {
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED:
		res.Contract = Record{ID: c.GetContractId(), Outcome: Created, Version: c.GetVersion()}
	case billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED:
		res.Contract = Record{ID: c.GetContractId(), Outcome: Updated, Version: c.GetVersion()}
	default:
		res.Contract = Record{ID: c.GetContractId(), Outcome: Unchanged, Version: c.GetVersion()}
	}
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
	_, err = s.Queue.ResolveByKey(ctx, tx, activationKey(p.ID), "system", "contract "+p.ContractID+" created; project activated")
	return err
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
	return pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		c, found, err := store.ConversionByProject(ctx, tx, e.EntityID)
		if err != nil {
			return err
		}
		if !found {
			return fault.New(fault.NotFound, "CONVERSION_NOT_FOUND", "no conversion created project %s", e.EntityID)
		}
		conv, _, err := store.LockConversion(ctx, tx, c.CRMSystem, c.OpportunityID)
		if err != nil {
			return err
		}
		if conv.State == store.ConversionActive {
			return nil
		}
		var opp projectv1.Opportunity
		if err := proto.Unmarshal(conv.Request, &opp); err != nil {
			return err
		}
		le, err := store.LegalEntityByCode(ctx, tx, opp.GetLegalEntityCode())
		if err != nil {
			return err
		}
		p, err := store.GetProject(ctx, tx, conv.ProjectID, true)
		if err != nil {
			return err
		}
		var res Result
		if err := s.activate(ctx, tx, &conv, &p, &opp, le, false, &res); err != nil {
			return err
		}
		s.Log.InfoContext(ctx, "project financially activated on retry", "project_id", p.ID, "contract_id", p.ContractID)
		return store.SaveConversion(ctx, tx, conv)
	})
}
