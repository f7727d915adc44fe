package store

import (
	"context"

	"github.com/accrue/accrue/internal/platform/insight"
)

// TraceRecords is the time & expense service's trace hook: entries by id, timesheet, project or
// external id.
func (s *Store) TraceRecords(ctx context.Context, keys, _ []string, limit int) (insight.Found, error) {
	var f insight.Found
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text, created_at, kind, work_date::text, hours::text, amount::text, currency_code,
			approval_status, posting_status, posting_reason
		FROM time_entries WHERE id::text = ANY($1) OR project_id::text = ANY($1) OR timesheet_id::text = ANY($1)
		   OR (ext_id IS NOT NULL AND ext_id = ANY($1))
		ORDER BY created_at LIMIT $2`, keys, limit+1)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var it insight.Item
		var kind, day, hours, amount, cur, approval, posting, reason string
		if err := rows.Scan(&it.EntityID, &it.Time, &kind, &day, &hours, &amount, &cur, &approval, &posting, &reason); err != nil {
			return f, err
		}
		if len(f.Items) == limit {
			f.Truncated = true
			break
		}
		it.Kind, it.EntityType = insight.KindTimeEntry, "time_entry"
		if kind == "TIME" {
			it.Title = "time " + hours + " h on " + day
		} else {
			it.Title = "expense " + amount + " " + cur + " on " + day
		}
		it.Status = approval + " / " + posting
		it.Detail = reason
		f.Items = append(f.Items, it)
	}
	return f, rows.Err()
}
