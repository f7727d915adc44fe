package app

import (
	"bytes"
	"context"
	"errors"
	"strconv"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// UpsertContract creates the contract identified by ref, or amends it when sourceVersion is newer
// and the terms differ. An older (or equal) source version never changes anything. With
// validateOnly the request is checked and nothing is written.
//
// A request is first decided on one unlocked read (the contract's head and the legal entity).
// Checking only, or creating a contract nobody holds yet, needs nothing more: the create is one
// round trip that commits on its own, and loses a race on the external reference as a whole
// (contract.ErrRefTaken). Every other case (an amendment, a lost race, a caller's transaction)
// runs in a transaction that locks the contract.
func (s *Service) UpsertContract(ctx context.Context, ref contract.ExternalRef, sourceVersion int64, t contract.Terms, validateOnly bool) (c contract.Contract, out contract.Outcome, err error) {
	if err := auth.CheckLegalEntity(ctx, t.LegalEntityID); err != nil {
		return c, 0, err
	}
	if !s.store.InTransaction(ctx) {
		h, le, err := s.store.LookupContract(ctx, ref, t.LegalEntityID)
		if err == nil && h != nil {
			err = auth.CheckLegalEntity(ctx, h.LegalEntityID) // nor move another entity's contract
		}
		if err != nil {
			return c, 0, err
		}
		existingCurrency := ""
		if h != nil {
			existingCurrency = h.Currency
		}
		if err := validateWith(le, t, existingCurrency); err != nil || validateOnly {
			return c, 0, err
		}
		if h == nil {
			c = s.firstVersion(ref, sourceVersion, t)
			// A new contract has a new id: no time can be parked waiting for its bill rates.
			err = s.writeVersion(ctx, c, 0)
			if !errors.Is(err, contract.ErrRefTaken) {
				return c, contract.Created, err
			}
		}
	}
	attempt := func(ctx context.Context) error {
		h, err := s.store.LockContractByRef(ctx, ref)
		if err == nil && h != nil {
			err = auth.CheckLegalEntity(ctx, h.LegalEntityID)
		}
		if err != nil {
			return err
		}
		existingCurrency := ""
		if h != nil {
			existingCurrency = h.Currency
		}
		if err := s.validate(ctx, t, existingCurrency); err != nil {
			return err
		}
		if validateOnly {
			return nil
		}
		switch {
		case h == nil:
			c, out = s.firstVersion(ref, sourceVersion, t), contract.Created
			return s.saveVersion(ctx, c, 0)
		case sourceVersion < h.SourceVersion:
			out = contract.IgnoredStale
		case bytes.Equal(h.Hash, t.Hash()):
			out = contract.Unchanged
		case sourceVersion == h.SourceVersion:
			// Same source version, different content: the source changed without a new version.
			return fault.New(fault.AlreadyExists, "SOURCE_VERSION_REUSED",
				"contract %s already holds source version %d with different terms; send a newer version", h.ID, sourceVersion)
		default:
			prev, err := s.store.Contract(ctx, h.ID, 0)
			if err != nil {
				return err
			}
			c = contract.Contract{ID: h.ID, Version: h.Version + 1, Terms: t, Ref: ref, SourceVersion: sourceVersion,
				ChangeReason: "amended from " + ref.System + " version " + strconv.FormatInt(sourceVersion, 10),
				CreatedAt:    prev.CreatedAt, VersionAt: s.now()}
			out = contract.Amended
			return s.saveVersion(ctx, c, h.Version)
		}
		c, err = s.store.Contract(ctx, h.ID, 0)
		return err
	}
	err = s.store.InTx(ctx, attempt)
	if errors.Is(err, contract.ErrRefTaken) {
		err = s.store.InTx(ctx, attempt) // a concurrent create won; the second run sees it
	}
	return c, out, err
}
