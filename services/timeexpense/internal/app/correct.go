package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// Correction is the outcome of a correction.
type Correction struct {
	Original, Reversal, Replacement te.Entry
}

// Correct replaces an approved entry: in one transaction it stores a reversal of the original
// (hours or amount negated), a replacement built from corrected (checked like a new entry, the
// original's hours not counting in the day's total), marks the original replaced, publishes
// time_entries.reversed and time_entries.approved, and audits the reason. The original's hours and
// amount never change.
//
// It can return te.ErrEntryNotFound, te.ErrEntryNotApproved, te.ErrEntryAlreadyReversed,
// te.ErrEntryIsReversal and every error of Record but te.ErrTimesheetNotEditable.
func (s *Service) Correct(ctx context.Context, id string, corrected te.Input, reason string) (out Correction, err error) {
	defer func() { refused(err) }()
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		out, err = s.correct(ctx, id, corrected, reason)
		return err
	})
	return out, err
}

func (s *Service) correct(ctx context.Context, id string, corrected te.Input, reason string) (Correction, error) {
	peek, err := s.store.Entry(ctx, id)
	if err != nil {
		return Correction{}, err
	}
	// Lock both days' owners before the original's row, the order every writer follows.
	in := peek.Replacement(corrected)
	if err := s.checkProjects(ctx, peek.ProjectID, in.ProjectID); err != nil {
		return Correction{}, err
	}
	if err := s.store.LockResources(ctx, []string{peek.ResourceID, in.ResourceID}); err != nil {
		return Correction{}, err
	}
	orig, err := s.store.LockEntry(ctx, id)
	if err != nil {
		return Correction{}, err
	}
	if err := orig.CheckCorrectable(); err != nil {
		return Correction{}, err
	}
	in = orig.Replacement(corrected)
	if err := in.Check(); err != nil {
		return Correction{}, err
	}
	if in.Ref != nil {
		holder, found, err := s.store.EntryByRef(ctx, *in.Ref)
		if err != nil {
			return Correction{}, err
		}
		if found {
			return Correction{}, te.ErrDuplicateExternalID.With("external reference "+in.Ref.ExternalID+" belongs to entry "+holder.ID, "entry_id", holder.ID)
		}
	}
	if err := s.checkAgainstReplica(ctx, in, orig.ID); err != nil {
		return Correction{}, err
	}
	now := s.now()
	reversal := orig.Reversal(s.newID(), now)
	sheet := ""
	if orig.TimesheetID != "" && in.ResourceID == orig.ResourceID && in.Date.StartOfISOWeek() == orig.Date.StartOfISOWeek() {
		sheet = orig.TimesheetID
	}
	replacement := te.NewApproved(s.newID(), in, sheet, now)
	if _, err := s.store.InsertEntry(ctx, reversal); err != nil {
		return Correction{}, err
	}
	inserted, err := s.store.InsertEntry(ctx, replacement)
	if err != nil {
		return Correction{}, err
	}
	if !inserted {
		return Correction{}, te.ErrDuplicateExternalID.With("external reference " + in.Ref.ExternalID + " was just taken by another entry")
	}
	if orig.Version, err = s.store.MarkReplaced(ctx, orig.ID, replacement.ID); err != nil {
		return Correction{}, err
	}
	orig.ReplacedByID = replacement.ID
	if err := s.store.Publish(ctx, wire.EntriesReversed(orig.ID, []te.Entry{reversal}),
		wire.EntriesApproved(orig.ID, []te.Entry{replacement})); err != nil {
		return Correction{}, err
	}
	return Correction{Original: orig, Reversal: reversal, Replacement: replacement}, s.store.Audit(ctx, audit.Record{
		Action: "time_entry.corrected", EntityType: "time_entry", EntityID: orig.ID, Reason: reason,
		Details: map[string]any{"reversal_id": reversal.ID, "replacement_id": replacement.ID, "version": orig.Version,
			"kind": string(orig.Kind)}})
}
