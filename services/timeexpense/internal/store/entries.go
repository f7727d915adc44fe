package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/pg"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

const entryColumns = `e.id::text, e.kind, COALESCE(e.timesheet_id::text, ''), e.resource_id::text, e.project_id::text,
	e.task_id::text, e.work_date, e.hours, e.amount, e.currency_code, e.category, e.receipt_reference, e.billable,
	e.description, e.ext_system, e.ext_object_type, e.ext_id, e.approval_status, e.posting_status, e.posting_reason,
	COALESCE(e.reverses_entry_id::text, ''), COALESCE(e.replaced_by_entry_id::text, ''), e.version, e.created_at, e.approved_at`

func scanEntry(row pgx.Row) (te.Entry, error) {
	var e te.Entry
	var kind, approval, posting string
	var date time.Time
	var sys, typ, ext *string
	var approvedAt *time.Time
	err := row.Scan(&e.ID, &kind, &e.TimesheetID, &e.ResourceID, &e.ProjectID, &e.TaskID, &date, &e.Hours, &e.Amount.Value,
		&e.Amount.Currency, &e.Category, &e.Receipt, &e.Billable, &e.Description, &sys, &typ, &ext, &approval, &posting,
		&e.PostingReason, &e.ReversesID, &e.ReplacedByID, &e.Version, &e.CreatedAt, &approvedAt)
	if err != nil {
		return e, err
	}
	e.Kind, e.Approval, e.Posting, e.Date = te.Kind(kind), te.Status(approval), te.PostingStatus(posting), civil.Of(date)
	e.CreatedAt = e.CreatedAt.UTC()
	if approvedAt != nil {
		e.ApprovedAt = approvedAt.UTC()
	}
	if ext != nil {
		e.Ref = &te.ExternalRef{System: deref(sys), ObjectType: deref(typ), ExternalID: *ext}
	}
	return e, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func collectEntries(rows pgx.Rows, err error) ([]te.Entry, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (te.Entry, error) { return scanEntry(r) })
}

func (s *Store) entry(ctx context.Context, id string, forUpdate bool) (te.Entry, error) {
	sql := `SELECT ` + entryColumns + ` FROM time_entries e WHERE e.id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	e, err := scanEntry(s.Q(ctx).QueryRow(ctx, sql, id))
	return e, pg.NotFound(err, te.ErrEntryNotFound.With("entry "+id+" does not exist", "entry_id", id))
}

// Entry returns one entry. It can return te.ErrEntryNotFound.
func (s *Store) Entry(ctx context.Context, id string) (te.Entry, error) {
	return s.entry(ctx, id, false)
}

// LockEntry returns one entry, its row locked until the transaction ends. It can return
// te.ErrEntryNotFound.
func (s *Store) LockEntry(ctx context.Context, id string) (te.Entry, error) {
	return s.entry(ctx, id, true)
}

// EntryByRef returns the entry holding an external reference.
func (s *Store) EntryByRef(ctx context.Context, ref te.ExternalRef) (te.Entry, bool, error) {
	e, err := scanEntry(s.Q(ctx).QueryRow(ctx, `SELECT `+entryColumns+` FROM time_entries e
		WHERE e.ext_system = $1 AND e.ext_object_type = $2 AND e.ext_id = $3`, ref.System, ref.ObjectType, ref.ExternalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, nil
	}
	return e, err == nil, err
}

// EntriesByRef returns the entries holding any of refs, in one query.
func (s *Store) EntriesByRef(ctx context.Context, refs []te.ExternalRef) (map[te.ExternalRef]te.Entry, error) {
	out := map[te.ExternalRef]te.Entry{}
	if len(refs) == 0 {
		return out, nil
	}
	sys, typ, ext := make([]string, len(refs)), make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		sys[i], typ[i], ext[i] = r.System, r.ObjectType, r.ExternalID
	}
	// One probe of the unique index per reference, whatever the table's size or statistics
	// (OFFSET 0 keeps the planner from flattening the probe into a join over the whole table).
	list, err := collectEntries(s.Q(ctx).Query(ctx, `SELECT `+entryColumns+`
		FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])) AS r(s, o, x)
		CROSS JOIN LATERAL (SELECT * FROM time_entries t
			WHERE t.ext_system = r.s AND t.ext_object_type = r.o AND t.ext_id = r.x OFFSET 0) AS e`, sys, typ, ext))
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		out[*e.Ref] = e
	}
	return out, nil
}

// LockResources takes the transaction-scoped locks of resources' daily totals, in a fixed order
// so that concurrent callers never deadlock. Everything that adds hours to a resource takes it.
func (s *Store) LockResources(ctx context.Context, resourceIDs []string) error {
	return resourceLock.Acquire(ctx, s.Q(ctx), resourceIDs...)
}

// countsSQL selects the entries whose hours count in daily totals (see te.Entry.Counts).
const countsSQL = `e.kind = 'TIME' AND e.reverses_entry_id IS NULL AND e.replaced_by_entry_id IS NULL AND e.posting_status <> 'REVERSED'`

// DailyHours returns the hours counted on each of days, in one query. excludeID (a corrected
// original) does not count.
//
// Each day is one probe of the (resource_id, work_date) index, and the conditions on what counts
// are an aggregate filter rather than scan filters: the planner cannot misjudge their selectivity
// (on a table without statistics it would guess one row and pick a nested loop over a full scan).
func (s *Store) DailyHours(ctx context.Context, days []te.Day, excludeID string) (te.DailyHours, error) {
	out := te.DailyHours{}
	if len(days) == 0 {
		return out, nil
	}
	res, dates := make([]string, len(days)), make([]time.Time, len(days))
	for i, d := range days {
		res[i], dates[i] = d.ResourceID, d.Date.Time()
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT d.r::text, d.w, s.total
		FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::date[])) AS d(r, w)
		CROSS JOIN LATERAL (
			SELECT sum(e.hours) FILTER (WHERE `+countsSQL+` AND ($3::uuid IS NULL OR e.id <> $3::uuid)) AS total
			FROM time_entries e WHERE e.resource_id = d.r AND e.work_date = d.w
		) AS s
		WHERE s.total IS NOT NULL`, res, dates, nullable(excludeID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d te.Day
		var date time.Time
		var sum decimal.Decimal
		if err := rows.Scan(&d.ResourceID, &date, &sum); err != nil {
			return nil, err
		}
		d.Date = civil.Of(date)
		out[d] = sum
	}
	return out, rows.Err()
}

func refArgs(r *te.ExternalRef) (any, any, any) {
	if r == nil {
		return nil, nil, nil
	}
	return r.System, r.ObjectType, r.ExternalID
}

func approvedAt(e te.Entry) any {
	if e.ApprovedAt.IsZero() {
		return nil
	}
	return e.ApprovedAt
}

// InsertEntry inserts one entry. It reports false, writing nothing, when another entry took the
// external reference meanwhile (the caller reads that one again).
func (s *Store) InsertEntry(ctx context.Context, e te.Entry) (bool, error) {
	sys, typ, ext := refArgs(e.Ref)
	tag, err := s.Q(ctx).Exec(ctx, `INSERT INTO time_entries (id, kind, timesheet_id, resource_id, project_id, task_id, work_date, hours,
		amount, currency_code, category, receipt_reference, billable, description, ext_system, ext_object_type, ext_id,
		approval_status, posting_status, posting_reason, reverses_entry_id, version, created_at, approved_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		ON CONFLICT (ext_system, ext_object_type, ext_id) DO NOTHING`,
		e.ID, string(e.Kind), nullable(e.TimesheetID), e.ResourceID, e.ProjectID, e.TaskID, e.Date.Time(), e.Hours,
		e.Amount.Value, e.Amount.Currency, e.Category, e.Receipt, e.Billable, e.Description, sys, typ, ext,
		string(e.Approval), string(e.Posting), e.PostingReason, nullable(e.ReversesID), e.Version, e.CreatedAt, approvedAt(e))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// MarkReplaced records that replacement corrected entry id (a change of the entry: its version
// increases) and returns the new version. Hours and amounts are never touched.
func (s *Store) MarkReplaced(ctx context.Context, id, replacement string) (int64, error) {
	var v int64
	err := s.Q(ctx).QueryRow(ctx, `UPDATE time_entries SET replaced_by_entry_id = $2, version = version + 1 WHERE id = $1 RETURNING version`,
		id, replacement).Scan(&v)
	return v, err
}

const filterSQL = `($1 = '' OR e.resource_id = $1::uuid) AND ($2 = '' OR e.project_id = $2::uuid) AND ($3 = '' OR e.posting_status = $3)`

// entitySQL restricts entries e to projects of the legal entities in parameter n (a text array;
// NULL means any), as the project replica records them.
func entitySQL(n int) string {
	p := "$" + strconv.Itoa(n) + "::text[]"
	return `(` + p + ` IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = e.project_id AND p.legal_entity_id = ANY(` + p + `)))`
}

// ListEntries returns the entries matching f after page.AfterID, by id (creation order), reading
// page.Fetch() rows.
func (s *Store) ListEntries(ctx context.Context, f te.EntryFilter, page paging.Request) ([]te.Entry, error) {
	return collectEntries(s.Q(ctx).Query(ctx, `SELECT `+entryColumns+` FROM time_entries e WHERE `+filterSQL+`
		AND ($4 = '' OR e.id > $4::uuid) AND `+entitySQL(6)+` ORDER BY e.id LIMIT $5`,
		f.ResourceID, f.ProjectID, string(f.Posting), page.AfterID, page.Fetch(), f.LegalEntities))
}

// CountEntries counts the entries matching f.
func (s *Store) CountEntries(ctx context.Context, f te.EntryFilter) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM time_entries e WHERE `+filterSQL+` AND `+entitySQL(4),
		f.ResourceID, f.ProjectID, string(f.Posting), f.LegalEntities).Scan(&n)
	return n, err
}

// ApprovedEntries returns the approved entries (reversal rows left out) of the legal entity's
// projects worked from..to, after page.AfterID, by id, reading page.Fetch() rows.
func (s *Store) ApprovedEntries(ctx context.Context, legalEntityID string, from, to civil.Date, page paging.Request) ([]te.Entry, error) {
	return collectEntries(s.Q(ctx).Query(ctx, `SELECT `+entryColumns+` FROM time_entries e
		JOIN projects p ON p.id = e.project_id AND p.legal_entity_id = $1
		WHERE e.approval_status = 'APPROVED' AND e.reverses_entry_id IS NULL AND e.work_date BETWEEN $2::date AND $3::date
		AND ($4 = '' OR e.id > $4::uuid) ORDER BY e.id LIMIT $5`,
		legalEntityID, from.String(), to.String(), page.AfterID, page.Fetch()))
}
