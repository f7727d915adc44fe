package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// time_actuals holds the hours the ledger posted per resource and day (fed by posting events),
// for actual utilization.

// ActualBillableHours returns the posted billable hours per month of [from, to], keyed by the
// month's first day.
func (s *Store) ActualBillableHours(ctx context.Context, resourceID string, from, to civil.Date) (map[civil.Date]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT date_trunc('month', work_date)::date, sum(billable_hours) FROM time_actuals
		WHERE resource_id = $1 AND work_date BETWEEN $2 AND $3 GROUP BY 1`, resourceID, from.Time(), to.Time())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[civil.Date]decimal.Decimal{}
	for rows.Next() {
		var m time.Time
		var h decimal.Decimal
		if err := rows.Scan(&m, &h); err != nil {
			return nil, err
		}
		out[civil.Of(m)] = h
	}
	return out, rows.Err()
}

type dayKey struct {
	resourceID string
	date       civil.Date
}

// AddTimeActuals adds posted hours to their resources' days, in one statement. Hours of one day
// are summed first: one statement cannot update a row twice.
func (s *Store) AddTimeActuals(ctx context.Context, posted []resource.PostedTime) error {
	if len(posted) == 0 {
		return nil
	}
	idx := map[dayKey]int{}
	var ids []string
	var dates []time.Time
	var total, billable []decimal.Decimal
	for _, p := range posted {
		k := dayKey{p.ResourceID, p.Date}
		i, ok := idx[k]
		if !ok {
			i, idx[k] = len(ids), len(ids)
			ids, dates = append(ids, p.ResourceID), append(dates, p.Date.Time())
			total, billable = append(total, decimal.Zero), append(billable, decimal.Zero)
		}
		total[i], billable[i] = total[i].Add(p.Hours), billable[i].Add(p.Billable)
	}
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO time_actuals AS a (resource_id, work_date, total_hours, billable_hours)
		SELECT * FROM unnest($1::uuid[], $2::date[], $3::numeric[], $4::numeric[])
		ON CONFLICT (resource_id, work_date) DO UPDATE SET total_hours = a.total_hours + EXCLUDED.total_hours,
			billable_hours = a.billable_hours + EXCLUDED.billable_hours`, ids, dates, total, billable)
	return err
}
