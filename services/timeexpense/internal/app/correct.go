package app

import (
	"context"

	"github.com/jackc/pgx/v5"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
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
	err = s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		peek, err := store.GetEntry(ctx, tx, id, false)
		if err != nil {
			return err
		}
		// Lock both days' owners before the original's row, the order every writer follows.
		in := peek.Replacement(corrected)
		if err := store.LockResources(ctx, tx, []string{peek.ResourceID, in.ResourceID}); err != nil {
			return err
		}
		orig, err := store.GetEntry(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := orig.CheckCorrectable(); err != nil {
			return err
		}
		in = orig.Replacement(corrected)
		if err := in.Check(); err != nil {
			return err
		}
		if in.Ref != nil {
			holder, found, err := store.EntryByRef(ctx, tx, *in.Ref)
			if err != nil {
				return err
			}
			if found {
				return te.ErrDuplicateExternalID.With("external reference "+in.Ref.ExternalID+" belongs to entry "+holder.ID, "entry_id", holder.ID)
			}
		}
		if err := checkAgainstReplica(ctx, tx, in, orig.ID); err != nil {
			return err
		}
		now := s.now()
		reversal := orig.Reversal(s.newID(), now)
		sheet := ""
		if orig.TimesheetID != "" && in.ResourceID == orig.ResourceID && in.Date.StartOfISOWeek() == orig.Date.StartOfISOWeek() {
			sheet = orig.TimesheetID
		}
		replacement := te.NewApproved(s.newID(), in, sheet, now)
		if _, err := store.InsertEntry(ctx, tx, reversal); err != nil {
			return err
		}
		inserted, err := store.InsertEntry(ctx, tx, replacement)
		if err != nil {
			return err
		}
		if !inserted {
			return te.ErrDuplicateExternalID.With("external reference " + in.Ref.ExternalID + " was just taken by another entry")
		}
		if orig.Version, err = store.MarkReplaced(ctx, tx, orig.ID, replacement.ID); err != nil {
			return err
		}
		orig.ReplacedByID = replacement.ID
		if _, err := s.Outbox.Enqueue(ctx, tx,
			outbox.Event{Stream: wire.Stream, Type: wire.EventEntriesReversed, Subject: orig.ID,
				Payload: &timeexpensev1.EntriesReversed{Entries: wire.Entries([]te.Entry{reversal})}},
			outbox.Event{Stream: wire.Stream, Type: wire.EventEntriesApproved, Subject: orig.ID,
				Payload: &timeexpensev1.EntriesApproved{Entries: wire.Entries([]te.Entry{replacement})}},
		); err != nil {
			return err
		}
		out = Correction{Original: orig, Reversal: reversal, Replacement: replacement}
		return audit.Write(ctx, tx, audit.Record{Action: "time_entry.corrected", EntityType: "time_entry", EntityID: orig.ID, Reason: reason,
			Details: map[string]any{"reversal_id": reversal.ID, "replacement_id": replacement.ID, "version": orig.Version,
				"kind": string(orig.Kind)}})
	})
	return out, err
}
