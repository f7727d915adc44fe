package app

import (
	"bytes"
	"context"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Outcome says what an upsert did.
type Outcome int

const (
	Created Outcome = iota + 1
	Amended
	Unchanged
	IgnoredStale
)

// ReasonUnknownLegalEntity is returned when a contract names a legal entity that does not exist.
const ReasonUnknownLegalEntity = "UNKNOWN_LEGAL_ENTITY"

// validate checks terms against their legal entity (and the existing contract's currency).
func validate(ctx context.Context, q pg.Querier, t contract.Terms, existingCurrency string) error {
	le, err := store.GetLegalEntity(ctx, q, t.LegalEntityID)
	return validateWith(le, err, t, existingCurrency)
}

// validateWith checks terms against le, read with error leErr.
func validateWith(le legalentity.LegalEntity, leErr error, t contract.Terms, existingCurrency string) error {
	if leErr != nil {
		if fault.ReasonOf(leErr) == fault.ReasonOf(legalentity.ErrNotFound) {
			return fault.New(fault.FailedPrecondition, ReasonUnknownLegalEntity, "legal entity %s does not exist", t.LegalEntityID)
		}
		return leErr
	}
	return t.Validate(le.FunctionalCurrency, existingCurrency)
}

// UpsertContract creates the contract identified by ref, or amends it when sourceVersion is newer
// and the terms differ. An older (or equal) source version never changes anything. With
// validateOnly the request is checked and nothing is written.
//
// A request is first decided on one unlocked read (the contract's head and the legal entity).
// Checking only, or creating a contract nobody holds yet, needs nothing more: the create is one
// round trip that commits on its own, and loses a race on ContractRefConstraint as a whole. Every
// other case (an amendment, a lost race, a caller's transaction) runs in a transaction that
// locks the contract.
func (s *Service) UpsertContract(ctx context.Context, ref contract.ExternalRef, sourceVersion int64, t contract.Terms, validateOnly bool) (c contract.Contract, out Outcome, err error) {
	if _, ambient := pg.TxFrom(ctx); !ambient {
		look, err := store.LookupContract(ctx, s.pool, ref, t.LegalEntityID)
		if err != nil {
			return c, 0, err
		}
		existingCurrency := ""
		if look.Found {
			existingCurrency = look.Head.Currency
		}
		if err := validateWith(look.LegalEntity, look.LegalEntityErr, t, existingCurrency); err != nil || validateOnly {
			return c, 0, err
		}
		if !look.Found {
			c, err = s.create(ctx, ref, sourceVersion, t)
			if !pg.IsUniqueViolation(err, store.ContractRefConstraint) {
				return c, Created, err
			}
		}
	}
	attempt := func(ctx context.Context, tx pgx.Tx) error {
		h, found, err := store.LockContractByRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		existingCurrency := ""
		if found {
			existingCurrency = h.Currency
		}
		if err := validate(ctx, tx, t, existingCurrency); err != nil {
			return err
		}
		if validateOnly {
			return nil
		}
		now := s.now()
		switch {
		case !found:
			c, out = s.firstVersion(ref, sourceVersion, t), Created
			return s.saveVersion(ctx, tx, c, 0)
		case sourceVersion < h.SourceVersion:
			out = IgnoredStale
		case bytes.Equal(h.Hash, t.Hash()):
			out = Unchanged
		case sourceVersion == h.SourceVersion:
			// Same source version, different content: the source changed without a new version.
			return fault.New(fault.AlreadyExists, "SOURCE_VERSION_REUSED",
				"contract %s already holds source version %d with different terms; send a newer version", h.ID, sourceVersion)
		default:
			prev, err := store.GetContract(ctx, tx, h.ID, 0)
			if err != nil {
				return err
			}
			c = contract.Contract{ID: h.ID, Version: h.Version + 1, Terms: t, Ref: ref, SourceVersion: sourceVersion,
				ChangeReason: "amended from " + ref.System + " version " + strconv.FormatInt(sourceVersion, 10),
				CreatedAt:    prev.CreatedAt, VersionAt: now}
			out = Amended
			return s.saveVersion(ctx, tx, c, h.Version)
		}
		c, err = store.GetContract(ctx, tx, h.ID, 0)
		return err
	}
	err = pg.InTx(ctx, s.pool, attempt)
	if pg.IsUniqueViolation(err, store.ContractRefConstraint) {
		err = pg.InTx(ctx, s.pool, attempt) // a concurrent create won; the second run sees it
	}
	return c, out, err
}

// firstVersion is version 1 of a new contract.
func (s *Service) firstVersion(ref contract.ExternalRef, sourceVersion int64, t contract.Terms) contract.Contract {
	now := s.now()
	return contract.Contract{ID: uuid.Must(uuid.NewV7()).String(), Version: 1, Terms: t, Ref: ref,
		SourceVersion: sourceVersion, ChangeReason: "created", CreatedAt: now, VersionAt: now}
}

// create writes the first version of a contract, its event and its audit record in one round
// trip. A new contract has a new id, so no time can be parked waiting for its bill rates (see
// saveVersion).
func (s *Service) create(ctx context.Context, ref contract.ExternalRef, sourceVersion int64, t contract.Terms) (contract.Contract, error) {
	c := s.firstVersion(ref, sourceVersion, t)
	var b pg.Batch
	if err := s.queueVersion(ctx, &b, c, 0); err != nil {
		return c, err
	}
	return c, b.Run(ctx, s.pool)
}

// AmendContract writes a new version of contract id with reason, when expectedVersion is the
// current version (contract.ErrVersionConflict otherwise). Identical terms change nothing.
func (s *Service) AmendContract(ctx context.Context, id string, expectedVersion int64, reason string, t contract.Terms) (c contract.Contract, err error) {
	err = pg.InTx(ctx, s.pool, func(ctx context.Context, tx pgx.Tx) error {
		h, found, err := store.LockContract(ctx, tx, id)
		if err != nil {
			return err
		}
		if !found {
			return contract.ErrNotFound
		}
		if h.Version != expectedVersion {
			return contract.ErrVersionConflict.With("contract "+id+" is at version "+strconv.FormatInt(h.Version, 10),
				"current_version", strconv.FormatInt(h.Version, 10))
		}
		if err := validate(ctx, tx, t, h.Currency); err != nil {
			return err
		}
		prev, err := store.GetContract(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if bytes.Equal(h.Hash, t.Hash()) {
			c = prev
			return nil
		}
		c = contract.Contract{ID: id, Version: h.Version + 1, Terms: t, Ref: prev.Ref, SourceVersion: prev.SourceVersion,
			ChangeReason: reason, CreatedAt: prev.CreatedAt, VersionAt: s.now()}
		return s.saveVersion(ctx, tx, c, h.Version)
	})
	return c, err
}

// saveVersion writes version c (previous: the version it replaces, 0 for none) with its event
// and audit record, and posts the time that was parked waiting for this contract's bill rates.
func (s *Service) saveVersion(ctx context.Context, tx pgx.Tx, c contract.Contract, previous int64) error {
	var b pg.Batch
	if err := s.queueVersion(ctx, &b, c, previous); err != nil {
		return err
	}
	if err := b.Run(ctx, tx); err != nil {
		return err
	}
	// Time parked for lack of a bill rate of this contract may post now.
	_, err := s.Repost(ctx, tx, "bill_rate", c.ID+"/")
	return err
}

// queueVersion adds version c, its contract.changed event and its audit record to b.
func (s *Service) queueVersion(ctx context.Context, b *pg.Batch, c contract.Contract, previous int64) error {
	if err := store.QueueSaveVersion(b, c, auth.Actor(ctx)); err != nil {
		return err
	}
	if _, err := s.outbox.Queue(ctx, b, outbox.Event{Stream: wire.Stream, Type: wire.EventContractChanged, Subject: c.ID,
		Payload: &billingv1.ContractChanged{Contract: wire.Contract(c), PreviousVersion: previous}}); err != nil {
		return err
	}
	action := "contract.amended"
	if previous == 0 {
		action = "contract.created"
	}
	return audit.Queue(ctx, b, audit.Record{Action: action, EntityType: "contract", EntityID: c.ID, Reason: c.ChangeReason,
		Details: map[string]any{"version": c.Version, "source_version": c.SourceVersion, "total": c.Total().String()}})
}

// GetContract returns the current version of a contract.
func (s *Service) GetContract(ctx context.Context, id string) (contract.Contract, error) {
	return store.GetContract(ctx, s.pool, id, 0)
}

// ListContractVersions returns every version of a contract, oldest first.
func (s *Service) ListContractVersions(ctx context.Context, id string) ([]contract.Contract, error) {
	return store.ListVersions(ctx, s.pool, id)
}
