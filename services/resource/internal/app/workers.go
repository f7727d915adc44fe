package app

import (
	"context"

	"github.com/accrue/accrue/services/resource/internal/resource"
)

// SyncWorker applies an HCM worker record: the resource's details and, when the record carries
// one, its cost rate from the record's effective date. Records are serialised per worker, and a
// record older than the last applied one changes nothing at all (details and rates alike).
func (s *Service) SyncWorker(ctx context.Context, w resource.Worker) (r resource.Resource, out resource.Outcome, rateChanged bool, err error) {
	if err := w.Check(); err != nil {
		return r, 0, false, err
	}
	refs := []resource.ExternalRef{w.Ref()}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		rateChanged = false
		if err := s.Store.LockWorker(ctx, w.System, w.WorkerID); err != nil {
			return err
		}
		id, found, err := s.Store.ResourceByRef(ctx, refs)
		if err != nil {
			return err
		}
		d := w.Input.Resolve()
		if found {
			cur, err := s.Store.GetResourceForUpdate(ctx, id)
			if err != nil {
				return err
			}
			if w.Version < cur.SourceVersion {
				r, out = cur, resource.IgnoredStale
				s.Log.InfoContext(ctx, "older HCM record ignored", "resource_id", cur.ID, "record_version", w.Version,
					"applied_version", cur.SourceVersion)
				return nil
			}
			d.UtilizationTarget = cur.UtilizationTarget // the HCM does not own the target
		}
		if r, out, err = s.upsert(ctx, d, refs, w.Version); err != nil {
			return err
		}
		if w.Rate == nil {
			return nil
		}
		before, err := s.Store.CurrentRates(ctx, r.ID)
		if err != nil {
			return err
		}
		rate := w.CostRate()
		if before.Same(rate) {
			return nil // the same rate from the same date: nothing to change
		}
		if _, _, err := s.setRate(ctx, r, rate); err != nil {
			return err
		}
		rateChanged = true
		if out == resource.Unchanged {
			out = resource.Updated
		}
		return nil
	})
	return r, out, rateChanged, err
}
