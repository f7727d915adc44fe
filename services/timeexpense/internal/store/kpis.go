package store

import (
	"context"

	"github.com/accrue/accrue/internal/platform/pg"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// RecordRefusals records inputs refused at record time for a closed period; an input already
// recorded (the same content: a retried request) counts once.
func (s *Store) RecordRefusals(ctx context.Context, refusals []te.Refusal) error {
	if len(refusals) == 0 {
		return nil
	}
	var b pg.Batch
	for _, r := range refusals {
		in := r.Input
		hours := in.Hours
		if in.Kind != te.Time {
			hours = hours.Sub(hours)
		}
		b.Queue(`INSERT INTO closed_period_refusals (input_key, via, kind, resource_id, project_id, work_date, hours)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (input_key) DO NOTHING`,
			r.Key(), r.Via, string(in.Kind), in.ResourceID, in.ProjectID, in.Date.Time(), pg.Numeric(hours))
	}
	return b.Run(ctx, s.Q(ctx))
}

// ClosedPeriodKPIs counts the entries refused for a closed period at record time
// (closed_period_refusals) and at posting (time_entries the ledger rejected), in one statement,
// of projects of legalEntities only (nil: any).
func (s *Store) ClosedPeriodKPIs(ctx context.Context, legalEntities []string) (te.ClosedPeriodKPIs, error) {
	var k te.ClosedPeriodKPIs
	err := s.Q(ctx).QueryRow(ctx, `WITH r AS (
			SELECT $1::text AS where_, resource_id, work_date, CASE WHEN kind = 'TIME' THEN hours ELSE 0 END AS hours FROM closed_period_refusals e
			WHERE `+entitySQL(3)+`
			UNION ALL
			SELECT $2::text, resource_id, work_date, CASE WHEN kind = 'TIME' THEN hours ELSE 0 END FROM time_entries e
			WHERE posting_status = 'REJECTED_CLOSED_PERIOD' AND `+entitySQL(3)+`
		)
		SELECT count(*) FILTER (WHERE where_ = $1), count(DISTINCT (resource_id, date_trunc('week', work_date))) FILTER (WHERE where_ = $1),
			COALESCE(sum(hours) FILTER (WHERE where_ = $1), 0),
			count(*) FILTER (WHERE where_ = $2), count(DISTINCT (resource_id, date_trunc('week', work_date))) FILTER (WHERE where_ = $2),
			COALESCE(sum(hours) FILTER (WHERE where_ = $2), 0),
			count(*), count(DISTINCT (resource_id, date_trunc('week', work_date))), COALESCE(sum(hours), 0)
		FROM r`, te.RefusedAtRecordTime, te.RejectedAtPosting, legalEntities).Scan(
		&k.RecordTime.Entries, &k.RecordTime.Timesheets, &k.RecordTime.Hours,
		&k.Posting.Entries, &k.Posting.Timesheets, &k.Posting.Hours,
		&k.Total.Entries, &k.Total.Timesheets, &k.Total.Hours)
	return k, err
}
