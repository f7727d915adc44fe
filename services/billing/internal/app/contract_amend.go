package app

import (
	"bytes"
	"context"
	"strconv"

	"github.com/accrue/accrue/internal/platform/auth"

	"github.com/accrue/accrue/services/billing/internal/contract"
)

// AmendContract writes a new version of contract id with reason, when expectedVersion is the
// current version (contract.ErrVersionConflict otherwise). Identical terms change nothing.
func (s *Service) AmendContract(ctx context.Context, id string, expectedVersion int64, reason string, t contract.Terms) (c contract.Contract, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		h, err := s.store.LockContract(ctx, id)
		if err != nil {
			return err
		}
		if h == nil {
			return contract.ErrNotFound
		}
		if err := auth.CheckLegalEntity(ctx, h.LegalEntityID, t.LegalEntityID); err != nil {
			return err
		}
		if h.Version != expectedVersion {
			return contract.ErrVersionConflict.With("contract "+id+" is at version "+strconv.FormatInt(h.Version, 10),
				"current_version", strconv.FormatInt(h.Version, 10))
		}
		if err := s.validate(ctx, t, h.Currency); err != nil {
			return err
		}
		prev, err := s.store.Contract(ctx, id, 0)
		if err != nil {
			return err
		}
		if bytes.Equal(h.Hash, t.Hash()) {
			c = prev
			return nil
		}
		c = contract.Contract{ID: id, Version: h.Version + 1, Terms: t, Ref: prev.Ref, SourceVersion: prev.SourceVersion,
			ChangeReason: reason, CreatedAt: prev.CreatedAt, VersionAt: s.now()}
		return s.saveVersion(ctx, c, h.Version)
	})
	return c, err
}
