package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"

	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// Financials returns a project's economics.
func (s *Service) Financials(ctx context.Context, projectID string) (financials.Economics, error) {
	e, err := s.store.Economics(ctx, projectID)
	if err == nil {
		err = auth.CheckLegalEntity(ctx, e.LegalEntityID)
	}
	if err != nil {
		return financials.Economics{}, err
	}
	return e, nil
}

// Portfolio returns up to limit projects' economics (in status, when given) of the caller's
// legal entities, lowest forecast margin first.
func (s *Service) Portfolio(ctx context.Context, status project.Status, limit int) ([]financials.Economics, error) {
	return s.store.Portfolio(ctx, status, limit, auth.EntitiesOf(ctx).Filter())
}

// ApplyPlan stores an assignment's staffing plan, when newer than the stored one, and forecasts
// it at its contract's bill rates.
func (s *Service) ApplyPlan(ctx context.Context, p financials.Plan) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		applied, err := s.store.UpsertPlan(ctx, p)
		if err != nil || !applied {
			return err
		}
		if err := s.price(ctx, financials.Scope{AssignmentID: p.AssignmentID}); err != nil {
			return err
		}
		return s.financialsChanged(ctx, "", p.ProjectID)
	})
}

// ApplyContract replaces the replica of a contract, when newer, and forecasts the plans of the
// projects using it again at its rates.
func (s *Service) ApplyContract(ctx context.Context, c financials.Contract) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		applied, err := s.store.ApplyContract(ctx, c)
		if err != nil || !applied {
			return err
		}
		if err := s.price(ctx, financials.Scope{ContractID: c.ID}); err != nil {
			return err
		}
		return s.financialsChanged(ctx, c.ID)
	})
}

// AddActuals adds posted hours, cost and revenue to their projects' actuals.
func (s *Service) AddActuals(ctx context.Context, postings []financials.Posting) error {
	byProject := financials.ActualsByProject(postings)
	if len(byProject) == 0 {
		return nil
	}
	ids := make([]string, 0, len(byProject))
	for id := range byProject {
		ids = append(ids, id)
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.AddActuals(ctx, byProject); err != nil {
			return err
		}
		return s.financialsChanged(ctx, "", ids...)
	})
}

// price forecasts the plans of scope again (see financials.Price).
func (s *Service) price(ctx context.Context, scope financials.Scope) error {
	plans, err := s.store.StaffedPlans(ctx, scope)
	if err != nil {
		return err
	}
	forecasts := make([]financials.Forecast, len(plans))
	for i, p := range plans {
		forecasts[i] = financials.Price(p)
	}
	return s.store.SaveForecasts(ctx, forecasts)
}
