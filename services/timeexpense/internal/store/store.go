// Package store keeps the time & expense service's data in Postgres; only it knows SQL and pgx.
// Functions take a pg.Querier (a pool or the caller's transaction) and are safe for concurrent
// use; the bulk functions (EntriesByRef, LoadReplica, LoadDailyHours, CopyEntries) serve imports
// with one statement each, whatever the batch size.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the service's migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// ExternalRefConstraint is the unique constraint on entries' external references.
const ExternalRefConstraint = "time_entries_external_ref"

// resourceLockClass is the first key of the advisory locks that serialise a resource's daily
// totals (the second is a hash of the resource id).
const resourceLockClass = 7004

// LockResources takes the transaction-scoped locks of resources' daily totals, in a fixed order
// so that concurrent callers never deadlock. Everything that adds hours to a resource takes it.
func LockResources(ctx context.Context, q pg.Querier, resourceIDs []string) error {
	if len(resourceIDs) == 0 {
		return nil
	}
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, h)
		FROM (SELECT DISTINCT hashtext(r) AS h FROM unnest($2::text[]) AS r ORDER BY 1) AS s`, resourceLockClass, resourceIDs)
	return err
}

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

// GetEntry returns one entry (locked when forUpdate). It can return te.ErrEntryNotFound.
func GetEntry(ctx context.Context, q pg.Querier, id string, forUpdate bool) (te.Entry, error) {
	sql := `SELECT ` + entryColumns + ` FROM time_entries e WHERE e.id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	e, err := scanEntry(q.QueryRow(ctx, sql, id))
	return e, pg.NotFound(err, te.ErrEntryNotFound.With("entry "+id+" does not exist", "entry_id", id))
}

// EntryByRef returns the entry holding an external reference.
func EntryByRef(ctx context.Context, q pg.Querier, ref te.ExternalRef) (te.Entry, bool, error) {
	e, err := scanEntry(q.QueryRow(ctx, `SELECT `+entryColumns+` FROM time_entries e
		WHERE e.ext_system = $1 AND e.ext_object_type = $2 AND e.ext_id = $3`, ref.System, ref.ObjectType, ref.ExternalID))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, nil
	}
	return e, err == nil, err
}

// EntriesByRef returns the entries holding any of refs, in one query.
func EntriesByRef(ctx context.Context, q pg.Querier, refs []te.ExternalRef) (map[te.ExternalRef]te.Entry, error) {
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
	list, err := collectEntries(q.Query(ctx, `SELECT `+entryColumns+`
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

// LoadReplica returns the projects among projectIDs with their tasks, the policies of their legal
// entities and those entities' closed periods, in one round trip.
func LoadReplica(ctx context.Context, q pg.Querier, projectIDs []string) (te.Replica, error) {
	r := te.Replica{Projects: map[string]te.Project{}, Policies: map[string]te.Policy{}, Closed: map[te.PeriodKey]bool{}}
	if len(projectIDs) == 0 {
		return r, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT id::text, status, legal_entity_id, currency_code, start_date, end_date FROM projects WHERE id = ANY($1::uuid[])`, projectIDs)
	b.Queue(`SELECT project_id::text, id::text, billable FROM project_tasks WHERE project_id = ANY($1::uuid[])`, projectIDs)
	b.Queue(`SELECT l.id, l.closed_period_policy FROM legal_entities l
		WHERE l.id IN (SELECT legal_entity_id FROM projects WHERE id = ANY($1::uuid[]))`, projectIDs)
	b.Queue(`SELECT p.legal_entity_id, p.period FROM periods p
		WHERE p.status = 'CLOSED' AND p.legal_entity_id IN (SELECT legal_entity_id FROM projects WHERE id = ANY($1::uuid[]))`, projectIDs)
	br := q.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var p te.Project
		var start, end *time.Time
		if err := rows.Scan(&p.ID, &p.Status, &p.LegalEntityID, &p.Currency, &start, &end); err != nil {
			rows.Close()
			return r, err
		}
		if start != nil {
			p.Start = civil.Of(*start)
		}
		if end != nil {
			p.End = civil.Of(*end)
		}
		p.Tasks = map[string]bool{}
		r.Projects[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	if rows, err = br.Query(); err != nil {
		return r, err
	}
	for rows.Next() {
		var pid, tid string
		var billable bool
		if err := rows.Scan(&pid, &tid, &billable); err != nil {
			rows.Close()
			return r, err
		}
		if p, ok := r.Projects[pid]; ok {
			p.Tasks[tid] = billable
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	if rows, err = br.Query(); err != nil {
		return r, err
	}
	for rows.Next() {
		var id, policy string
		if err := rows.Scan(&id, &policy); err != nil {
			rows.Close()
			return r, err
		}
		r.Policies[id] = te.Policy(policy)
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	if rows, err = br.Query(); err != nil {
		return r, err
	}
	for rows.Next() {
		var k te.PeriodKey
		if err := rows.Scan(&k.LegalEntityID, &k.Period); err != nil {
			rows.Close()
			return r, err
		}
		r.Closed[k] = true
	}
	return r, rows.Err()
}

// countsSQL selects the entries whose hours count in daily totals (see te.Entry.Counts).
const countsSQL = `e.kind = 'TIME' AND e.reverses_entry_id IS NULL AND e.replaced_by_entry_id IS NULL AND e.posting_status <> 'REVERSED'`

// LoadDailyHours returns the hours counted on each of days, in one query. excludeID (a corrected
// original) does not count.
//
// Each day is one probe of the (resource_id, work_date) index, and the conditions on what counts
// are an aggregate filter rather than scan filters: the planner cannot misjudge their selectivity
// (on a table without statistics it would guess one row and pick a nested loop over a full scan).
func LoadDailyHours(ctx context.Context, q pg.Querier, days []te.Day, excludeID string) (te.DailyHours, error) {
	out := te.DailyHours{}
	if len(days) == 0 {
		return out, nil
	}
	res, dates := make([]string, len(days)), make([]time.Time, len(days))
	for i, d := range days {
		res[i], dates[i] = d.ResourceID, d.Date.Time()
	}
	var exclude *string
	if excludeID != "" {
		exclude = &excludeID
	}
	rows, err := q.Query(ctx, `SELECT d.r::text, d.w, s.total
		FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::date[])) AS d(r, w)
		CROSS JOIN LATERAL (
			SELECT sum(e.hours) FILTER (WHERE `+countsSQL+` AND ($3::uuid IS NULL OR e.id <> $3::uuid)) AS total
			FROM time_entries e WHERE e.resource_id = d.r AND e.work_date = d.w
		) AS s
		WHERE s.total IS NOT NULL`, res, dates, exclude)
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

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
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
func InsertEntry(ctx context.Context, q pg.Querier, e te.Entry) (bool, error) {
	sys, typ, ext := refArgs(e.Ref)
	tag, err := q.Exec(ctx, `INSERT INTO time_entries (id, kind, timesheet_id, resource_id, project_id, task_id, work_date, hours,
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

var copyColumns = []string{"id", "kind", "timesheet_id", "resource_id", "project_id", "task_id", "work_date", "hours",
	"amount", "currency_code", "category", "receipt_reference", "billable", "description", "ext_system", "ext_object_type",
	"ext_id", "approval_status", "posting_status", "reverses_entry_id", "version", "created_at", "approved_at"}

func uuidArg(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("store: %q is not a uuid: %w", s, err)
	}
	return pgtype.UUID{Bytes: u, Valid: true}, nil
}

// CopyEntries inserts entries with COPY. A reference already taken fails the whole copy with a
// unique violation of ExternalRefConstraint.
func CopyEntries(ctx context.Context, q pg.Querier, entries []te.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := q.CopyFrom(ctx, pgx.Identifier{"time_entries"}, copyColumns, pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
		e := entries[i]
		row := make([]any, len(copyColumns))
		ids := [...]string{e.ID, e.TimesheetID, e.ResourceID, e.ProjectID, e.TaskID, e.ReversesID}
		var u [len(ids)]any
		for j, s := range ids {
			v, err := uuidArg(s)
			if err != nil {
				return nil, err
			}
			u[j] = v
		}
		sys, typ, ext := refArgs(e.Ref)
		row[0], row[1], row[2], row[3], row[4], row[5] = u[0], string(e.Kind), u[1], u[2], u[3], u[4]
		row[6], row[7], row[8], row[9] = e.Date.Time(), pg.Numeric(e.Hours), pg.Numeric(e.Amount.Value), e.Amount.Currency
		row[10], row[11], row[12], row[13] = e.Category, e.Receipt, e.Billable, e.Description
		row[14], row[15], row[16] = sys, typ, ext
		row[17], row[18], row[19], row[20], row[21], row[22] = string(e.Approval), string(e.Posting), u[5], e.Version, e.CreatedAt, approvedAt(e)
		return row, nil
	}))
	return err
}

// MarkReplaced records that replacement corrected entry id (a change of the entry: its version
// increases). Hours and amounts are never touched.
func MarkReplaced(ctx context.Context, q pg.Querier, id, replacement string) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `UPDATE time_entries SET replaced_by_entry_id = $2, version = version + 1 WHERE id = $1 RETURNING version`,
		id, replacement).Scan(&v)
	return v, err
}

// EntryFilter selects entries for listing.
type EntryFilter struct {
	ResourceID, ProjectID string
	Posting               te.PostingStatus
	AfterID               string
	Limit                 int
}

const filterSQL = `($1 = '' OR e.resource_id = $1::uuid) AND ($2 = '' OR e.project_id = $2::uuid) AND ($3 = '' OR e.posting_status = $3)`

// ListEntries returns entries matching f, by id (creation order).
func ListEntries(ctx context.Context, q pg.Querier, f EntryFilter) ([]te.Entry, error) {
	return collectEntries(q.Query(ctx, `SELECT `+entryColumns+` FROM time_entries e WHERE `+filterSQL+`
		AND ($4 = '' OR e.id > $4::uuid) ORDER BY e.id LIMIT $5`, f.ResourceID, f.ProjectID, string(f.Posting), f.AfterID, f.Limit))
}

// CountEntries counts entries matching f (ignoring paging).
func CountEntries(ctx context.Context, q pg.Querier, f EntryFilter) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM time_entries e WHERE `+filterSQL, f.ResourceID, f.ProjectID, string(f.Posting)).Scan(&n)
	return n, err
}

const timesheetColumns = `id::text, resource_id::text, week_start, status, rejection_reason, decided_by, submitted_at, decided_at, version`

func scanTimesheet(row pgx.Row) (te.Timesheet, error) {
	var t te.Timesheet
	var week time.Time
	var status string
	var submitted, decided *time.Time
	err := row.Scan(&t.ID, &t.ResourceID, &week, &status, &t.RejectionReason, &t.DecidedBy, &submitted, &decided, &t.Version)
	t.WeekStart, t.Status = civil.Of(week), te.Status(status)
	if submitted != nil {
		t.SubmittedAt = submitted.UTC()
	}
	if decided != nil {
		t.DecidedAt = decided.UTC()
	}
	return t, err
}

// OpenTimesheet returns the timesheet of resourceID's week starting weekStart, locked, creating it
// (as DRAFT, with id newID) when there is none.
func OpenTimesheet(ctx context.Context, q pg.Querier, newID, resourceID string, weekStart civil.Date) (te.Timesheet, error) {
	if _, err := q.Exec(ctx, `INSERT INTO timesheets (id, resource_id, week_start, status) VALUES ($1, $2, $3, 'DRAFT')
		ON CONFLICT (resource_id, week_start) DO NOTHING`, newID, resourceID, weekStart.Time()); err != nil {
		return te.Timesheet{}, err
	}
	return scanTimesheet(q.QueryRow(ctx, `SELECT `+timesheetColumns+` FROM timesheets WHERE resource_id = $1 AND week_start = $2 FOR UPDATE`,
		resourceID, weekStart.Time()))
}

// GetTimesheet returns a timesheet with its entries (the timesheet row locked when forUpdate). It
// can return te.ErrTimesheetNotFound.
func GetTimesheet(ctx context.Context, q pg.Querier, id string, forUpdate bool) (te.Timesheet, error) {
	sql := `SELECT ` + timesheetColumns + ` FROM timesheets WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	t, err := scanTimesheet(q.QueryRow(ctx, sql, id))
	if err != nil {
		return t, pg.NotFound(err, te.ErrTimesheetNotFound.With("timesheet "+id+" does not exist", "timesheet_id", id))
	}
	t.Entries, err = collectEntries(q.Query(ctx, `SELECT `+entryColumns+` FROM time_entries e WHERE e.timesheet_id = $1
		ORDER BY e.work_date, e.id`, id))
	return t, err
}

// SaveTimesheet writes a timesheet's status and decision.
func SaveTimesheet(ctx context.Context, q pg.Querier, t te.Timesheet) error {
	ts := func(v time.Time) any {
		if v.IsZero() {
			return nil
		}
		return v
	}
	_, err := q.Exec(ctx, `UPDATE timesheets SET status = $2, rejection_reason = $3, decided_by = $4, submitted_at = $5,
		decided_at = $6, version = $7 WHERE id = $1`, t.ID, string(t.Status), t.RejectionReason, t.DecidedBy,
		ts(t.SubmittedAt), ts(t.DecidedAt), t.Version)
	return err
}

// SetApproval moves every entry of a timesheet to approval (and posting), increasing their
// versions, and returns them. approvedAt is stamped when not zero.
func SetApproval(ctx context.Context, q pg.Querier, timesheetID string, approval te.Status, posting te.PostingStatus, approvedAt time.Time) ([]te.Entry, error) {
	var at *time.Time
	if !approvedAt.IsZero() {
		at = &approvedAt
	}
	return collectEntries(q.Query(ctx, `WITH u AS (
		UPDATE time_entries SET approval_status = $2, posting_status = $3, approved_at = COALESCE($4, approved_at), version = version + 1
		WHERE timesheet_id = $1 RETURNING *)
		SELECT `+entryColumns+` FROM u AS e ORDER BY e.work_date, e.id`, timesheetID, string(approval), string(posting), at))
}

// UpsertProject applies a project replica when version is newer than the stored one; its tasks
// are replaced.
func UpsertProject(ctx context.Context, q pg.Querier, p te.Project, version int64) error {
	date := func(d civil.Date) any {
		if d.IsZero() {
			return nil
		}
		return d.Time()
	}
	tag, err := q.Exec(ctx, `INSERT INTO projects AS p (id, status, legal_entity_id, currency_code, start_date, end_date, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, legal_entity_id = EXCLUDED.legal_entity_id,
			currency_code = EXCLUDED.currency_code, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
			version = EXCLUDED.version
		WHERE p.version < EXCLUDED.version`, p.ID, p.Status, p.LegalEntityID, p.Currency, date(p.Start), date(p.End), version)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	ids := make([]string, 0, len(p.Tasks))
	billable := make([]bool, 0, len(p.Tasks))
	for id, b := range p.Tasks {
		ids, billable = append(ids, id), append(billable, b)
	}
	if _, err := q.Exec(ctx, `DELETE FROM project_tasks WHERE project_id = $1 AND NOT (id = ANY($2::uuid[]))`, p.ID, ids); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO project_tasks (id, project_id, billable) SELECT t, $1, b FROM unnest($2::uuid[], $3::bool[]) AS x(t, b)
		ON CONFLICT (id) DO UPDATE SET project_id = EXCLUDED.project_id, billable = EXCLUDED.billable`, p.ID, ids, billable)
	return err
}

// UpsertLegalEntity applies a legal entity's closed-period policy when version is newer.
func UpsertLegalEntity(ctx context.Context, q pg.Querier, id string, policy te.Policy, version int64) error {
	_, err := q.Exec(ctx, `INSERT INTO legal_entities AS l (id, closed_period_policy, version) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET closed_period_policy = EXCLUDED.closed_period_policy, version = EXCLUDED.version
		WHERE l.version < EXCLUDED.version`, id, string(policy), version)
	return err
}

// UpsertPeriod applies a period's status unless a later change is already stored.
func UpsertPeriod(ctx context.Context, q pg.Querier, k te.PeriodKey, status string, changedAt time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO periods AS p (legal_entity_id, period, status, changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (legal_entity_id, period) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
		WHERE p.changed_at < EXCLUDED.changed_at`, k.LegalEntityID, k.Period, status, changedAt)
	return err
}

// rankSQL returns the SQL rank of a posting status column (te.PostingStatus.Rank).
func rankSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, s := range te.RankedStatuses() {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, s.Rank())
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

var applyPostingsSQL = `WITH a AS (
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS a(id, status, reason)
	), t AS (
		SELECT a.id, a.status, a.reason FROM a
		UNION ALL
		-- A posted reversal cancels its original.
		SELECT e.reverses_entry_id, a.status, a.reason FROM a JOIN time_entries e ON e.id = a.id
		WHERE a.status = 'REVERSED' AND e.reverses_entry_id IS NOT NULL
	), d AS (
		SELECT DISTINCT ON (id) id, status, reason FROM t ORDER BY id, ` + rankSQL("status") + ` DESC
	)
	UPDATE time_entries e SET posting_status = d.status, posting_reason = d.reason
	FROM d WHERE e.id = d.id AND (` + rankSQL("d.status") + ` > ` + rankSQL("e.posting_status") + ` OR d.status = e.posting_status)`

// ApplyPostings applies the ledger's answers in one statement; an answer that ranks below the
// entry's status (te.PostingStatus.Supersedes) changes nothing. It returns the rows changed.
func ApplyPostings(ctx context.Context, q pg.Querier, answers []te.PostingAnswer) (int64, error) {
	answers = te.Settle(answers)
	if len(answers) == 0 {
		return 0, nil
	}
	ids, statuses, reasons := make([]string, len(answers)), make([]string, len(answers)), make([]string, len(answers))
	for i, a := range answers {
		ids[i], statuses[i], reasons[i] = a.EntryID, string(a.Status), a.Reason
	}
	tag, err := q.Exec(ctx, applyPostingsSQL, ids, statuses, reasons)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// CountTimesheetsRejectedClosedPeriod counts distinct (resource, ISO week) among entries the
// ledger rejected for a closed period (the KPI).
func CountTimesheetsRejectedClosedPeriod(ctx context.Context, q pg.Querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM (SELECT DISTINCT resource_id, date_trunc('week', work_date)
		FROM time_entries WHERE posting_status = 'REJECTED_CLOSED_PERIOD') AS w`).Scan(&n)
	return n, err
}

// LockImportSystems serialises imports from the given source systems until the transaction
// ends (locks taken in a fixed order, so two imports never deadlock).
func LockImportSystems(ctx context.Context, q pg.Querier, systems map[string]bool) error {
	list := make([]string, 0, len(systems))
	for s := range systems {
		list = append(list, s)
	}
	sort.Strings(list)
	for _, s := range list {
		if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 9191))`, "import\n"+s); err != nil {
			return err
		}
	}
	return nil
}
