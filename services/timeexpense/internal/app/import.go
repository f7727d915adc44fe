package app

import (
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// MaxImportItems bounds one import call.
const MaxImportItems = 5000

// errImportRace says concurrent imports kept taking this call's references; a retry sees them.
var errImportRace = fault.New(fault.Conflict, "IMPORT_CONFLICT", "concurrent imports are storing the same external references; retry the call")

// ImportItem is one item of an import: its input, or why it could not be read.
type ImportItem struct {
	Input te.Input
	// Err is set when the transport could not turn the item into an input (e.g. an impossible
	// date); the item is reported REJECTED with its reason.
	Err error
}

// ImportOutcome says what happened to one item.
type ImportOutcome int

const (
	ImportAccepted ImportOutcome = iota + 1
	ImportDuplicate
	ImportRejected
)

// ImportResult is the outcome of one item.
type ImportResult struct {
	Index      int
	ExternalID string
	Outcome    ImportOutcome
	EntryID    string
	Reason     string
	Message    string
}

// ImportSummary is the outcome of an import, results in request order.
type ImportSummary struct {
	Results                        []ImportResult
	Accepted, Duplicates, Rejected int
	// Events is the number of time_entries.approved events published.
	Events int
}

// Import stores entries already approved in a T&E tool, each checked on its own with the rules of
// Record: accepted items are stored APPROVED (posting PENDING, version 1, no timesheet) and
// published in time_entries.approved events of at most 1,000 entries; an item whose external
// reference is stored (or accepted earlier in the call) with the same content is a DUPLICATE;
// any other item is REJECTED with its reason and writes nothing. Everything needed is loaded in
// bulk, entries are inserted with COPY, in one transaction. When a concurrent import inserted one
// of the references meanwhile, the whole call runs once more and reports it DUPLICATE.
func (s *Service) Import(ctx context.Context, items []ImportItem) (ImportSummary, error) {
	if len(items) > MaxImportItems {
		return ImportSummary{}, fault.Invalidf("TOO_MANY_ITEMS", "items", "an import takes at most %d items", MaxImportItems)
	}
	var sum ImportSummary
	systems := map[string]bool{}
	for _, it := range items {
		if it.Input.Ref != nil {
			systems[it.Input.Ref.System] = true
		}
	}
	run := func(ctx context.Context, tx pgx.Tx) (err error) {
		// Imports from one source system take turns, so a call always sees the references an
		// earlier one stored and reports them DUPLICATE instead of racing on the unique index.
		// One call validates and copies thousands of entries in milliseconds: taking turns costs
		// little, and the month-end throughput comes from the batch size.
		if err := store.LockImportSystems(ctx, tx, systems); err != nil {
			return err
		}
		sum, err = s.importOnce(ctx, tx, items)
		return err
	}
	err := s.inTx(ctx, run)
	if _, ambient := pg.TxFrom(ctx); !ambient && pg.IsUniqueViolation(err, store.ExternalRefConstraint) {
		err = s.inTx(ctx, run)
	}
	if pg.IsUniqueViolation(err, store.ExternalRefConstraint) {
		err = errImportRace.Wrap(err)
	}
	if err != nil {
		return ImportSummary{}, err
	}
	for _, r := range sum.Results {
		if r.Outcome == ImportRejected {
			rejectedTotal.WithLabelValues(r.Reason).Inc()
		}
	}
	return sum, nil
}

func reject(r *ImportResult, err error) {
	r.Outcome, r.Reason, r.Message = ImportRejected, fault.ReasonOf(err), err.Error()
	if fe, ok := fault.As(err); ok {
		r.Message = fe.Message
	}
	if r.Reason == "" {
		r.Reason = "INVALID_ITEM"
	}
}

func (s *Service) importOnce(ctx context.Context, tx pgx.Tx, items []ImportItem) (ImportSummary, error) {
	sum := ImportSummary{Results: make([]ImportResult, len(items))}
	candidates := make([]int, 0, len(items))
	projects := map[string]bool{}
	resources := map[string]bool{}
	days := map[te.Day]bool{}
	refs := make([]te.ExternalRef, 0, len(items))
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
			reject(r, err)
			continue
		}
		candidates = append(candidates, i)
		projects[in.ProjectID] = true
		resources[in.ResourceID] = true
		if in.Kind == te.Time {
			days[te.Day{ResourceID: in.ResourceID, Date: in.Date}] = true
		}
		refs = append(refs, *in.Ref)
	}

	// References are guarded by their unique index (a race costs one retry of the call), so they
	// and the replicas load before the resource locks; daily totals need the locks. The locks are
	// held until commit, so concurrent imports of other resources proceed in parallel.
	existing, err := store.EntriesByRef(ctx, tx, refs)
	if err != nil {
		return sum, err
	}
	replica, err := store.LoadReplica(ctx, tx, keys(projects))
	if err != nil {
		return sum, err
	}
	if err := store.LockResources(ctx, tx, keys(resources)); err != nil {
		return sum, err
	}
	daily, err := store.LoadDailyHours(ctx, tx, keys(days), "")
	if err != nil {
		return sum, err
	}

	now := s.now()
	accepted := make(map[te.ExternalRef]int, len(candidates))
	entries := make([]te.Entry, 0, len(candidates))
	for _, i := range candidates {
		in, r := items[i].Input, &sum.Results[i]
		if prev, ok := existing[*in.Ref]; ok {
			if _, err := sameOrDuplicate(prev, in); err != nil {
				reject(r, err)
			} else {
				r.Outcome, r.EntryID = ImportDuplicate, prev.ID
			}
			continue
		}
		// The same reference twice in one call: the first accepted one holds it.
		if j, ok := accepted[*in.Ref]; ok {
			if items[j].Input.Same(in) {
				r.Outcome, r.EntryID = ImportDuplicate, sum.Results[j].EntryID
			} else {
				reject(r, te.ErrDuplicateExternalID.With("external reference "+in.Ref.ExternalID+" is used by item "+strconv.Itoa(j)+
					" of this import with different content"))
			}
			continue
		}
		if err := replica.Check(in); err != nil {
			reject(r, err)
			continue
		}
		if err := daily.Add(in); err != nil {
			reject(r, err)
			continue
		}
		e := te.NewApproved(s.newID(), in, "", now)
		entries = append(entries, e)
		accepted[*in.Ref] = i
		r.Outcome, r.EntryID = ImportAccepted, e.ID
	}
	for _, r := range sum.Results {
		switch r.Outcome {
		case ImportAccepted:
			sum.Accepted++
		case ImportDuplicate:
			sum.Duplicates++
		default:
			sum.Rejected++
		}
	}
	if len(entries) == 0 {
		return sum, nil
	}

	if err := store.CopyEntries(ctx, tx, entries); err != nil {
		return sum, err
	}
	batch := s.newID()
	events := make([]outbox.Event, 0, (len(entries)+wire.MaxEntriesPerEvent-1)/wire.MaxEntriesPerEvent)
	for chunk := range slices.Chunk(entries, wire.MaxEntriesPerEvent) {
		events = append(events, outbox.Event{Stream: wire.Stream, Type: wire.EventEntriesApproved, Subject: batch,
			Payload: &timeexpensev1.EntriesApproved{Entries: wire.Entries(chunk)}})
	}
	if _, err := s.Outbox.Enqueue(ctx, tx, events...); err != nil {
		return sum, err
	}
	sum.Events = len(events)
	return sum, audit.Write(ctx, tx, audit.Record{Action: "time_entries.imported", EntityType: "import", EntityID: batch,
		Details: map[string]any{"items": len(items), "accepted": sum.Accepted, "duplicates": sum.Duplicates,
			"rejected": sum.Rejected, "events": sum.Events}})
}

func keys[K comparable](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
