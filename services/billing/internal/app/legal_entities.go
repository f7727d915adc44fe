package app

import (
	"bytes"
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// CreateLegalEntity creates a legal entity, or returns the existing one with the same code when
// the content is the same (created false); a different content fails with
// legalentity.ErrCodeConflict.
func (s *Service) CreateLegalEntity(ctx context.Context, d legalentity.Details) (le legalentity.LegalEntity, created bool, err error) {
	if err := d.Validate(); err != nil {
		return le, false, err
	}
	attempt := func(ctx context.Context, tx pgx.Tx) error {
		h, found, err := store.LegalEntityHash(ctx, tx, d.Code)
		if err != nil {
			return err
		}
		if found {
			if !bytes.Equal(h, d.Hash()) {
				return legalentity.ErrCodeConflict
			}
			le, err = store.GetLegalEntityByCode(ctx, tx, d.Code)
			return err
		}
		le = legalentity.LegalEntity{ID: uuid.Must(uuid.NewV7()).String(), Details: d, Version: 1, CreatedAt: s.now()}
		if err := store.InsertLegalEntity(ctx, tx, le); err != nil {
			return err
		}
		if err := store.SeedAccounts(ctx, tx, le.ID); err != nil {
			return err
		}
		created = true
		if _, err := s.outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: wire.EventLegalEntityUpserted,
			Subject: le.ID, Payload: &billingv1.LegalEntityUpserted{LegalEntity: wire.LegalEntity(le)}}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Record{Action: "legal_entity.created", EntityType: "legal_entity", EntityID: le.ID,
			Details: map[string]any{"code": le.Code, "functional_currency": le.FunctionalCurrency, "policy": string(le.Policy)}})
	}
	err = pg.InTx(ctx, s.pool, attempt)
	if pg.IsUniqueViolation(err, store.LegalEntityCodeConstraint) {
		created = false
		err = pg.InTx(ctx, s.pool, attempt) // lost a race: the second run matches the winner
	}
	return le, created, err
}

// GetLegalEntity returns one legal entity.
func (s *Service) GetLegalEntity(ctx context.Context, id string) (legalentity.LegalEntity, error) {
	return store.GetLegalEntity(ctx, s.pool, id)
}

// ListLegalEntities returns legal entities ordered by code.
func (s *Service) ListLegalEntities(ctx context.Context, afterCode string, limit int) ([]legalentity.LegalEntity, error) {
	return store.ListLegalEntities(ctx, s.pool, afterCode, limit)
}
