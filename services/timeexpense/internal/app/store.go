package app

import (
	"context"
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/txn"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Store is what the use cases need of the database. Every method runs in the transaction ctx
// carries (InTx hands one to its fn), otherwise on its own.
type Store interface {
	txn.Store

	// LockResources serialises the writers of the resources' daily totals until the
	// transaction ends.
	LockResources(ctx context.Context, resourceIDs []string) error
	// Entry can return te.ErrEntryNotFound.
	Entry(ctx context.Context, id string) (te.Entry, error)
	// LockEntry is Entry with the entry locked until the transaction ends.
	LockEntry(ctx context.Context, id string) (te.Entry, error)
	EntryByRef(ctx context.Context, ref te.ExternalRef) (te.Entry, bool, error)
	EntriesByRef(ctx context.Context, refs []te.ExternalRef) (map[te.ExternalRef]te.Entry, error)
	// DailyHours returns the hours counted on days, excludeID not counting.
	DailyHours(ctx context.Context, days []te.Day, excludeID string) (te.DailyHours, error)
	// InsertEntry reports false, writing nothing, when another entry holds its reference.
	InsertEntry(ctx context.Context, e te.Entry) (bool, error)
	// MarkReplaced records the replacement of entry id and returns its new version.
	MarkReplaced(ctx context.Context, id, replacement string) (int64, error)
	ListEntries(ctx context.Context, f te.EntryFilter, page paging.Request) ([]te.Entry, error)
	CountEntries(ctx context.Context, f te.EntryFilter) (int64, error)
	// ApprovedEntries returns the approved entries (no reversal rows) of the legal entity's
	// projects worked from..to, by id after page.AfterID (page.Fetch() of them).
	ApprovedEntries(ctx context.Context, legalEntityID string, from, to civil.Date, page paging.Request) ([]te.Entry, error)

	// OpenTimesheet returns the resource's timesheet of the week, locked, creating it DRAFT.
	OpenTimesheet(ctx context.Context, newID, resourceID string, weekStart civil.Date) (te.Timesheet, error)
	// Timesheet can return te.ErrTimesheetNotFound.
	Timesheet(ctx context.Context, id string) (te.Timesheet, error)
	// LockTimesheet is Timesheet with the timesheet locked until the transaction ends.
	LockTimesheet(ctx context.Context, id string) (te.Timesheet, error)
	SaveTimesheet(ctx context.Context, t te.Timesheet) error
	// SetApproval moves a timesheet's entries to approval and posting and returns them.
	SetApproval(ctx context.Context, timesheetID string, approval te.Status, posting te.PostingStatus, approvedAt time.Time) ([]te.Entry, error)

	// LockImportSystems makes imports from the systems take turns until the transaction ends.
	LockImportSystems(ctx context.Context, systems []string) error
	// CopyEntries inserts entries in bulk; it can return te.ErrExternalRefTaken.
	CopyEntries(ctx context.Context, entries []te.Entry) error

	// Replica loads what entries of the projects are checked against.
	Replica(ctx context.Context, projectIDs []string) (te.Replica, error)
	// KnownResources returns which of ids the resource replica holds; UpsertResource records
	// one (an older version changes nothing).
	KnownResources(ctx context.Context, ids []string) (map[string]bool, error)
	UpsertResource(ctx context.Context, id string, version int64) error
	// UpsertProject, UpsertLegalEntity and UpsertPeriod change nothing when a newer change is
	// stored.
	UpsertProject(ctx context.Context, p te.Project) error
	UpsertLegalEntity(ctx context.Context, le te.LegalEntity) error
	UpsertPeriod(ctx context.Context, p te.Period) error
	// ApplyPostings applies settled answers (one per entry) and returns the entries changed.
	ApplyPostings(ctx context.Context, answers []te.PostingAnswer) (int64, error)
	// RecordRefusals records inputs refused at record time for a closed period (a retried input
	// counts once); ClosedPeriodKPIs counts them and the entries the ledger rejected at posting.
	RecordRefusals(ctx context.Context, refusals []te.Refusal) error
	ClosedPeriodKPIs(ctx context.Context, legalEntities []string) (te.ClosedPeriodKPIs, error)
}
