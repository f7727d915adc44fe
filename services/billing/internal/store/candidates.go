package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// Invoice candidates are written by WriteResults (postings.go); invoicing will move them on.

// ListCandidates returns the page of invoice candidates matching f, by id.
func (s *Store) ListCandidates(ctx context.Context, f ledger.CandidateFilter, page paging.Request) ([]ledger.Candidate, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text, project_id::text, contract_id::text, line_key, source_type, source_id, source_version,
			status, currency_code, source_date, quantity, unit_price, amount, markup_percent
		FROM invoice_candidates WHERE ($1 = '' OR project_id = $1::uuid) AND ($2 = '' OR source_id = $2) AND ($3 = '' OR id > $3::uuid)
		  AND ($5::text[] IS NULL OR EXISTS (SELECT 1 FROM project_replicas p
		       WHERE p.project_id = invoice_candidates.project_id AND p.legal_entity_id::text = ANY($5::text[])))
		ORDER BY id LIMIT $4`, f.ProjectID, f.SourceID, page.AfterID, page.Fetch(), f.LegalEntities)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Candidate, error) {
		var c ledger.Candidate
		var d time.Time
		var currency string
		err := r.Scan(&c.ID, &c.ProjectID, &c.ContractID, &c.LineKey, &c.SourceType, &c.SourceID, &c.Version, &c.Status, &currency, &d,
			&c.Quantity, &c.UnitPrice.Value, &c.Amount.Value, &c.Markup)
		c.SourceDate, c.UnitPrice.Currency, c.Amount.Currency = civil.Of(d), currency, currency
		return c, err
	})
}
