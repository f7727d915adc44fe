package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// SeedAllAccounts gives every legal entity the accounts of the default chart it lacks (run at
// start, so a chart extended in a release reaches existing entities).
func SeedAllAccounts(ctx context.Context, q pg.Querier) error {
	rows, err := q.Query(ctx, `SELECT id::text FROM legal_entities`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := SeedAccounts(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// SeedAccounts gives a legal entity the default chart of accounts (idempotent).
func SeedAccounts(ctx context.Context, q pg.Querier, legalEntityID string) error {
	codes, names, types := make([]string, 0, len(ledger.DefaultChart)), make([]string, 0, len(ledger.DefaultChart)), make([]string, 0, len(ledger.DefaultChart))
	for _, a := range ledger.DefaultChart {
		codes, names, types = append(codes, a.Code), append(names, a.Name), append(types, a.Type)
	}
	_, err := q.Exec(ctx, `INSERT INTO accounts (legal_entity_id, code, name, type)
		SELECT $1, c, n, t FROM unnest($2::text[], $3::text[], $4::text[]) AS x(c, n, t) ON CONFLICT DO NOTHING`,
		legalEntityID, codes, names, types)
	return err
}

// Account is a ledger account.
type Account struct{ Code, Name, Type string }

// ListAccounts returns a legal entity's chart.
func ListAccounts(ctx context.Context, q pg.Querier, legalEntityID string) ([]Account, error) {
	rows, err := q.Query(ctx, `SELECT code, name, type FROM accounts WHERE legal_entity_id = $1 ORDER BY code`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) {
		var a Account
		return a, r.Scan(&a.Code, &a.Name, &a.Type)
	})
}

// Period is an explicitly opened or closed period.
type Period struct {
	LegalEntityID, Period, Status, ChangedBy string
	ChangedAt                                time.Time
}

// SetPeriod opens or closes a period; it reports whether the status changed.
func SetPeriod(ctx context.Context, q pg.Querier, legalEntityID, period, status, actor string) (Period, bool, error) {
	var p Period
	var prev *string
	err := q.QueryRow(ctx, `SELECT status FROM periods WHERE legal_entity_id = $1 AND period = $2 FOR UPDATE`, legalEntityID, period).Scan(&prev)
	if err != nil && err != pgx.ErrNoRows {
		return p, false, err
	}
	changed := (prev == nil && status == "CLOSED") || (prev != nil && *prev != status)
	if prev == nil && status == "OPEN" {
		changed = true // the first explicit opening is an event too
	}
	err = q.QueryRow(ctx, `INSERT INTO periods (legal_entity_id, period, status, changed_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (legal_entity_id, period) DO UPDATE SET status = EXCLUDED.status,
			changed_at = CASE WHEN periods.status = EXCLUDED.status THEN periods.changed_at ELSE now() END,
			changed_by = CASE WHEN periods.status = EXCLUDED.status THEN periods.changed_by ELSE EXCLUDED.changed_by END
		RETURNING legal_entity_id::text, period, status, changed_by, changed_at`, legalEntityID, period, status, actor).
		Scan(&p.LegalEntityID, &p.Period, &p.Status, &p.ChangedBy, &p.ChangedAt)
	return p, changed, err
}

// ListPeriods returns a legal entity's explicit periods.
func ListPeriods(ctx context.Context, q pg.Querier, legalEntityID string) ([]Period, error) {
	rows, err := q.Query(ctx, `SELECT legal_entity_id::text, period, status, changed_by, changed_at FROM periods
		WHERE legal_entity_id = $1 ORDER BY period`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Period, error) {
		var p Period
		return p, r.Scan(&p.LegalEntityID, &p.Period, &p.Status, &p.ChangedBy, &p.ChangedAt)
	})
}

// Key identifies a posting source.
func Key(sourceType, id string, version int64) string {
	return fmt.Sprintf("%s|%s|%d", sourceType, id, version)
}

// FinalResults returns the keys of sources already posted, rejected or reversed (parked ones may
// be posted again).
func FinalResults(ctx context.Context, q pg.Querier, sources []ledger.Source) (map[string]bool, error) {
	types, ids, vers := make([]string, len(sources)), make([]string, len(sources)), make([]int64, len(sources))
	for i, s := range sources {
		types[i], ids[i], vers[i] = s.Type, s.ID, s.Version
	}
	// Final: this version was posted or rejected, or any version of the source was reversed (a
	// reversal may overtake its original, or the original may carry a later version).
	rows, err := q.Query(ctx, `SELECT k.t, k.i, k.v FROM unnest($1::text[], $2::text[], $3::bigint[]) AS k(t, i, v)
		WHERE EXISTS (SELECT 1 FROM posting_results r WHERE r.source_type = k.t AND r.source_id = k.i
			AND ((r.source_version = k.v AND r.outcome <> 'PARKED_RATE_MISSING') OR r.outcome = 'REVERSED'))`, types, ids, vers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var t, i string
		var v int64
		if err := rows.Scan(&t, &i, &v); err != nil {
			return nil, err
		}
		out[Key(t, i, v)] = true
	}
	return out, rows.Err()
}

// LoadBook reads what posting sources needs: projects and tasks, legal entities with their closed
// periods, contract lines with rate cards, cost rates and roles, and the prior postings of the
// originals that reversals cancel.
func LoadBook(ctx context.Context, q pg.Querier, sources []ledger.Source) (ledger.Book, error) {
	b := ledger.Book{Projects: map[string]ledger.Project{}, Entities: map[string]ledger.LegalEntity{}, Lines: map[string]ledger.ContractLine{},
		CostRates: map[string][]ledger.CostRate{}, Roles: map[string]string{}, PostedBefore: map[string]ledger.Prior{}}
	projects, resources, originals := set(), set(), set()
	for _, s := range sources {
		projects.add(s.ProjectID)
		resources.add(s.ResourceID)
		if s.ReversesID != "" {
			originals.add(s.ReversesID)
		}
	}
	rows, err := q.Query(ctx, `SELECT project_id::text, legal_entity_id::text, COALESCE(contract_id::text, '') FROM project_replicas
		WHERE project_id = ANY($1::uuid[])`, projects.list())
	if err != nil {
		return b, err
	}
	entities, contracts := set(), set()
	for rows.Next() {
		var p ledger.Project
		if err := rows.Scan(&p.ID, &p.LegalEntityID, &p.ContractID); err != nil {
			rows.Close()
			return b, err
		}
		p.Tasks = map[string]ledger.Task{}
		b.Projects[p.ID] = p
		entities.add(p.LegalEntityID)
		contracts.add(p.ContractID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return b, err
	}
	rows, err = q.Query(ctx, `SELECT task_id::text, project_id::text, billable, line_key FROM task_replicas WHERE project_id = ANY($1::uuid[])`, projects.list())
	if err != nil {
		return b, err
	}
	for rows.Next() {
		var tid, pid, key string
		var billable bool
		if err := rows.Scan(&tid, &pid, &billable, &key); err != nil {
			rows.Close()
			return b, err
		}
		if p, ok := b.Projects[pid]; ok {
			p.Tasks[tid] = ledger.Task{Billable: billable, LineKey: key}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return b, err
	}
	if err := loadEntities(ctx, q, &b, entities.list()); err != nil {
		return b, err
	}
	if err := loadLines(ctx, q, &b, contracts.list()); err != nil {
		return b, err
	}
	if err := loadCostRates(ctx, q, &b, resources.list()); err != nil {
		return b, err
	}
	if err := loadPrior(ctx, q, &b, originals.list()); err != nil {
		return b, err
	}
	return b, nil
}

func loadEntities(ctx context.Context, q pg.Querier, b *ledger.Book, ids []string) error {
	rows, err := q.Query(ctx, `SELECT id::text, functional_currency, closed_period_policy FROM legal_entities WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var le ledger.LegalEntity
		var policy string
		if err := rows.Scan(&le.ID, &le.FunctionalCurrency, &policy); err != nil {
			rows.Close()
			return err
		}
		le.RollForward, le.Closed = policy == "ROLL_FORWARD", map[string]bool{}
		b.Entities[le.ID] = le
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT legal_entity_id::text, period FROM periods WHERE status = 'CLOSED' AND legal_entity_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, period string
		if err := rows.Scan(&id, &period); err != nil {
			return err
		}
		b.Entities[id].Closed[period] = true
	}
	return rows.Err()
}

func loadLines(ctx context.Context, q pg.Querier, b *ledger.Book, ids []string) error {
	rows, err := q.Query(ctx, `SELECT contract_id::text, line_key, currency_code, billing_method, revenue_method, expense_markup_percent
		FROM contract_lines WHERE contract_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var l ledger.ContractLine
		var billing, revenue string
		if err := rows.Scan(&l.ContractID, &l.Key, &l.Currency, &billing, &revenue, &l.ExpenseMarkup); err != nil {
			rows.Close()
			return err
		}
		l.TimeAndMat, l.AsDelivered = billing == "TIME_AND_MATERIALS", revenue == "AS_DELIVERED"
		b.Lines[l.ContractID+"/"+l.Key] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT contract_id::text, line_key, role, bill_rate, effective_from, effective_to FROM rate_card_entries
		WHERE contract_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, key string
		var r ledger.BillRate
		var from time.Time
		var to *time.Time
		if err := rows.Scan(&cid, &key, &r.Role, &r.Rate, &from, &to); err != nil {
			return err
		}
		r.From = civil.Of(from)
		if to != nil {
			r.To = civil.Of(*to)
		}
		l := b.Lines[cid+"/"+key]
		l.Rates = append(l.Rates, r)
		b.Lines[cid+"/"+key] = l
	}
	return rows.Err()
}

func loadCostRates(ctx context.Context, q pg.Querier, b *ledger.Book, ids []string) error {
	rows, err := q.Query(ctx, `SELECT resource_id::text, role FROM resource_replicas WHERE resource_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			rows.Close()
			return err
		}
		b.Roles[id] = role
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT resource_id::text, rate, currency_code, effective_from, effective_to FROM cost_rate_replicas
		WHERE resource_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r ledger.CostRate
		var from time.Time
		var to *time.Time
		if err := rows.Scan(&id, &r.Rate.Value, &r.Rate.Currency, &from, &to); err != nil {
			return err
		}
		r.From = civil.Of(from)
		if to != nil {
			r.To = civil.Of(*to)
		}
		b.CostRates[id] = append(b.CostRates[id], r)
	}
	return rows.Err()
}

func loadPrior(ctx context.Context, q pg.Querier, b *ledger.Book, originals []string) error {
	if len(originals) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (source_id) source_id, source_version, outcome, COALESCE(journal_entry_id::text, '') FROM posting_results
		WHERE source_id = ANY($1::text[]) ORDER BY source_id, source_version DESC`, originals)
	if err != nil {
		return err
	}
	entryOf := map[string]string{}
	for rows.Next() {
		var id, outcome, entryID string
		var version int64
		if err := rows.Scan(&id, &version, &outcome, &entryID); err != nil {
			rows.Close()
			return err
		}
		b.PostedBefore[id] = ledger.Prior{Outcome: ledger.Outcome(outcome), Version: version}
		if entryID != "" {
			entryOf[entryID] = id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(entryOf) == 0 {
		return err
	}
	ids := make([]string, 0, len(entryOf))
	for id := range entryOf {
		ids = append(ids, id)
	}
	rows, err = q.Query(ctx, `SELECT e.id::text, e.legal_entity_id::text, e.currency_code, e.source_id, l.account_code,
			COALESCE(l.project_id::text, ''), COALESCE(l.task_id::text, ''), l.debit, l.credit, l.txn_currency, l.txn_amount, l.fx_rate, l.rate_date
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.id = ANY($1::uuid[]) ORDER BY e.id, l.line_no`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	entries := map[string]*ledger.Entry{}
	for rows.Next() {
		var id, le, cur, src string
		var l ledger.Line
		var rateDate time.Time
		if err := rows.Scan(&id, &le, &cur, &src, &l.Account, &l.ProjectID, &l.TaskID, &l.Debit, &l.Credit, &l.TxnAmount.Currency,
			&l.TxnAmount.Value, &l.FXRate, &rateDate); err != nil {
			return err
		}
		l.RateDate = civil.Of(rateDate)
		e, ok := entries[id]
		if !ok {
			e = &ledger.Entry{ID: id, LegalEntityID: le, Currency: cur, SourceID: src}
			entries[id] = e
		}
		e.Lines = append(e.Lines, l)
	}
	for id, e := range entries {
		p := b.PostedBefore[entryOf[id]]
		p.Entry = e
		b.PostedBefore[entryOf[id]] = p
	}
	return rows.Err()
}

// ExchangeRate returns the rate from → to on date d (the latest one on or before d).
func ExchangeRate(ctx context.Context, q pg.Querier, from, to string, d civil.Date) (decimal.Decimal, bool, error) {
	var r decimal.Decimal
	err := q.QueryRow(ctx, `SELECT rate FROM exchange_rates WHERE from_currency = $1 AND to_currency = $2 AND rate_date <= $3
		ORDER BY rate_date DESC LIMIT 1`, from, to, d.Time()).Scan(&r)
	if err == pgx.ErrNoRows {
		return r, false, nil
	}
	return r, err == nil, err
}

// SetExchangeRate records a rate.
func SetExchangeRate(ctx context.Context, q pg.Querier, from, to string, d civil.Date, rate decimal.Decimal) error {
	_, err := q.Exec(ctx, `INSERT INTO exchange_rates (from_currency, to_currency, rate_date, rate) VALUES ($1, $2, $3, $4)
		ON CONFLICT (from_currency, to_currency, rate_date) DO UPDATE SET rate = EXCLUDED.rate`, from, to, d.Time(), rate)
	return err
}

type idSet map[string]struct{}

func set() idSet { return idSet{} }

func (s idSet) add(id string) {
	if id != "" {
		s[id] = struct{}{}
	}
}

func (s idSet) list() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	return out
}

// EncodeSource and DecodeSource keep parked sources.
func EncodeSource(s ledger.Source) ([]byte, error) { return json.Marshal(sourceJSON(s)) }

// DecodeSource reverses EncodeSource.
func DecodeSource(b []byte) (ledger.Source, error) {
	var j jsonSource
	if err := json.Unmarshal(b, &j); err != nil {
		return ledger.Source{}, err
	}
	d, err := civil.Parse(j.Date)
	if err != nil {
		return ledger.Source{}, err
	}
	return ledger.Source{Type: j.Type, ID: j.ID, Version: j.Version, ResourceID: j.ResourceID, ProjectID: j.ProjectID, TaskID: j.TaskID,
		Date: d, Hours: j.Hours, Amount: money.Amount{Value: j.Amount, Currency: j.Currency}, Billable: j.Billable,
		ReversesID: j.ReversesID, Timesheet: j.Timesheet, Desc: j.Desc}, nil
}

type jsonSource struct {
	Type, ID   string
	Version    int64
	ResourceID string
	ProjectID  string
	TaskID     string
	Date       string
	Hours      decimal.Decimal
	Amount     decimal.Decimal
	Currency   string
	Billable   bool
	ReversesID string
	Timesheet  string
	Desc       string
}

func sourceJSON(s ledger.Source) jsonSource {
	return jsonSource{Type: s.Type, ID: s.ID, Version: s.Version, ResourceID: s.ResourceID, ProjectID: s.ProjectID, TaskID: s.TaskID,
		Date: s.Date.String(), Hours: s.Hours, Amount: s.Amount.Value, Currency: s.Amount.Currency, Billable: s.Billable,
		ReversesID: s.ReversesID, Timesheet: s.Timesheet, Desc: s.Desc}
}
