// Package store keeps the billing service's data in Postgres; only it knows SQL and pgx.
package store

import (
	"context"
	"embed"
	"errors"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the service's migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Constraint names the app reacts to.
const (
	LegalEntityCodeConstraint = "legal_entities_code_key"
	ContractRefConstraint     = "contracts_external_ref"
)

const leColumns = `id::text, code, name, functional_currency, tax_registration, country_code, closed_period_policy, version, created_at`

func scanLE(row pgx.Row) (legalentity.LegalEntity, error) {
	var le legalentity.LegalEntity
	var policy string
	err := row.Scan(&le.ID, &le.Code, &le.Name, &le.FunctionalCurrency, &le.TaxRegistration, &le.CountryCode, &policy, &le.Version, &le.CreatedAt)
	le.Policy = legalentity.ClosedPeriodPolicy(policy)
	return le, pg.NotFound(err, legalentity.ErrNotFound)
}

// GetLegalEntity returns one legal entity by id.
func GetLegalEntity(ctx context.Context, q pg.Querier, id string) (legalentity.LegalEntity, error) {
	return scanLE(q.QueryRow(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE id = $1`, id))
}

// GetLegalEntityByCode returns one legal entity by code (locked when forUpdate).
func GetLegalEntityByCode(ctx context.Context, q pg.Querier, code string) (legalentity.LegalEntity, error) {
	return scanLE(q.QueryRow(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE code = $1`, code))
}

// ListLegalEntities returns legal entities by code after afterCode.
func ListLegalEntities(ctx context.Context, q pg.Querier, afterCode string, limit int) ([]legalentity.LegalEntity, error) {
	rows, err := q.Query(ctx, `SELECT `+leColumns+` FROM legal_entities WHERE code > $1 ORDER BY code LIMIT $2`, afterCode, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (legalentity.LegalEntity, error) { return scanLE(r) })
}

// InsertLegalEntity stores a new legal entity.
func InsertLegalEntity(ctx context.Context, q pg.Querier, le legalentity.LegalEntity) error {
	_, err := q.Exec(ctx, `INSERT INTO legal_entities (id, code, name, functional_currency, tax_registration, country_code,
		closed_period_policy, content_hash, version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		le.ID, le.Code, le.Name, le.FunctionalCurrency, le.TaxRegistration, le.CountryCode, string(le.Policy), le.Hash(), le.Version, le.CreatedAt)
	return err
}

// LegalEntityHash returns the content hash of the legal entity with code, if any.
func LegalEntityHash(ctx context.Context, q pg.Querier, code string) ([]byte, bool, error) {
	var h []byte
	err := q.QueryRow(ctx, `SELECT content_hash FROM legal_entities WHERE code = $1`, code).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return h, err == nil, err
}

// ContractHead is what an upsert needs to decide: the current version's identity.
type ContractHead struct {
	ID            string
	Version       int64
	SourceVersion int64
	Currency      string
	Hash          []byte
}

// LockContractByRef returns the head of the contract with ref, locked, or ok=false.
func LockContractByRef(ctx context.Context, q pg.Querier, ref contract.ExternalRef) (ContractHead, bool, error) {
	return head(q.QueryRow(ctx, `SELECT id::text, version, source_version, currency_code, content_hash FROM contracts
		WHERE ext_system = $1 AND ext_object_type = $2 AND ext_id = $3 FOR UPDATE`, ref.System, ref.ObjectType, ref.ExternalID))
}

// LockContract returns the head of contract id, locked, or ok=false.
func LockContract(ctx context.Context, q pg.Querier, id string) (ContractHead, bool, error) {
	return head(q.QueryRow(ctx, `SELECT id::text, version, source_version, currency_code, content_hash FROM contracts WHERE id = $1 FOR UPDATE`, id))
}

func head(row pgx.Row) (ContractHead, bool, error) {
	var h ContractHead
	err := row.Scan(&h.ID, &h.Version, &h.SourceVersion, &h.Currency, &h.Hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, false, nil
	}
	return h, err == nil, err
}

// SaveVersion writes version c of a contract: the header (inserted or updated), the snapshot,
// and the current lines and rate card (replacing the previous version's), in one round trip.
func SaveVersion(ctx context.Context, q pg.Querier, c contract.Contract, actor string) error {
	var b pg.Batch
	if err := QueueSaveVersion(&b, c, actor); err != nil {
		return err
	}
	return b.Run(ctx, q)
}

// QueueSaveVersion adds the statements of SaveVersion to b. A first version's header insert
// fails the batch on ContractRefConstraint when another writer created the contract first.
func QueueSaveVersion(b *pg.Batch, c contract.Contract, actor string) error {
	snap, err := proto.Marshal(wire.Contract(c))
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
			var to any
			if !e.To.IsZero() {
				to = e.To.Time()
			}
			b.Queue(`INSERT INTO rate_card_entries (contract_id, line_key, role, bill_rate, currency_code, effective_from, effective_to)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, l.Key, e.Role, e.Rate.Value, e.Rate.Currency, e.From.Time(), to)
		}
	}
	return nil
}

// ContractLookup is what an upsert of a contract reads before it decides anything.
type ContractLookup struct {
	Head        ContractHead
	Found       bool
	LegalEntity legalentity.LegalEntity
	// LegalEntityErr is legalentity.ErrNotFound when there is no such legal entity.
	LegalEntityErr error
}

// LookupContract reads, in one round trip and without locks, the head of the contract holding
// ref and the legal entity leID.
func LookupContract(ctx context.Context, q pg.Querier, ref contract.ExternalRef, leID string) (ContractLookup, error) {
	var l ContractLookup
	b := &pgx.Batch{}
	b.Queue(`SELECT id::text, version, source_version, currency_code, content_hash FROM contracts
		WHERE ext_system = $1 AND ext_object_type = $2 AND ext_id = $3`, ref.System, ref.ObjectType, ref.ExternalID).
		QueryRow(func(row pgx.Row) (err error) {
			l.Head, l.Found, err = head(row)
			return err
		})
	b.Queue(`SELECT `+leColumns+` FROM legal_entities WHERE id = $1`, leID).QueryRow(func(row pgx.Row) (err error) {
		l.LegalEntity, err = scanLE(row)
		if errors.Is(err, legalentity.ErrNotFound) {
			l.LegalEntityErr, err = err, nil
		}
		return err
	})
	return l, q.SendBatch(ctx, b).Close()
}

// GetContract returns version (0: current) of contract id.
func GetContract(ctx context.Context, q pg.Querier, id string, version int64) (contract.Contract, error) {
	var snap []byte
	err := q.QueryRow(ctx, `SELECT v.snapshot FROM contract_versions v JOIN contracts c ON c.id = v.contract_id
		WHERE v.contract_id = $1 AND v.version = CASE WHEN $2 = 0 THEN c.version ELSE $2 END`, id, version).Scan(&snap)
	if err != nil {
		return contract.Contract{}, pg.NotFound(err, contract.ErrNotFound)
	}
	return decode(snap)
}

// ListVersions returns every version of contract id, oldest first.
func ListVersions(ctx context.Context, q pg.Querier, id string) ([]contract.Contract, error) {
	rows, err := q.Query(ctx, `SELECT snapshot FROM contract_versions WHERE contract_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	snaps, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	if len(snaps) == 0 {
		return nil, contract.ErrNotFound
	}
	out := make([]contract.Contract, 0, len(snaps))
	for _, s := range snaps {
		c, err := decode(s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func decode(snap []byte) (contract.Contract, error) {
	var p billingv1.Contract
	if err := proto.Unmarshal(snap, &p); err != nil {
		return contract.Contract{}, err
	}
	return wire.FromProto(&p)
}
