package store

import (
	"context"
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// LoadBook reads what posting sources needs: projects and tasks, legal entities with their closed
// periods, contract lines with rate cards, cost rates and roles, and the prior postings of the
// originals that reversals cancel. It share-locks the rate cards (rateCardLock) and resources it
// reads the rates of, so that a concurrent rate change either waits for the posting (and then
// adjusts it) or is read by it.
func (s *Store) LoadBook(ctx context.Context, sources []ledger.Source) (ledger.Book, error) {
	return s.loadBook(ctx, sources, true)
}

// LoadAdjustmentBook reads what LoadBook reads without its locks, for the re-cost and re-rate
// of posted sources: their caller holds the lock of the rate that changed, and locking the other
// rate's rows too could deadlock with a concurrent change of that one.
func (s *Store) LoadAdjustmentBook(ctx context.Context, sources []ledger.Source) (ledger.Book, error) {
	return s.loadBook(ctx, sources, false)
}

func (s *Store) loadBook(ctx context.Context, sources []ledger.Source, lock bool) (ledger.Book, error) {
	q := s.Q(ctx)
	b := ledger.Book{Projects: map[string]ledger.Project{}, Entities: map[string]ledger.LegalEntity{}, Lines: map[string]ledger.ContractLine{},
		CostRates: map[string][]ledger.CostRate{}, Roles: map[string]string{}, PostedBefore: map[string]ledger.Prior{}}
	projects, resources, originals := idSet{}, idSet{}, idSet{}
	for _, src := range sources {
		projects.add(src.ProjectID)
		resources.add(src.ResourceID)
		originals.add(src.ReversesID)
	}
	rows, err := q.Query(ctx, `SELECT project_id::text, legal_entity_id::text, COALESCE(contract_id::text, '') FROM project_replicas
		WHERE project_id = ANY($1::uuid[])`, projects.list())
	if err != nil {
		return b, err
	}
	entities, contracts := idSet{}, idSet{}
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
	if err := loadLines(ctx, q, &b, contracts.list(), lock); err != nil {
		return b, err
	}
	if err := loadCostRates(ctx, q, &b, resources.list(), lock); err != nil {
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
	rows, err = q.Query(ctx, `SELECT legal_entity_id::text, period FROM periods WHERE status IN ('CLOSED', 'SOFT_CLOSED') AND legal_entity_id = ANY($1::uuid[])`, ids)
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

func loadLines(ctx context.Context, q pg.Querier, b *ledger.Book, ids []string, lock bool) error {
	if lock {
		// The rate cards' shared lock orders posting against a concurrent amendment of the bill
		// rates (LockRateCard): either the posting waits and reads the new rate card (read by the
		// next statements), or the amendment waits and then finds the candidate to re-rate.
		if err := rateCardLock.AcquireShared(ctx, q, rateCardStripes(ids...)...); err != nil {
			return err
		}
	}
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
		// A retainer's time is billed at its rates too (drawn down against the advance by proposals).
		l.TimeAndMat, l.AsDelivered = billing == "TIME_AND_MATERIALS" || billing == "RETAINER", revenue == "AS_DELIVERED"
		b.Lines[l.ContractID+"/"+l.Key] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT contract_id::text, line_key, role, bill_rate, currency_code, effective_from, effective_to FROM rate_card_entries
		WHERE contract_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid, key string
		var r contract.RateEntry
		var from time.Time
		var to *time.Time
		if err := rows.Scan(&cid, &key, &r.Role, &r.Rate.Value, &r.Rate.Currency, &from, &to); err != nil {
			return err
		}
		r.From, r.To = civil.Of(from), dateOrZero(to)
		l := b.Lines[cid+"/"+key]
		l.Rates = append(l.Rates, r)
		b.Lines[cid+"/"+key] = l
	}
	return rows.Err()
}

func loadCostRates(ctx context.Context, q pg.Querier, b *ledger.Book, ids []string, lock bool) error {
	// FOR SHARE (when lock) orders posting against a concurrent cost-rate change (which updates the row
	// first): either the posting waits and reads the new rates (the cost rates are read by the
	// next statement, after the wait), or the change waits and then finds the posting to re-cost.
	forShare := ""
	if lock {
		forShare = " FOR SHARE"
	}
	rows, err := q.Query(ctx, `SELECT resource_id::text, role FROM resource_replicas WHERE resource_id = ANY($1::uuid[])
		ORDER BY resource_id`+forShare, ids)
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
		r.From, r.To = civil.Of(from), dateOrZero(to)
		b.CostRates[id] = append(b.CostRates[id], r)
	}
	return rows.Err()
}

func loadPrior(ctx context.Context, q pg.Querier, b *ledger.Book, originals []string) error {
	if len(originals) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (source_id) source_id, source_version, outcome, COALESCE(journal_entry_id::text, '') FROM posting_results
		WHERE source_id = ANY($1::text[]) AND source_type <> ALL($2::text[]) ORDER BY source_id, source_version DESC`, originals, adjustmentTypes)
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
	entries, err := entriesByID(ctx, q, ids)
	if err != nil {
		return err
	}
	for id, e := range entries {
		p := b.PostedBefore[entryOf[id]]
		p.Entry = e
		b.PostedBefore[entryOf[id]] = p
	}
	return loadAdjustments(ctx, q, b)
}

// adjustmentTypes are the source types of the entries that adjust a posted original.
var adjustmentTypes = []string{ledger.SourceCostAdjustment, ledger.SourceBillAdjustment}

// loadAdjustments appends to the posted originals the lines of their cost and bill adjustments,
// so that a reversal reverses the cost and WIP as they stand (original plus deltas), not only the
// original entry.
func loadAdjustments(ctx context.Context, q pg.Querier, b *ledger.Book) error {
	var ids []string
	for id, p := range b.PostedBefore {
		if p.Entry != nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT e.source_id, `+lineColumns+` FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.source_type = ANY($1::text[]) AND e.source_id = ANY($2::text[]) ORDER BY e.source_id, e.id, l.line_no`, adjustmentTypes, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ls lineScan
		if err := rows.Scan(ls.dest(&id)...); err != nil {
			return err
		}
		e := b.PostedBefore[id].Entry
		e.Lines = append(e.Lines, ls.result())
	}
	return rows.Err()
}
