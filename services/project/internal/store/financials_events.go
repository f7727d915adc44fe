package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// MarkFinancialsChanged records, in the transaction of the change, that the financials of the
// projects (and of the projects using contractID, when set) changed: a project without a pending
// row gets one due after window; one with a pending row counts one more change, its due time
// unchanged (so several changes inside the window give one event).
func (s *Store) MarkFinancialsChanged(ctx context.Context, window time.Duration, projectIDs []string, contractID string) error {
	if len(projectIDs) == 0 && contractID == "" {
		return nil
	}
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO financials_events_pending AS f (project_id, due_at)
		SELECT DISTINCT id, now() + $3::bigint * interval '1 microsecond' FROM (
			SELECT unnest($1::uuid[]) AS id
			UNION SELECT id FROM projects WHERE $2 <> '' AND contract_id::text = $2) x
		ON CONFLICT (project_id) DO UPDATE SET changes = f.changes + 1`, projectIDs, contractID, window.Microseconds())
	return err
}

// TakeDueFinancials deletes and returns, in the caller's transaction, up to limit pending rows
// due at now (project id → number of changes), skipping rows another flusher holds. The caller
// publishes their events in the same transaction, so a rollback puts them back.
func (s *Store) TakeDueFinancials(ctx context.Context, now time.Time, limit int) (map[string]int, error) {
	rows, err := s.Q(ctx).Query(ctx, `DELETE FROM financials_events_pending WHERE project_id IN (
			SELECT project_id FROM financials_events_pending WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING project_id::text, changes`, now, limit)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var id string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil })
	return out, err
}
