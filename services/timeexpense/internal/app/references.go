package app

import (
	"context"
	"errors"

	"github.com/accrue/accrue/internal/platform/early"
	"github.com/accrue/accrue/internal/platform/fault"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// checkResource refuses an input whose resource the replica does not hold: RESOURCE_NOT_FOUND
// naming resource_id, or REFERENCE_NOT_YET_KNOWN while the id may still be in flight (see
// platform/early). Without it, an entry of a resource no one has would be accepted and then wait
// forever for a cost rate.
func (s *Service) checkResource(known map[string]bool, in te.Input) error {
	if known[in.ResourceID] {
		return nil
	}
	return early.Unknown(in.ResourceID, s.now(), te.ErrResourceNotFound.With("resource "+in.ResourceID+" is unknown",
		"resource_id", in.ResourceID).At("resource_id"))
}

// early turns a PROJECT_NOT_FOUND of the replica into REFERENCE_NOT_YET_KNOWN while the project
// may still be in flight; other errors pass unchanged.
func (s *Service) early(err error, in te.Input) error {
	if err == nil || !errors.Is(err, te.ErrProjectNotFound) {
		return err
	}
	fe, _ := fault.As(err)
	return early.Unknown(in.ProjectID, s.now(), fe)
}

// ApplyResources keeps the resource replica: each resource (id and version) is recorded unless a
// newer version is stored.
func (s *Service) ApplyResources(ctx context.Context, resources map[string]int64) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		for id, v := range resources {
			if err := s.store.UpsertResource(ctx, id, v); err != nil {
				return err
			}
		}
		return nil
	})
}
