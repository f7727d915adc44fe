package app

import (
	"bytes"
	"context"

	"github.com/jackc/pgx/v5"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// Outcome says what a write did.
type Outcome int

const (
	Created Outcome = iota + 1
	Updated
	Unchanged
	IgnoredStale
)

// UpsertResource creates or updates the resource holding refs. sourceVersion (0 for manual
// edits) must be newer than the last applied one, otherwise nothing changes (IgnoredStale).
func (s *Service) UpsertResource(ctx context.Context, d resource.Details, refs []resource.ExternalRef, sourceVersion int64) (r resource.Resource, out Outcome, err error) {
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		r, out, err = s.upsert(ctx, tx, d, refs, sourceVersion)
		return err
	})
	if pg.IsUniqueViolation(err, store.RefsConstraint) {
		err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
			r, out, err = s.upsert(ctx, tx, d, refs, sourceVersion)
			return err
		})
	}
	return r, out, err
}

func (s *Service) upsert(ctx context.Context, tx pgx.Tx, d resource.Details, refs []resource.ExternalRef, sourceVersion int64) (resource.Resource, Outcome, error) {
	id, found, err := store.ResourceByRef(ctx, tx, refs)
	if err != nil {
		return resource.Resource{}, 0, err
	}
	if !found {
		r := resource.Resource{ID: s.newID(), Details: d, Refs: refs, Version: 1, SourceVersion: sourceVersion, UpdatedAt: s.now()}
		if err := store.SaveResource(ctx, tx, r, refs); err != nil {
			return r, 0, err
		}
		return r, Created, s.publishResource(ctx, tx, r, "resource.created")
	}
	r, err := store.GetResource(ctx, tx, id, true)
	if err != nil {
		return r, 0, err
	}
	if sourceVersion != 0 && sourceVersion < r.SourceVersion {
		return r, IgnoredStale, nil
	}
	var missing []resource.ExternalRef
	for _, ref := range refs {
		known := false
		for _, have := range r.Refs {
			known = known || have == ref
		}
		if !known {
			missing = append(missing, ref)
		}
	}
	if bytes.Equal(r.Hash(), d.Hash()) && len(missing) == 0 {
		if sourceVersion > r.SourceVersion {
			r.SourceVersion = sourceVersion
			return r, Unchanged, store.SetSourceVersion(ctx, tx, r.ID, sourceVersion)
		}
		return r, Unchanged, nil
	}
	r.Details, r.Version, r.UpdatedAt, r.Refs = d, r.Version+1, s.now(), append(r.Refs, missing...)
	if sourceVersion > r.SourceVersion {
		r.SourceVersion = sourceVersion
	}
	if err := store.SaveResource(ctx, tx, r, missing); err != nil {
		return r, 0, err
	}
	return r, Updated, s.publishResource(ctx, tx, r, "resource.updated")
}

func (s *Service) publishResource(ctx context.Context, tx pgx.Tx, r resource.Resource, action string) error {
	if _, err := s.Outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: wire.EventResourceUpserted, Subject: r.ID,
		Payload: &resourcev1.ResourceUpserted{Resource: wire.Resource(r)}}); err != nil {
		return err
	}
	return audit.Write(ctx, tx, audit.Record{Action: action, EntityType: "resource", EntityID: r.ID,
		Details: map[string]any{"version": r.Version, "source_version": r.SourceVersion, "active": r.Active}})
}

// GetResource returns one resource.
func (s *Service) GetResource(ctx context.Context, id string) (resource.Resource, error) {
	return store.GetResource(ctx, s.Pool, id, false)
}

// ListResources returns resources after afterID.
func (s *Service) ListResources(ctx context.Context, afterID string, limit int) ([]resource.Resource, error) {
	return store.ListResources(ctx, s.Pool, afterID, limit)
}
