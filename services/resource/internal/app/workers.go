package app

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// Worker is an HCM worker record.
type Worker struct {
	System   string
	WorkerID string
	// Version orders the HCM's records of the worker; an older one changes nothing.
	Version int64
	Details resource.Details
	// Rate, when set, is the compensation-derived cost rate in force from Rate.From.
	Rate *resource.Rate
}

// SyncWorker applies an HCM worker record: the resource's details and, when the record carries
// one, its cost rate from the record's effective date. Records are serialised per worker, and a
// record older than the last applied one changes nothing at all (details and rates alike).
func (s *Service) SyncWorker(ctx context.Context, w Worker) (r resource.Resource, out Outcome, rateChanged bool, err error) {
	refs := []resource.ExternalRef{{System: w.System, ObjectType: "Worker", ExternalID: w.WorkerID}}
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		rateChanged = false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 4242))`, w.System+"\n"+w.WorkerID); err != nil {
			return err
		}
		id, found, err := store.ResourceByRef(ctx, tx, refs)
		if err != nil {
			return err
		}
		d := w.Details
		if found {
			cur, err := store.GetResource(ctx, tx, id, true)
			if err != nil {
				return err
			}
			if w.Version < cur.SourceVersion {
				r, out = cur, IgnoredStale
				s.Log.InfoContext(ctx, "older HCM record ignored", "resource_id", cur.ID, "record_version", w.Version,
					"applied_version", cur.SourceVersion)
				return nil
			}
			d.UtilizationTarget = cur.UtilizationTarget // the HCM does not own the target
		}
		if r, out, err = s.upsert(ctx, tx, d, refs, w.Version); err != nil {
			return err
		}
		if w.Rate == nil {
			return nil
		}
		before, err := store.CurrentRates(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		rate := *w.Rate
		rate.Reason = w.System + " record " + strconv.FormatInt(w.Version, 10)
		if cur, ok := before.At(rate.From); ok && cur.From == rate.From && cur.To.IsZero() && cur.Rate.Equal(rate.Rate) {
			return nil // the same rate from the same date: nothing to change
		}
		if _, _, err := s.setRate(ctx, tx, r, rate); err != nil {
			return err
		}
		rateChanged = true
		if out == Unchanged {
			out = Updated
		}
		return nil
	})
	return r, out, rateChanged, err
}
