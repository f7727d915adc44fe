package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

const columns = `id::text, name, legal_name, currency_code, COALESCE(parent_id::text, ''), billing_address,
	payment_terms_days, tax_profile, contacts, status, version, created_at, updated_at`

func scan(row pgx.Row) (customer.Customer, error) {
	var c customer.Customer
	var p profile
	var status string
	err := row.Scan(&c.ID, &c.Name, &c.LegalName, &c.Currency, &c.ParentID, &p.address, &c.PaymentTermsDays,
		&p.tax, &p.contacts, &status, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.Status = customer.Status(status)
	return c, p.unmarshal(&c.Details)
}

// Get returns a customer with its references; customer.ErrNotFound when absent.
func (s *Store) Get(ctx context.Context, id string) (customer.Customer, error) {
	return s.get(ctx, id, "")
}

// GetForUpdate is Get, locking the customer until the transaction ends.
func (s *Store) GetForUpdate(ctx context.Context, id string) (customer.Customer, error) {
	return s.get(ctx, id, ` FOR UPDATE`)
}

func (s *Store) get(ctx context.Context, id, lock string) (customer.Customer, error) {
	q := s.Q(ctx)
	c, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM customers WHERE id = $1`+lock, id))
	if err != nil {
		return c, pg.NotFound(err, customer.ErrNotFound)
	}
	refs, err := refsOf(ctx, q, []string{id})
	c.Refs = refs[id]
	return c, err
}

// List returns up to limit customers with ids greater than afterID, in id (creation) order.
func (s *Store) List(ctx context.Context, afterID string, limit int) ([]customer.Customer, error) {
	var after *string
	if afterID != "" {
		after = &afterID
	}
	q := s.Q(ctx)
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

// Insert writes new customers with their references, and the events and audit records that
// describe them, in one round trip. Without a transaction in ctx the round trip is its own
// transaction (it commits everything or nothing). A reference another customer holds (taken
// concurrently, say) fails the whole write with customer.ErrReferenceTaken.
func (s *Store) Insert(ctx context.Context, cs []customer.Customer, events []outbox.Event, records []audit.Record) error {
	var b pg.Batch
	for _, c := range cs {
		p, err := marshalProfile(c.Details)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO customers (id, name, legal_name, currency_code, parent_id, billing_address,
			payment_terms_days, tax_profile, contacts, status, version, content_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			c.ID, c.Name, c.LegalName, c.Currency, nullable(c.ParentID), p.address, c.PaymentTermsDays, p.tax, p.contacts,
			string(c.Status), c.Version, c.Details.Hash(), c.CreatedAt)
		queueAddRefs(&b, c.ID, c.Refs)
	}
	return s.run(ctx, &b, events, records)
}

// Update writes c's new details and version, attaches newRefs, and writes the events and audit
// records that describe the change, in one round trip. A reference another customer holds fails
// it with customer.ErrReferenceTaken.
func (s *Store) Update(ctx context.Context, c customer.Customer, newRefs []customer.ExternalRef, events []outbox.Event, records []audit.Record) error {
	p, err := marshalProfile(c.Details)
	if err != nil {
		return err
	}
	var b pg.Batch
	b.Queue(`UPDATE customers SET name = $2, legal_name = $3, currency_code = $4, parent_id = $5,
		billing_address = $6, payment_terms_days = $7, tax_profile = $8, contacts = $9, status = $10,
		version = $11, content_hash = $12, updated_at = $13 WHERE id = $1`,
		c.ID, c.Name, c.LegalName, c.Currency, nullable(c.ParentID), p.address, c.PaymentTermsDays, p.tax, p.contacts,
		string(c.Status), c.Version, c.Details.Hash(), c.UpdatedAt)
	queueAddRefs(&b, c.ID, newRefs)
	return s.run(ctx, &b, events, records)
}

// run adds the events and audit records to b and sends it.
func (s *Store) run(ctx context.Context, b *pg.Batch, events []outbox.Event, records []audit.Record) error {
	if _, err := s.Outbox.Queue(ctx, b, events...); err != nil {
		return err
	}
	if err := audit.Queue(ctx, b, records...); err != nil {
		return err
	}
	return refRace(b.Run(ctx, s.Q(ctx)))
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
