package app

import (
	"context"

	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// ApplyProjects keeps the project replica entries are checked against: each project (as an event
// left it) replaces the stored one, tasks included, unless the stored version is newer or equal.
func (s *Service) ApplyProjects(ctx context.Context, projects []te.Project) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		for _, p := range projects {
			if err := s.store.UpsertProject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// LedgerChanges are what a batch of the ledger's events changes here.
type LedgerChanges struct {
	// LegalEntities carry closed-period policies; an older version changes nothing.
	LegalEntities []te.LegalEntity
	// Periods carry period statuses; an earlier change changes nothing.
	Periods []te.Period
	// Postings are the ledger's answers about entries, in arrival order.
	Postings []te.PostingAnswer
}

// ApplyLedger keeps the ledger replica (legal entities' closed-period policies, period statuses)
// and applies the ledger's posting answers to entries: per entry, the most settled answer of the
// batch (te.Settle), and only when it supersedes the entry's status. It returns how many entries
// changed.
func (s *Service) ApplyLedger(ctx context.Context, c LedgerChanges) (changed int64, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		for _, le := range c.LegalEntities {
			if err := s.store.UpsertLegalEntity(ctx, le); err != nil {
				return err
			}
		}
		for _, p := range c.Periods {
			if err := s.store.UpsertPeriod(ctx, p); err != nil {
				return err
			}
		}
		changed, err = s.store.ApplyPostings(ctx, te.Settle(c.Postings))
		return err
	})
	return changed, err
}
