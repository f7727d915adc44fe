package app

import (
	"context"

	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Replicas of other services' data that posting reads, fed by their events; each applies only
// when newer than the one held, and posts what waited for it.

// ApplyProject keeps the replica of project p (its legal entity, contract and tasks) at version,
// and posts what waited for the project's contract once it has one.
func (s *Service) ApplyProject(ctx context.Context, p ledger.Project, status string, version int64) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		changed, err := s.store.ApplyProjectReplica(ctx, p, status, version)
		if err != nil || !changed || p.ContractID == "" {
			return err
		}
		_, err = s.Repost(ctx, "project", p.ID)
		return err
	})
}

// ApplyCostRates keeps a resource's role and cost rates at ratesVersion, posts the time that
// waited for its cost rate, and re-costs the time already posted at a rate that is no longer the
// one in effect on its work date (recost: a back-dated change, or an approval that read the
// replica before the change reached it).
func (s *Service) ApplyCostRates(ctx context.Context, resourceID, role string, ratesVersion int64, rates []ledger.CostRate) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		changed, err := s.store.ApplyCostRates(ctx, resourceID, role, ratesVersion, rates)
		if err != nil || !changed {
			return err
		}
		if _, err = s.Repost(ctx, "cost_rate", resourceID); err != nil {
			return err
		}
		return s.recost(ctx, resourceID, ratesVersion)
	})
}

// SetRole records a resource's role, the key of its bill rate on rate cards.
func (s *Service) SetRole(ctx context.Context, resourceID, role string) error {
	return s.store.SetRole(ctx, resourceID, role)
}
