package app

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// MaxImportItems bounds one import call.
const MaxImportItems = 5000

// errImportRace says concurrent imports kept taking this call's references; a retry sees them.
var errImportRace = fault.New(fault.Conflict, "IMPORT_CONFLICT", "concurrent imports are storing the same external references; retry the call")

// Import stores entries already approved in a T&E tool, each checked on its own with the rules of
// Record: accepted items are stored APPROVED (posting PENDING, version 1, no timesheet) and
// published in time_entries.approved events of at most wire.MaxEntriesPerEvent entries; an item
// whose external reference is stored (or accepted earlier in the call) with the same content is
// a DUPLICATE; any other item is REJECTED with its reason and writes nothing. Everything needed
// is loaded in bulk and entries are inserted in bulk, in one transaction. When a concurrent
// import inserted one of the references meanwhile, the whole call runs once more and reports it
// DUPLICATE.
func (s *Service) Import(ctx context.Context, items []te.ImportItem) (te.ImportSummary, error) {
	if len(items) > MaxImportItems {
		return te.ImportSummary{}, fault.Invalidf("TOO_MANY_ITEMS", "items", "an import takes at most %d items", MaxImportItems)
	}
	var sum te.ImportSummary
	systems := map[string]bool{}
	projects := make([]string, 0, len(items))
	for _, it := range items {
		if it.Input.Ref != nil {
			systems[it.Input.Ref.System] = true
		}
		projects = append(projects, it.Input.ProjectID)
	}
	// An import is one caller's batch: one item of another legal entity refuses all of it.
	if err := s.checkProjects(ctx, projects...); err != nil {
		return te.ImportSummary{}, err
	}
	run := func(ctx context.Context) (err error) {
		// Imports from one source system take turns, so a call always sees the references an
		// earlier one stored and reports them DUPLICATE instead of racing on the unique index.
		// One call validates and copies thousands of entries in milliseconds: taking turns costs
		// little, and the month-end throughput comes from the batch size.
		if err := s.store.LockImportSystems(ctx, keys(systems)); err != nil {
			return err
		}
		sum, err = s.importOnce(ctx, items)
		return err
	}
	// A transaction of the caller's cannot run the call again once a statement failed in it.
	retry := !s.store.InTransaction(ctx)
	err := s.store.InTx(ctx, run)
	if retry && errors.Is(err, te.ErrExternalRefTaken) {
		err = s.store.InTx(ctx, run)
	}
	if errors.Is(err, te.ErrExternalRefTaken) {
		err = errImportRace.Wrap(err)
	}
	if err != nil {
		return te.ImportSummary{}, err
	}
	for _, r := range sum.Results {
		if r.Outcome == te.ImportRejected {
			rejectedTotal.WithLabelValues(r.Reason).Inc()
		}
	}
	return sum, nil
}

// importBatch is what one pass of an import collects from its items before it touches the
// database.
type importBatch struct {
	candidates []int // indexes of the items that passed the input checks
	projects   map[string]bool
	resources  map[string]bool
	days       map[te.Day]bool
	refs       []te.ExternalRef
}

// screen checks each item on its own (readable, referenced, valid input) and collects what the
// valid ones need loaded.
func screen(items []te.ImportItem, sum *te.ImportSummary) importBatch {
	b := importBatch{candidates: make([]int, 0, len(items)), projects: map[string]bool{}, resources: map[string]bool{},
		days: map[te.Day]bool{}, refs: make([]te.ExternalRef, 0, len(items))}
	for i, it := range items {
		r := &sum.Results[i]
		r.Index = i
		in := it.Input
		if in.Ref != nil {
			r.ExternalID = in.Ref.ExternalID
		}
		err := it.Err
		if err == nil && in.Ref == nil {
			err = te.ErrExternalRefRequired.With("item " + strconv.Itoa(i) + " has no external reference")
		}
		if err == nil {
			err = in.Check()
		}
		if err != nil {
			r.Reject(err)
			continue
		}
		b.candidates = append(b.candidates, i)
		b.projects[in.ProjectID] = true
		b.resources[in.ResourceID] = true
		if in.Kind == te.Time {
			b.days[te.Day{ResourceID: in.ResourceID, Date: in.Date}] = true
		}
		b.refs = append(b.refs, *in.Ref)
	}
	return b
}

func (s *Service) importOnce(ctx context.Context, items []te.ImportItem) (te.ImportSummary, error) {
	sum := te.ImportSummary{Results: make([]te.ImportResult, len(items))}
	b := screen(items, &sum)

	// References are guarded by their unique index (a race costs one retry of the call), so they
	// and the replicas load before the resource locks; daily totals need the locks. The locks are
	// held until commit, so concurrent imports of other resources proceed in parallel.
	existing, err := s.store.EntriesByRef(ctx, b.refs)
	if err != nil {
		return sum, err
	}
	replica, err := s.store.Replica(ctx, keys(b.projects))
	if err != nil {
		return sum, err
	}
	if err := s.store.LockResources(ctx, keys(b.resources)); err != nil {
		return sum, err
	}
	daily, err := s.store.DailyHours(ctx, keys(b.days), "")
	if err != nil {
		return sum, err
	}

	now := s.now()
	accepted := make(map[te.ExternalRef]int, len(b.candidates))
	entries := make([]te.Entry, 0, len(b.candidates))
	for _, i := range b.candidates {
		in, r := items[i].Input, &sum.Results[i]
		if prev, ok := existing[*in.Ref]; ok {
			if _, err := sameOrDuplicate(prev, in); err != nil {
				r.Reject(err)
			} else {
				r.Outcome, r.EntryID = te.ImportDuplicate, prev.ID
			}
			continue
		}
		// The same reference twice in one call: the first accepted one holds it.
		if j, ok := accepted[*in.Ref]; ok {
			if items[j].Input.Same(in) {
				r.Outcome, r.EntryID = te.ImportDuplicate, sum.Results[j].EntryID
			} else {
				r.Reject(te.ErrDuplicateExternalID.With("external reference " + in.Ref.ExternalID + " is used by item " + strconv.Itoa(j) +
					" of this import with different content"))
			}
			continue
		}
		if err := replica.Check(in); err != nil {
			r.Reject(err)
			continue
		}
		if err := daily.Add(in); err != nil {
			r.Reject(err)
			continue
		}
		e := te.NewApproved(s.newID(), in, "", now)
		entries = append(entries, e)
		accepted[*in.Ref] = i
		r.Outcome, r.EntryID = te.ImportAccepted, e.ID
	}
	sum.Tally()
	if len(entries) == 0 {
		return sum, nil
	}

	if err := s.store.CopyEntries(ctx, entries); err != nil {
		return sum, err
	}
	batch := s.newID()
	events := make([]outbox.Event, 0, (len(entries)+wire.MaxEntriesPerEvent-1)/wire.MaxEntriesPerEvent)
	for chunk := range slices.Chunk(entries, wire.MaxEntriesPerEvent) {
		events = append(events, wire.EntriesApproved(batch, chunk))
	}
	if err := s.store.Publish(ctx, events...); err != nil {
		return sum, err
	}
	sum.Events = len(events)
	return sum, s.store.Audit(ctx, audit.Record{Action: "time_entries.imported", EntityType: "import", EntityID: batch,
		Details: map[string]any{"items": len(items), "accepted": sum.Accepted, "duplicates": sum.Duplicates,
			"rejected": sum.Rejected, "events": sum.Events}})
}
