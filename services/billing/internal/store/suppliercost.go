package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// ProjectState returns the legal entity and status of a project replica.
func (s *Store) ProjectState(ctx context.Context, projectID string) (string, string, bool, error) {
	var le, status string
	err := s.Q(ctx).QueryRow(ctx, `SELECT legal_entity_id::text, status FROM project_replicas WHERE project_id = $1`, projectID).Scan(&le, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	return le, status, err == nil, err
}

// PeriodClosed reports whether a period of a legal entity is closed or soft closed (automated
// postings treat both alike: only finance posts in a soft-closed period).
func (s *Store) PeriodClosed(ctx context.Context, legalEntityID, period string) (bool, error) {
	var closed bool
	err := s.Q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM periods WHERE legal_entity_id = $1 AND period = $2 AND status IN ('CLOSED', 'SOFT_CLOSED'))`,
		legalEntityID, period).Scan(&closed)
	return closed, err
}

const billLineColumns = `id::text, legal_entity_id::text, vendor_id, vendor_name, bill_number, line_no, version, amount, currency_code, bill_date,
	period_start, period_end, description, COALESCE(project_id::text, ''), COALESCE(task_id::text, ''), rule_name, rule_version, billable,
	status, allocated_version, COALESCE(allocated_entry_id::text, ''), allocation_seq`

func scanLine(row pgx.Row) (suppliercost.Line, suppliercost.Allocation, error) {
	var l suppliercost.Line
	var a suppliercost.Allocation
	var bill, start, end time.Time
	var status string
	err := row.Scan(&l.ID, &l.LegalEntityID, &l.VendorID, &l.VendorName, &l.BillNumber, &l.LineNo, &l.Version, &l.Amount.Value, &l.Amount.Currency,
		&bill, &start, &end, &l.Description, &l.ProjectID, &l.TaskID, &l.RuleName, &l.RuleVersion, &l.Billable, &status, &a.Version, &a.EntryID, &a.Seq)
	l.BillDate, l.PeriodStart, l.PeriodEnd, a.Status = civil.Of(bill), civil.Of(start), civil.Of(end), suppliercost.Status(status)
	return l, a, err
}

// LockSupplierLineByKey returns the line of a key, locked; nil when there is none.
func (s *Store) LockSupplierLineByKey(ctx context.Context, legalEntityID, vendorID, billNumber string, lineNo int32) (*suppliercost.Line, error) {
	l, _, err := scanLine(s.Q(ctx).QueryRow(ctx, `SELECT `+billLineColumns+` FROM supplier_bill_lines
		WHERE legal_entity_id = $1 AND vendor_id = $2 AND bill_number = $3 AND line_no = $4 FOR UPDATE`, legalEntityID, vendorID, billNumber, lineNo))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// LockSupplierLine returns a line and its allocation, locked.
func (s *Store) LockSupplierLine(ctx context.Context, id string) (suppliercost.Line, suppliercost.Allocation, error) {
	l, a, err := scanLine(s.Q(ctx).QueryRow(ctx, `SELECT `+billLineColumns+` FROM supplier_bill_lines WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, a, suppliercost.ErrLineNotFound
	}
	return l, a, err
}

// errLineRace is returned when a concurrent writer created the same line first: the caller
// retries and then sees it.
var errLineRace = fault.New(fault.Conflict, "SUPPLIER_BILL_LINE_CONCURRENT", "another request recorded this line at the same time; retry")

// SaveSupplierLine writes the current version of a line, awaiting allocation: a first version
// is inserted (errLineRace when another writer took the key), a later one replaces the row.
func (s *Store) SaveSupplierLine(ctx context.Context, l suppliercost.Line) error {
	args := []any{l.ID, l.LegalEntityID, l.VendorID, l.VendorName, l.BillNumber, l.LineNo, l.Version, l.Amount.Value, l.Amount.Currency,
		l.BillDate.Time(), l.PeriodStart.Time(), l.PeriodEnd.Time(), l.Description, nullUUID(l.ProjectID), nullUUID(l.TaskID), l.RuleName,
		l.RuleVersion, l.Billable}
	sql := `INSERT INTO supplier_bill_lines (id, legal_entity_id, vendor_id, vendor_name, bill_number, line_no, version, amount,
			currency_code, bill_date, period_start, period_end, description, project_id, task_id, rule_name, rule_version, billable,
			status, awaiting_since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'AWAITING', clock_timestamp())
		ON CONFLICT DO NOTHING`
	if l.Version > 1 {
		sql = `UPDATE supplier_bill_lines SET version = $7, vendor_name = $4, amount = $8, currency_code = $9, bill_date = $10,
			period_start = $11, period_end = $12, description = $13, project_id = $14, task_id = $15, rule_name = $16, rule_version = $17,
			billable = $18, status = 'AWAITING', status_reason = '',
			awaiting_since = CASE WHEN status = 'ALLOCATED' THEN clock_timestamp() ELSE awaiting_since END
		WHERE id = $1 AND legal_entity_id = $2 AND vendor_id = $3 AND bill_number = $5 AND line_no = $6`
	}
	tag, err := s.Q(ctx).Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errLineRace
	}
	return nil
}

// MarkSupplierLine records what allocation did with a line.
func (s *Store) MarkSupplierLine(ctx context.Context, id string, a suppliercost.Allocation, reason string) error {
	_, err := s.Q(ctx).Exec(ctx, `UPDATE supplier_bill_lines SET status = $2, allocated_version = $3, allocated_entry_id = $4, status_reason = $5,
			allocation_seq = $6
		WHERE id = $1`, id, string(a.Status), a.Version, nullUUID(a.EntryID), reason, a.Seq)
	return err
}

// ParkedSupplierLines returns the lines parked for reason in currency of legal entities of
// functional currency functional.
func (s *Store) ParkedSupplierLines(ctx context.Context, reason, currency, functional string) (map[string]int64, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT b.id::text, b.version FROM supplier_bill_lines b JOIN legal_entities l ON l.id = b.legal_entity_id
		WHERE b.status = 'PARKED' AND b.status_reason = $1 AND b.currency_code = $2 AND l.functional_currency = $3`, reason, currency, functional)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var id string
	var v int64
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error { out[id] = v; return nil })
	return out, err
}

// CurrentRule returns the latest version of a rule; nil when there is none.
func (s *Store) CurrentRule(ctx context.Context, legalEntityID, name string) (*suppliercost.Rule, error) {
	return s.rule(ctx, `SELECT version, kind, project_ids::text[], task_ids, percents, COALESCE(customer_id::text, '') FROM allocation_rules
		WHERE legal_entity_id = $1 AND name = $2 ORDER BY version DESC LIMIT 1`, legalEntityID, name)
}

// Rule returns one version of a rule; nil when there is none.
func (s *Store) Rule(ctx context.Context, legalEntityID, name string, version int64) (*suppliercost.Rule, error) {
	return s.rule(ctx, `SELECT version, kind, project_ids::text[], task_ids, percents, COALESCE(customer_id::text, '') FROM allocation_rules
		WHERE legal_entity_id = $1 AND name = $2 AND version = $3`, legalEntityID, name, version)
}

func (s *Store) rule(ctx context.Context, sql string, args ...any) (*suppliercost.Rule, error) {
	r := suppliercost.Rule{LegalEntityID: args[0].(string), Name: args[1].(string)}
	var kind string
	var projects, tasks []string
	var percents []decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, sql, args...).Scan(&r.Version, &kind, &projects, &tasks, &percents, &r.CustomerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Kind = suppliercost.RuleKind(kind)
	for i := range projects {
		r.Targets = append(r.Targets, suppliercost.Target{ProjectID: projects[i], TaskID: tasks[i], Percent: percents[i]})
	}
	return &r, nil
}

// SaveRule writes a version of a rule.
func (s *Store) SaveRule(ctx context.Context, r suppliercost.Rule, actor string) error {
	var projects, tasks []string
	var percents []decimal.Decimal
	for _, t := range r.Targets {
		projects, tasks, percents = append(projects, t.ProjectID), append(tasks, t.TaskID), append(percents, t.Percent)
	}
	if projects == nil { // a customer's rule: the arrays are empty, not NULL
		projects, tasks, percents = []string{}, []string{}, []decimal.Decimal{}
	}
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO allocation_rules (legal_entity_id, name, version, kind, project_ids, task_ids, percents, actor,
			customer_id)
		VALUES ($1, $2, $3, $4, $5::uuid[], $6, $7, $8, $9)`, r.LegalEntityID, r.Name, r.Version, string(r.Kind), projects, tasks, percents, actor,
		nullUUID(r.CustomerID))
	return err
}

// CustomerProjects returns the open projects of a customer in a legal entity (their contracts
// are the customer's), sorted by id.
func (s *Store) CustomerProjects(ctx context.Context, legalEntityID, customerID string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT p.project_id::text FROM project_replicas p JOIN contracts c ON c.id = p.contract_id
		WHERE c.customer_id = $1 AND p.legal_entity_id = $2 AND p.status <> 'PROJECT_STATUS_CLOSED' ORDER BY p.project_id`, customerID, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CustomerHasContract reports whether a customer has a contract in a legal entity.
func (s *Store) CustomerHasContract(ctx context.Context, legalEntityID, customerID string) (bool, error) {
	var ok bool
	err := s.Q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contracts WHERE customer_id = $1 AND legal_entity_id = $2)`,
		customerID, legalEntityID).Scan(&ok)
	return ok, err
}

// ProjectHours sums the posted, unreversed hours per project of work dated from..to.
func (s *Store) ProjectHours(ctx context.Context, projectIDs []string, from, to civil.Date) (map[string]decimal.Decimal, error) {
	return s.sumByProject(ctx, `SELECT project_id::text, COALESCE(sum(hours), 0) FROM posting_results
		WHERE source_type = 'time_entry' AND outcome = 'POSTED' AND project_id = ANY($1::uuid[]) AND source_date BETWEEN $2 AND $3
		GROUP BY project_id`, projectIDs, from, to)
}

// ProjectLaborCost sums the labor cost (debits − credits, functional) per project of work dated
// from..to.
func (s *Store) ProjectLaborCost(ctx context.Context, projectIDs []string, from, to civil.Date) (map[string]decimal.Decimal, error) {
	return s.sumByProject(ctx, `SELECT l.project_id::text, COALESCE(sum(l.debit - l.credit), 0) FROM journal_lines l
		JOIN journal_entries e ON e.id = l.entry_id
		WHERE l.account_code = '`+ledger.LaborCost+`' AND l.project_id = ANY($1::uuid[]) AND e.source_date BETWEEN $2 AND $3
		GROUP BY l.project_id`, projectIDs, from, to)
}

func (s *Store) sumByProject(ctx context.Context, sql string, projectIDs []string, from, to civil.Date) (map[string]decimal.Decimal, error) {
	rows, err := s.Q(ctx).Query(ctx, sql, projectIDs, from.Time(), to.Time())
	if err != nil {
		return nil, err
	}
	out := map[string]decimal.Decimal{}
	var id string
	var v decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		if v.IsPositive() {
			out[id] = v
		}
		return nil
	})
	return out, err
}

// JournalEntry reads one entry with its lines.
func (s *Store) JournalEntry(ctx context.Context, id string) (ledger.Entry, error) {
	m, err := entriesByID(ctx, s.Q(ctx), []string{id})
	if err != nil {
		return ledger.Entry{}, err
	}
	e, ok := m[id]
	if !ok {
		return ledger.Entry{}, pgx.ErrNoRows
	}
	return *e, nil
}

// SupplierCostKPIs reads the lines of a legal entity waiting for allocation.
func (s *Store) SupplierCostKPIs(ctx context.Context, legalEntityID string) (suppliercost.KPIs, error) {
	var k suppliercost.KPIs
	var oldest *time.Time
	var now time.Time
	if err := s.Q(ctx).QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'PARKED'), min(awaiting_since), clock_timestamp()
		FROM supplier_bill_lines WHERE legal_entity_id = $1 AND status <> 'ALLOCATED'`, legalEntityID).Scan(&k.Awaiting, &k.Parked, &oldest, &now); err != nil {
		return k, err
	}
	if oldest != nil {
		k.OldestAge = now.Sub(*oldest)
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT currency_code, sum(amount) FROM supplier_bill_lines
		WHERE legal_entity_id = $1 AND status <> 'ALLOCATED' GROUP BY currency_code ORDER BY currency_code`, legalEntityID)
	if err != nil {
		return k, err
	}
	k.Amounts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (money.Amount, error) {
		var a money.Amount
		return a, r.Scan(&a.Currency, &a.Value)
	})
	return k, err
}

// CountSupplierAwaiting counts the lines not allocated yet.
func (s *Store) CountSupplierAwaiting(ctx context.Context) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM supplier_bill_lines WHERE status <> 'ALLOCATED'`).Scan(&n)
	return n, err
}

// LinesSplitBy returns the id, version and legal entity of the allocated lines whose rule splits
// by one of kinds over one of projects (named by the rule, or a project of the rule's customer),
// with a service period overlapping from..to.
func (s *Store) LinesSplitBy(ctx context.Context, kinds []suppliercost.RuleKind, projectIDs []string, from, to civil.Date) ([]suppliercost.Line, error) {
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	rows, err := s.Q(ctx).Query(ctx, `SELECT b.id::text, b.version, b.legal_entity_id::text FROM supplier_bill_lines b
		JOIN allocation_rules r ON r.legal_entity_id = b.legal_entity_id AND r.name = b.rule_name AND r.version = b.rule_version
		WHERE b.rule_name <> '' AND b.status = 'ALLOCATED' AND r.kind = ANY($4::text[])
			AND (r.project_ids && $1::uuid[] OR r.customer_id IN (SELECT c.customer_id FROM project_replicas p
				JOIN contracts c ON c.id = p.contract_id WHERE p.project_id = ANY($1::uuid[])))
			AND b.period_start <= $3 AND b.period_end >= $2`, projectIDs, from.Time(), to.Time(), ks)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (suppliercost.Line, error) {
		var l suppliercost.Line
		return l, r.Scan(&l.ID, &l.Version, &l.LegalEntityID)
	})
}

// CancelSupplierCandidates marks REVERSED the invoice candidates of the parts of allocation seq
// of a line (source ids "<line id>/<project>[/<task>]").
func (s *Store) CancelSupplierCandidates(ctx context.Context, lineID string, seq int64) error {
	_, err := s.Q(ctx).Exec(ctx, `UPDATE invoice_candidates SET status = 'REVERSED' WHERE source_type = $1 AND source_id LIKE $2
		AND source_version = $3 AND status IN ('OPEN', 'INVOICED')`, suppliercost.SourceCost, lineID+"/%", seq)
	return err
}
