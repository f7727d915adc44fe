package insight

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sample is a KPI value recorded at a time.
type Sample struct {
	KpiValue
	At time.Time
}

// KpiHistoryRetention is how long recorded KPI samples are kept.
const KpiHistoryRetention = 90 * 24 * time.Hour

// Current computes the current values of every registered KPI, within ctx's caller's legal
// entities, sorted by KPI and currency.
func (in *Insight) Current(ctx context.Context) ([]KpiValue, error) {
	_, sources, _ := in.snapshot()
	var out []KpiValue
	for _, s := range sources {
		vs, err := s(ctx)
		if err != nil {
			return nil, fmt.Errorf("insight: kpi: %w", err)
		}
		out = append(out, vs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].KPI != out[j].KPI {
			return out[i].KPI < out[j].KPI
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}

// Record computes the current values and stores them as samples at now, and returns them.
func (in *Insight) Record(ctx context.Context) ([]Sample, error) {
	vs, err := in.Current(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	b := &pgx.Batch{}
	out := make([]Sample, 0, len(vs))
	for _, v := range vs {
		b.Queue(`INSERT INTO kpi_history (kpi, currency_code, recorded_at, value) VALUES ($1, $2, $3, $4::numeric)
			ON CONFLICT (kpi, currency_code, recorded_at) DO UPDATE SET value = EXCLUDED.value`, v.KPI, v.Currency, now, v.Value)
		out = append(out, Sample{KpiValue: v, At: now})
	}
	b.Queue(`DELETE FROM kpi_history WHERE recorded_at < $1`, now.Add(-KpiHistoryRetention))
	if err := in.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("insight: record kpis: %w", err)
	}
	return out, nil
}

// History returns the samples of kpi ("" = every KPI) recorded in [from, to), oldest first, at
// most limit (the newest ones).
func (in *Insight) History(ctx context.Context, kpi string, from, to time.Time, limit int) ([]Sample, error) {
	rows, err := in.pool.Query(ctx, `SELECT kpi, currency_code, value::text, recorded_at FROM (
			SELECT * FROM kpi_history WHERE ($1 = '' OR kpi = $1) AND recorded_at >= $2 AND recorded_at < $3
			ORDER BY recorded_at DESC LIMIT $4) h ORDER BY recorded_at, kpi, currency_code`, kpi, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("insight: kpi history: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Sample, error) {
		var s Sample
		return s, r.Scan(&s.KPI, &s.Currency, &s.Value, &s.At)
	})
}

// Recorder records the service's KPIs every Every (lifecycle.Runner).
type Recorder struct {
	Insight *Insight
	Every   time.Duration
	Log     *slog.Logger
}

// Run records once at start, then every r.Every, until ctx is cancelled.
func (r Recorder) Run(ctx context.Context) error {
	if r.Every <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(r.Every)
	defer t.Stop()
	for {
		if _, err := r.Insight.Record(ctx); err != nil && ctx.Err() == nil && r.Log != nil {
			r.Log.WarnContext(ctx, "recording the KPIs failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
