package app

import (
	"bytes"
	"context"
	"errors"

	"github.com/google/uuid"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// CreateLegalEntity creates a legal entity with the default chart of accounts, or returns the
// existing one with the same code when the content is the same (created false); a different
// content fails with legalentity.ErrCodeConflict.
func (s *Service) CreateLegalEntity(ctx context.Context, d legalentity.Details) (le legalentity.LegalEntity, created bool, err error) {
	// A new entity is outside every listed boundary: only a caller acting for all may add one.
	if err := auth.RequireAllLegalEntities(ctx); err != nil {
		return le, false, err
	}
	if err := d.Validate(); err != nil {
		return le, false, err
	}
	attempt := func(ctx context.Context) error {
		h, found, err := s.store.LegalEntityHash(ctx, d.Code)
		if err != nil {
			return err
		}
		if found {
			if !bytes.Equal(h, d.Hash()) {
				return legalentity.ErrCodeConflict
			}
			le, err = s.store.LegalEntityByCode(ctx, d.Code)
			return err
		}
		le = legalentity.LegalEntity{ID: uuid.Must(uuid.NewV7()).String(), Details: d, Version: 1, CreatedAt: s.now()}
		if err := s.store.CreateLegalEntity(ctx, le); err != nil {
			return err
		}
		created = true
		if err := s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeLegalEntityUpserted,
			Subject: le.ID, Payload: &billingv1.LegalEntityUpserted{LegalEntity: wire.LegalEntity(le)}}); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "legal_entity.created", EntityType: "legal_entity", EntityID: le.ID,
			Details: map[string]any{"code": le.Code, "functional_currency": le.FunctionalCurrency, "policy": string(le.Policy)}})
	}
	err = s.store.InTx(ctx, attempt)
	if errors.Is(err, legalentity.ErrCodeTaken) {
		created = false
		err = s.store.InTx(ctx, attempt) // lost a race: the second run matches the winner
	}
	return le, created, err
}

// GetLegalEntity returns one legal entity.
func (s *Service) GetLegalEntity(ctx context.Context, id string) (legalentity.LegalEntity, error) {
	if err := auth.CheckLegalEntity(ctx, id); err != nil {
		return legalentity.LegalEntity{}, err
	}
	return s.store.LegalEntity(ctx, id)
}

// ListLegalEntities returns a page of legal entities ordered by code (page.Fetch() of them, so
// the caller can tell whether another page follows).
func (s *Service) ListLegalEntities(ctx context.Context, page paging.Request) ([]legalentity.LegalEntity, error) {
	return s.store.ListLegalEntities(ctx, page, auth.EntitiesOf(ctx).Filter())
}
