package app

import (
	"context"

	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// Financials returns a project's economics.
func (s *Service) Financials(ctx context.Context, projectID string) (store.Financials, error) {
	return store.GetFinancials(ctx, s.Pool, projectID)
}

// Portfolio returns project economics, lowest forecast margin first.
func (s *Service) Portfolio(ctx context.Context, status project.Status, limit int) ([]store.Financials, error) {
	return store.Portfolio(ctx, s.Pool, status, limit)
}
