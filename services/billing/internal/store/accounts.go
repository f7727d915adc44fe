package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// SeedAllAccounts gives every legal entity the accounts of the default chart it lacks (run at
// start, so a chart extended in a release reaches existing entities).
func (s *Store) SeedAllAccounts(ctx context.Context) error {
	q := s.Q(ctx)
	rows, err := q.Query(ctx, `SELECT id::text FROM legal_entities`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := seedAccounts(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// seedAccounts gives a legal entity the default chart of accounts (idempotent).
func seedAccounts(ctx context.Context, q pg.Querier, legalEntityID string) error {
	n := len(ledger.DefaultChart)
	codes, names, types := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	for _, a := range ledger.DefaultChart {
		codes, names, types = append(codes, a.Code), append(names, a.Name), append(types, a.Type)
	}
	_, err := q.Exec(ctx, `INSERT INTO accounts (legal_entity_id, code, name, type)
		SELECT $1, c, n, t FROM unnest($2::text[], $3::text[], $4::text[]) AS x(c, n, t) ON CONFLICT DO NOTHING`,
		legalEntityID, codes, names, types)
	return err
}

// ListAccounts returns a legal entity's chart.
func (s *Store) ListAccounts(ctx context.Context, legalEntityID string) ([]ledger.Account, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT code, name, type FROM accounts WHERE legal_entity_id = $1 ORDER BY code`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Account, error) {
		var a ledger.Account
		return a, r.Scan(&a.Code, &a.Name, &a.Type)
	})
}

// TrialBalance sums the balances of a legal entity's accounts (one period, or all when period is
// ""): every account of the chart, and any account with postings even if the chart lacks it.
func (s *Store) TrialBalance(ctx context.Context, legalEntityID, period string) ([]ledger.BalanceLine, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT COALESCE(a.code, b.account_code), COALESCE(a.name, ''), COALESCE(sum(b.debit), 0), COALESCE(sum(b.credit), 0)
		FROM (SELECT * FROM accounts WHERE legal_entity_id = $1) a
		FULL JOIN (SELECT * FROM account_balances WHERE legal_entity_id = $1 AND ($2 = '' OR period = $2)) b ON b.account_code = a.code
		GROUP BY 1, 2 ORDER BY 1`, legalEntityID, period)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.BalanceLine, error) {
		var l ledger.BalanceLine
		return l, r.Scan(&l.Code, &l.Name, &l.Debit, &l.Credit)
	})
}
