// Package store keeps customers in Postgres. It is the only package of the customer service that
// knows SQL and pgx; it translates pgx.ErrNoRows into customer.ErrNotFound.
package store

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the service's migration files.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// RefsConstraint is the unique constraint on external references.
const RefsConstraint = "customer_external_refs_pkey"

const columns = `id::text, name, legal_name, currency_code, COALESCE(parent_id::text, ''), billing_address,
	payment_terms_days, tax_profile, contacts, status, version, created_at, updated_at`

func scan(row pgx.Row) (customer.Customer, error) {
	var c customer.Customer
	var addr, tax, contacts []byte
	var status string
	err := row.Scan(&c.ID, &c.Name, &c.LegalName, &c.Currency, &c.ParentID, &addr, &c.PaymentTermsDays,
		&tax, &contacts, &status, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.Status = customer.Status(status)
	if err := json.Unmarshal(addr, &c.Address); err != nil {
		return c, fmt.Errorf("store: address: %w", err)
	}
	if tax != nil {
		c.Tax = &customer.TaxProfile{}
		if err := json.Unmarshal(tax, c.Tax); err != nil {
			return c, fmt.Errorf("store: tax profile: %w", err)
		}
	}
	if err := json.Unmarshal(contacts, &c.Contacts); err != nil {
		return c, fmt.Errorf("store: contacts: %w", err)
	}
	if len(c.Contacts) == 0 {
		c.Contacts = nil
	}
	return c, nil
}

// Get returns a customer with its references; customer.ErrNotFound when absent. forUpdate locks
// the row until the transaction ends.
func Get(ctx context.Context, q pg.Querier, id string, forUpdate bool) (customer.Customer, error) {
	sql := `SELECT ` + columns + ` FROM customers WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	c, err := scan(q.QueryRow(ctx, sql, id))
	if err != nil {
		return c, pg.NotFound(err, customer.ErrNotFound)
	}
	refs, err := refsOf(ctx, q, []string{id})
	if err != nil {
		return c, err
	}
	c.Refs = refs[id]
	return c, nil
}

func refsOf(ctx context.Context, q pg.Querier, ids []string) (map[string][]customer.ExternalRef, error) {
	rows, err := q.Query(ctx, `SELECT customer_id::text, system, object_type, external_id FROM customer_external_refs
		WHERE customer_id = ANY($1::uuid[]) ORDER BY created_at, system, object_type, external_id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]customer.ExternalRef{}
	for rows.Next() {
		var id string
		var r customer.ExternalRef
		if err := rows.Scan(&id, &r.System, &r.ObjectType, &r.ExternalID); err != nil {
			return nil, err
		}
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}

// List returns up to limit customers with ids greater than afterID, in id (creation) order.
func List(ctx context.Context, q pg.Querier, afterID string, limit int) ([]customer.Customer, error) {
	var after *string
	if afterID != "" {
		after = &afterID
	}
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM customers WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (customer.Customer, error) { return scan(r) })
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	refs, err := refsOf(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Refs = refs[list[i].ID]
	}
	return list, nil
}

// OwnersOf returns the distinct customer ids that own any of refs.
func OwnersOf(ctx context.Context, q pg.Querier, refs []customer.ExternalRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	sys, typ, ext := split(refs)
	rows, err := q.Query(ctx, `SELECT DISTINCT r.customer_id::text FROM customer_external_refs r
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(s, t, e)
		  ON r.system = k.s AND r.object_type = k.t AND r.external_id = k.e`, sys, typ, ext)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func split(refs []customer.ExternalRef) (sys, typ, ext []string) {
	for _, r := range refs {
		sys = append(sys, r.System)
		typ = append(typ, r.ObjectType)
		ext = append(ext, r.ExternalID)
	}
	return
}

func marshal(d customer.Details) (addr, tax, contacts []byte, err error) {
	if addr, err = json.Marshal(d.Address); err != nil {
		return
	}
	if d.Tax != nil {
		if tax, err = json.Marshal(d.Tax); err != nil {
			return
		}
	}
	if d.Contacts == nil {
		contacts = []byte("[]")
	} else {
		contacts, err = json.Marshal(d.Contacts)
	}
	return
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// QueueInsert adds the insert of a new customer and its references to b. A reference another
// customer holds fails the batch with a unique violation on RefsConstraint.
func QueueInsert(b *pg.Batch, c customer.Customer) error {
	addr, tax, contacts, err := marshal(c.Details)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO customers (id, name, legal_name, currency_code, parent_id, billing_address,
		payment_terms_days, tax_profile, contacts, status, version, content_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
		c.ID, c.Name, c.LegalName, c.Currency, nullable(c.ParentID), addr, c.PaymentTermsDays, tax, contacts,
		string(c.Status), c.Version, c.Details.Hash(), c.CreatedAt)
	queueAddRefs(b, c.ID, c.Refs)
	return nil
}

// Update stores new details and version of an existing customer.
func Update(ctx context.Context, q pg.Querier, c customer.Customer) error {
	addr, tax, contacts, err := marshal(c.Details)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE customers SET name = $2, legal_name = $3, currency_code = $4, parent_id = $5,
		billing_address = $6, payment_terms_days = $7, tax_profile = $8, contacts = $9, status = $10,
		version = $11, content_hash = $12, updated_at = $13 WHERE id = $1`,
		c.ID, c.Name, c.LegalName, c.Currency, nullable(c.ParentID), addr, c.PaymentTermsDays, tax, contacts,
		string(c.Status), c.Version, c.Details.Hash(), c.UpdatedAt)
	return err
}

// AddRefs attaches references to a customer. A reference another customer already holds fails
// with a unique violation on RefsConstraint.
func AddRefs(ctx context.Context, q pg.Querier, customerID string, refs []customer.ExternalRef) error {
	var b pg.Batch
	queueAddRefs(&b, customerID, refs)
	return b.Run(ctx, q)
}

func queueAddRefs(b *pg.Batch, customerID string, refs []customer.ExternalRef) {
	if len(refs) == 0 {
		return
	}
	sys, typ, ext := split(refs)
	b.Queue(`INSERT INTO customer_external_refs (system, object_type, external_id, customer_id)
		SELECT s, t, e, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS k(s, t, e)`, sys, typ, ext, customerID)
}

// LockHierarchy serialises hierarchy changes, so two concurrent re-parentings cannot form a cycle.
func LockHierarchy(ctx context.Context, q pg.Querier) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('customer-hierarchy', 0))`)
	return err
}

// Ancestors returns parentID and its ancestors, nearest first; customer.ErrParentNotFound when
// parentID does not exist.
func Ancestors(ctx context.Context, q pg.Querier, parentID string) ([]string, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE up(id, parent_id, depth) AS (
			SELECT id, parent_id, 1 FROM customers WHERE id = $1
			UNION ALL
			SELECT c.id, c.parent_id, up.depth + 1 FROM customers c JOIN up ON c.id = up.parent_id WHERE up.depth < 64
		) SELECT id::text FROM up ORDER BY depth`, parentID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, customer.ErrParentNotFound
	}
	return ids, nil
}

// SubtreeHeight returns the number of levels of id's subtree (1 for a leaf).
func SubtreeHeight(ctx context.Context, q pg.Querier, id string) (int, error) {
	var h int
	err := q.QueryRow(ctx, `WITH RECURSIVE down(id, depth) AS (
			SELECT id, 1 FROM customers WHERE id = $1
			UNION ALL
			SELECT c.id, down.depth + 1 FROM customers c JOIN down ON c.parent_id = down.id WHERE down.depth < 64
		) SELECT COALESCE(max(depth), 1) FROM down`, id).Scan(&h)
	return h, err
}
