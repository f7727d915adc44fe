package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// Contracts: the current version's header (contracts), every version whole (contract_versions,
// in the row format of contract_rows.go), and the current version's lines and rate card
// (contract_lines, rate_card_entries) for the posting book.

const contractRefConstraint = "contracts_external_ref"

const headColumns = `id::text, version, source_version, currency_code, content_hash, legal_entity_id::text`

// scanHead reads a contract head; nil when there is no row.
func scanHead(row pgx.Row) (*contract.Head, error) {
	var h contract.Head
	err := row.Scan(&h.ID, &h.Version, &h.SourceVersion, &h.Currency, &h.Hash, &h.LegalEntityID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// LookupContract reads, in one round trip and without locks, the head of the contract holding
// ref and the legal entity leID; each is nil when there is none.
func (s *Store) LookupContract(ctx context.Context, ref contract.ExternalRef, leID string) (*contract.Head, *legalentity.LegalEntity, error) {
	var h *contract.Head
	var le *legalentity.LegalEntity
	b := &pgx.Batch{}
	b.Queue(`SELECT `+headColumns+` FROM contracts WHERE ext_system = $1 AND ext_object_type = $2 AND ext_id = $3`,
		ref.System, ref.ObjectType, ref.ExternalID).
		QueryRow(func(row pgx.Row) (err error) {
			h, err = scanHead(row)
			return err
		})
	b.Queue(`SELECT `+leColumns+` FROM legal_entities WHERE id = $1`, leID).QueryRow(func(row pgx.Row) error {
		v, err := scanLE(row)
		if errors.Is(err, legalentity.ErrNotFound) {
			return nil
		}
		le = &v
		return err
	})
	return h, le, s.Q(ctx).SendBatch(ctx, b).Close()
}

// LockContractByRef returns the head of the contract with ref, locked; nil when there is none.
func (s *Store) LockContractByRef(ctx context.Context, ref contract.ExternalRef) (*contract.Head, error) {
	return scanHead(s.Q(ctx).QueryRow(ctx, `SELECT `+headColumns+` FROM contracts
		WHERE ext_system = $1 AND ext_object_type = $2 AND ext_id = $3 FOR UPDATE`, ref.System, ref.ObjectType, ref.ExternalID))
}

// LockContract returns the head of contract id, locked; nil when there is none.
func (s *Store) LockContract(ctx context.Context, id string) (*contract.Head, error) {
	return scanHead(s.Q(ctx).QueryRow(ctx, `SELECT `+headColumns+` FROM contracts WHERE id = $1 FOR UPDATE`, id))
}

// SaveContractVersion writes version c of a contract (the header inserted or updated, the
// version, the current lines and rate card replacing the previous version's), the event and the
// audit record describing it, in one round trip. Without an ambient transaction the round trip
// commits on its own. A first version fails with contract.ErrRefTaken when another writer created
// the contract of c.Ref first.
func (s *Store) SaveContractVersion(ctx context.Context, c contract.Contract, actor string, ev outbox.Event, rec audit.Record) error {
	var b pg.Batch
	if err := queueSaveVersion(&b, c, actor); err != nil {
		return err
	}
	if _, err := s.Outbox.Queue(ctx, &b, ev); err != nil {
		return err
	}
	if err := audit.Queue(ctx, &b, rec); err != nil {
		return err
	}
	err := b.Run(ctx, s.Q(ctx))
	if pg.IsUniqueViolation(err, contractRefConstraint) {
		return contract.ErrRefTaken.Wrap(err)
	}
	return err
}

// queueSaveVersion adds the statements writing version c to b.
func queueSaveVersion(b *pg.Batch, c contract.Contract, actor string) error {
	snap, err := encodeContract(c)
	if err != nil {
		return err
	}
	if c.Version == 1 {
		b.Queue(`INSERT INTO contracts (id, ext_system, ext_object_type, ext_id, customer_id, legal_entity_id,
			currency_code, version, source_version, content_hash, created_at, version_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			c.ID, c.Ref.System, c.Ref.ObjectType, c.Ref.ExternalID, c.CustomerID, c.LegalEntityID, c.Currency,
			c.Version, c.SourceVersion, c.Terms.Hash(), c.CreatedAt, c.VersionAt)
	} else {
		b.Queue(`UPDATE contracts SET customer_id = $2, legal_entity_id = $3, currency_code = $4, version = $5,
			source_version = $6, content_hash = $7, version_at = $8 WHERE id = $1`,
			c.ID, c.CustomerID, c.LegalEntityID, c.Currency, c.Version, c.SourceVersion, c.Terms.Hash(), c.VersionAt)
		b.Queue(`DELETE FROM contract_lines WHERE contract_id = $1`, c.ID)
	}
	b.Queue(`INSERT INTO contract_versions (contract_id, version, source_version, change_reason, actor, snapshot)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.Version, c.SourceVersion, c.ChangeReason, actor, snap)
	for _, l := range c.Lines {
		var nte, markup any
		if l.NotToExceed != nil {
			nte = l.NotToExceed.Value
		}
		if l.ExpenseMarkup != nil {
			markup = *l.ExpenseMarkup
		}
		b.Queue(`INSERT INTO contract_lines (contract_id, line_key, service_line, billing_method, revenue_method, currency_code,
			amount, not_to_exceed, expense_markup_percent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.ID, l.Key, l.ServiceLine, string(l.Billing), string(l.Revenue), l.Amount.Currency, l.Amount.Value, nte, markup)
		for _, e := range l.RateCard {
			b.Queue(`INSERT INTO rate_card_entries (contract_id, line_key, role, bill_rate, currency_code, effective_from, effective_to)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, l.Key, e.Role, e.Rate.Value, e.Rate.Currency, e.From.Time(), nullDate(e.To))
		}
	}
	return nil
}

// Contract returns version (0: the current one) of contract id (contract.ErrNotFound).
func (s *Store) Contract(ctx context.Context, id string, version int64) (contract.Contract, error) {
	var snap []byte
	err := s.Q(ctx).QueryRow(ctx, `SELECT v.snapshot FROM contract_versions v JOIN contracts c ON c.id = v.contract_id
		WHERE v.contract_id = $1 AND v.version = CASE WHEN $2 = 0 THEN c.version ELSE $2 END`, id, version).Scan(&snap)
	if err != nil {
		return contract.Contract{}, pg.NotFound(err, contract.ErrNotFound)
	}
	return decodeContract(snap)
}

// ContractVersions returns every version of contract id, oldest first (contract.ErrNotFound).
func (s *Store) ContractVersions(ctx context.Context, id string) ([]contract.Contract, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT snapshot FROM contract_versions WHERE contract_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	out, err := decodeRows(rows, decodeContract)
	if err == nil && len(out) == 0 {
		return nil, contract.ErrNotFound
	}
	return out, err
}
