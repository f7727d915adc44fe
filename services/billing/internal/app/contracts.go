package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// ReasonUnknownLegalEntity is returned when a contract names a legal entity that does not exist.
const ReasonUnknownLegalEntity = "UNKNOWN_LEGAL_ENTITY"

// validate checks terms against their legal entity (and the existing contract's currency, ""
// for a new contract).
func (s *Service) validate(ctx context.Context, t contract.Terms, existingCurrency string) error {
	le, err := s.store.LegalEntity(ctx, t.LegalEntityID)
	if errors.Is(err, legalentity.ErrNotFound) {
		return validateWith(nil, t, existingCurrency)
	}
	if err != nil {
		return err
	}
	return validateWith(&le, t, existingCurrency)
}

// validateWith checks terms against le (nil: there is no such legal entity).
func validateWith(le *legalentity.LegalEntity, t contract.Terms, existingCurrency string) error {
	if le == nil {
		return fault.New(fault.FailedPrecondition, ReasonUnknownLegalEntity, "legal entity %s does not exist", t.LegalEntityID)
	}
	return t.Validate(existingCurrency)
}

// firstVersion is version 1 of a new contract.
func (s *Service) firstVersion(ref contract.ExternalRef, sourceVersion int64, t contract.Terms) contract.Contract {
	now := s.now()
	return contract.Contract{ID: uuid.Must(uuid.NewV7()).String(), Version: 1, Terms: t, Ref: ref,
		SourceVersion: sourceVersion, ChangeReason: "created", CreatedAt: now, VersionAt: now}
}

// writeVersion writes version c (previous: the version it replaces, 0 for none) with its
// contract.changed event and audit record, in one round trip.
func (s *Service) writeVersion(ctx context.Context, c contract.Contract, previous int64) error {
	action := "contract.amended"
	if previous == 0 {
		action = "contract.created"
	}
	ev := outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeContractChanged, Subject: c.ID,
		Payload: &billingv1.ContractChanged{Contract: wire.Contract(c), PreviousVersion: previous}}
	rec := audit.Record{Action: action, EntityType: "contract", EntityID: c.ID, Reason: c.ChangeReason,
		Details: map[string]any{"version": c.Version, "source_version": c.SourceVersion, "total": c.Total().String()}}
	return s.store.SaveContractVersion(ctx, c, auth.Actor(ctx), ev, rec)
}

// saveVersion writes version c like writeVersion and, in the same transaction, posts the time
// that was parked waiting for this contract's bill rates and re-rates the billable time posted
// at rates the new version changed (rerate).
func (s *Service) saveVersion(ctx context.Context, c contract.Contract, previous int64) error {
	if err := s.writeVersion(ctx, c, previous); err != nil {
		return err
	}
	if _, err := s.Repost(ctx, "bill_rate", c.ID+"/"); err != nil || previous == 0 {
		return err
	}
	// A posting in flight that read the previous rate card commits before the re-rate looks for
	// candidates; one that has not read it yet waits and reads the new one.
	if err := s.store.LockRateCard(ctx, c.ID); err != nil {
		return err
	}
	return s.rerate(ctx, c)
}

// GetContract returns the current version of a contract.
func (s *Service) GetContract(ctx context.Context, id string) (contract.Contract, error) {
	c, err := s.store.Contract(ctx, id, 0)
	if err == nil {
		err = auth.CheckLegalEntity(ctx, c.LegalEntityID)
	}
	if err != nil {
		return contract.Contract{}, err
	}
	return c, nil
}

// ListContractVersions returns every version of a contract, oldest first.
func (s *Service) ListContractVersions(ctx context.Context, id string) ([]contract.Contract, error) {
	list, err := s.store.ContractVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if err := auth.CheckLegalEntity(ctx, c.LegalEntityID); err != nil {
			return nil, err
		}
	}
	return list, nil
}
