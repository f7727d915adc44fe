package app

import (
	"bytes"
	"context"
	"errors"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// UpsertResource creates or updates (a new version) the resource holding the input's
// references; the same content is a no-op (resource.Unchanged).
func (s *Service) UpsertResource(ctx context.Context, in resource.Input) (r resource.Resource, out resource.Outcome, err error) {
	run := func(ctx context.Context) error {
		r, out, err = s.upsert(ctx, in.Resolve(), in.Refs, 0)
		return err
	}
	err = s.Store.InTx(ctx, run)
	// A lost race on a reference: the second run finds the winner's resource.
	if errors.Is(err, resource.ErrReferenceTaken) {
		err = s.Store.InTx(ctx, run)
	}
	return r, out, err
}

// upsert creates or updates the resource holding refs. sourceVersion (0 for manual edits) must
// not be older than the last applied one, otherwise nothing changes (resource.IgnoredStale).
func (s *Service) upsert(ctx context.Context, d resource.Details, refs []resource.ExternalRef, sourceVersion int64) (resource.Resource, resource.Outcome, error) {
	id, found, err := s.Store.ResourceByRef(ctx, refs)
	if err != nil {
		return resource.Resource{}, 0, err
	}
	if !found {
		r := resource.Resource{ID: s.newID(), Details: d, Refs: refs, Version: 1, SourceVersion: sourceVersion, UpdatedAt: s.now()}
		return r, resource.Created, s.saveResource(ctx, r, refs, actionResourceCreated)
	}
	r, err := s.Store.GetResourceForUpdate(ctx, id)
	if err != nil {
		return r, 0, err
	}
	if sourceVersion != 0 && sourceVersion < r.SourceVersion {
		return r, resource.IgnoredStale, nil
	}
	missing := r.MissingRefs(refs)
	if bytes.Equal(r.Hash(), d.Hash()) && len(missing) == 0 {
		if sourceVersion > r.SourceVersion {
			r.SourceVersion = sourceVersion
			return r, resource.Unchanged, s.Store.SetSourceVersion(ctx, r.ID, sourceVersion)
		}
		return r, resource.Unchanged, nil
	}
	r.Details, r.Version, r.UpdatedAt, r.Refs = d, r.Version+1, s.now(), append(r.Refs, missing...)
	r.SourceVersion = max(r.SourceVersion, sourceVersion)
	return r, resource.Updated, s.saveResource(ctx, r, missing, actionResourceUpdated)
}

// saveResource stores r (attaching newRefs), its resource.upserted event and its audit record.
func (s *Service) saveResource(ctx context.Context, r resource.Resource, newRefs []resource.ExternalRef, action string) error {
	if err := s.Store.SaveResource(ctx, r, newRefs); err != nil {
		return err
	}
	if err := s.Store.Publish(ctx, wire.ResourceUpserted(r)); err != nil {
		return err
	}
	return s.Store.Audit(ctx, audit.Record{Action: action, EntityType: "resource", EntityID: r.ID,
		Details: map[string]any{"version": r.Version, "source_version": r.SourceVersion, "active": r.Active}})
}

// GetResource returns one resource.
func (s *Service) GetResource(ctx context.Context, id string) (resource.Resource, error) {
	return s.Store.GetResource(ctx, id)
}

// ListResources returns up to limit resources after afterID.
func (s *Service) ListResources(ctx context.Context, afterID string, limit int) ([]resource.Resource, error) {
	return s.Store.ListResources(ctx, afterID, limit)
}
