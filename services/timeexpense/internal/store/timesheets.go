package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

const timesheetColumns = `id::text, resource_id::text, week_start, status, rejection_reason, decided_by, submitted_at, decided_at, version`

func scanTimesheet(row pgx.Row) (te.Timesheet, error) {
	var t te.Timesheet
	var week time.Time
	var status string
	var submitted, decided *time.Time
	err := row.Scan(&t.ID, &t.ResourceID, &week, &status, &t.RejectionReason, &t.DecidedBy, &submitted, &decided, &t.Version)
	t.WeekStart, t.Status = civil.Of(week), te.Status(status)
	if submitted != nil {
		t.SubmittedAt = submitted.UTC()
	}
	if decided != nil {
		t.DecidedAt = decided.UTC()
	}
	return t, err
}

// OpenTimesheet returns the timesheet of resourceID's week starting weekStart, locked, creating it
// (as DRAFT, with id newID) when there is none. It does not read its entries.
func (s *Store) OpenTimesheet(ctx context.Context, newID, resourceID string, weekStart civil.Date) (te.Timesheet, error) {
	q := s.Q(ctx)
	if _, err := q.Exec(ctx, `INSERT INTO timesheets (id, resource_id, week_start, status) VALUES ($1, $2, $3, 'DRAFT')
		ON CONFLICT (resource_id, week_start) DO NOTHING`, newID, resourceID, weekStart.Time()); err != nil {
		return te.Timesheet{}, err
	}
	return scanTimesheet(q.QueryRow(ctx, `SELECT `+timesheetColumns+` FROM timesheets WHERE resource_id = $1 AND week_start = $2 FOR UPDATE`,
		resourceID, weekStart.Time()))
}

func (s *Store) timesheet(ctx context.Context, id string, forUpdate bool) (te.Timesheet, error) {
	q := s.Q(ctx)
	sql := `SELECT ` + timesheetColumns + ` FROM timesheets WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	t, err := scanTimesheet(q.QueryRow(ctx, sql, id))
	if err != nil {
		return t, pg.NotFound(err, te.ErrTimesheetNotFound.With("timesheet "+id+" does not exist", "timesheet_id", id))
	}
	t.Entries, err = collectEntries(q.Query(ctx, `SELECT `+entryColumns+` FROM time_entries e WHERE e.timesheet_id = $1
		ORDER BY e.work_date, e.id`, id))
	return t, err
}

// Timesheet returns a timesheet with its entries. It can return te.ErrTimesheetNotFound.
func (s *Store) Timesheet(ctx context.Context, id string) (te.Timesheet, error) {
	return s.timesheet(ctx, id, false)
}

// LockTimesheet returns a timesheet with its entries, its row locked until the transaction ends.
// It can return te.ErrTimesheetNotFound.
func (s *Store) LockTimesheet(ctx context.Context, id string) (te.Timesheet, error) {
	return s.timesheet(ctx, id, true)
}

func nullTime(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return v
}

// SaveTimesheet writes a timesheet's status and decision.
func (s *Store) SaveTimesheet(ctx context.Context, t te.Timesheet) error {
	_, err := s.Q(ctx).Exec(ctx, `UPDATE timesheets SET status = $2, rejection_reason = $3, decided_by = $4, submitted_at = $5,
		decided_at = $6, version = $7 WHERE id = $1`, t.ID, string(t.Status), t.RejectionReason, t.DecidedBy,
		nullTime(t.SubmittedAt), nullTime(t.DecidedAt), t.Version)
	return err
}

// SetApproval moves every entry of a timesheet to approval (and posting), increasing their
// versions, and returns them. approvedAt is stamped when not zero.
func (s *Store) SetApproval(ctx context.Context, timesheetID string, approval te.Status, posting te.PostingStatus, approvedAt time.Time) ([]te.Entry, error) {
	return collectEntries(s.Q(ctx).Query(ctx, `WITH u AS (
		UPDATE time_entries SET approval_status = $2, posting_status = $3, approved_at = COALESCE($4, approved_at), version = version + 1
		WHERE timesheet_id = $1 RETURNING *)
		SELECT `+entryColumns+` FROM u AS e ORDER BY e.work_date, e.id`, timesheetID, string(approval), string(posting), nullTime(approvedAt)))
}
