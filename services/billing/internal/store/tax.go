package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// SetTaxRate records rate (the same legal entity, region, item type and date replaces it).
func (s *Store) SetTaxRate(ctx context.Context, r tax.Rate) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO tax_rates (legal_entity_id, tax_region, item_type, effective_from, rate)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (legal_entity_id, tax_region, item_type, effective_from) DO UPDATE SET rate = EXCLUDED.rate`,
		r.LegalEntityID, r.Region, r.ItemType, r.EffectiveFrom.Time(), pg.Numeric(r.Rate))
	return err
}

// TaxRates returns the legal entity's tax rates (all regions, item types and dates).
func (s *Store) TaxRates(ctx context.Context, legalEntityID string) ([]tax.Rate, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT tax_region, item_type, effective_from, rate FROM tax_rates
		WHERE legal_entity_id = $1 ORDER BY tax_region, item_type, effective_from`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (tax.Rate, error) {
		x := tax.Rate{LegalEntityID: legalEntityID}
		var d time.Time
		err := r.Scan(&x.Region, &x.ItemType, &d, &x.Rate)
		x.EffectiveFrom = civil.Of(d)
		return x, err
	})
}

// TaxProfile returns the replica of the customer's tax profile, nil when billing has none.
func (s *Store) TaxProfile(ctx context.Context, customerID string) (*tax.Profile, error) {
	p := tax.Profile{CustomerID: customerID}
	err := s.Q(ctx).QueryRow(ctx, `SELECT tax_id, tax_region, exempt, exemption_ref, version FROM customer_tax_profiles
		WHERE customer_id = $1`, customerID).Scan(&p.TaxID, &p.Region, &p.Exempt, &p.ExemptionRef, &p.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &p, err
}

// ApplyTaxProfile keeps the replica of p when it is newer than the one held; changed says so.
func (s *Store) ApplyTaxProfile(ctx context.Context, p tax.Profile) (bool, error) {
	tag, err := s.Q(ctx).Exec(ctx, `INSERT INTO customer_tax_profiles AS t (customer_id, tax_id, tax_region, exempt, exemption_ref, version)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (customer_id) DO UPDATE SET tax_id = EXCLUDED.tax_id, tax_region = EXCLUDED.tax_region, exempt = EXCLUDED.exempt,
			exemption_ref = EXCLUDED.exemption_ref, version = EXCLUDED.version WHERE t.version < EXCLUDED.version`,
		p.CustomerID, p.TaxID, p.Region, p.Exempt, p.ExemptionRef, p.Version)
	return tag.RowsAffected() == 1, err
}

// BlockedTaxInvoices returns the ids of the customer's BLOCKED_TAX drafts, locked.
func (s *Store) BlockedTaxInvoices(ctx context.Context, customerID string) ([]string, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text FROM invoices WHERE customer_id = $1 AND status = 'BLOCKED_TAX'
		ORDER BY id FOR UPDATE`, customerID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SetTaxBlock makes draft id BLOCKED_TAX with what is missing, or a DRAFT again when nothing is.
func (s *Store) SetTaxBlock(ctx context.Context, id string, missing []string) error {
	status := invoice.Draft
	if len(missing) > 0 {
		status = invoice.BlockedTax
	}
	_, err := s.Q(ctx).Exec(ctx, `UPDATE invoices SET status = $2, tax_missing = $3 WHERE id = $1 AND status IN ('DRAFT', 'BLOCKED_TAX')`,
		id, status, nonNil(missing))
	return err
}

// TaxExceptions returns the BLOCKED_TAX drafts (the exception queue of missing tax data), oldest
// first, of legalEntityID ("" all).
func (s *Store) TaxExceptions(ctx context.Context, legalEntityID string) ([]invoice.Invoice, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT id::text, legal_entity_id::text, customer_id::text, contract_id::text, currency_code, total, tax_missing
		FROM invoices WHERE status = 'BLOCKED_TAX' AND ($1 = '' OR legal_entity_id::text = $1) ORDER BY id`, legalEntityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (invoice.Invoice, error) {
		inv := invoice.Invoice{Status: invoice.BlockedTax, Kind: invoice.KindInvoice}
		err := r.Scan(&inv.ID, &inv.LegalEntityID, &inv.CustomerID, &inv.ContractID, &inv.Currency, &inv.Total.Value, &inv.TaxMissing)
		inv.Total.Currency = inv.Currency
		return inv, err
	})
}

// CountBlockedTax is the KPI "invoices blocked by missing tax data".
func (s *Store) CountBlockedTax(ctx context.Context) (int64, error) {
	var n int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT count(*) FROM invoices WHERE status = 'BLOCKED_TAX'`).Scan(&n)
	return n, err
}

// saveLineTax records the tax of each line of inv (posting).
func (s *Store) saveLineTax(ctx context.Context, inv invoice.Invoice) error {
	n := len(inv.Lines)
	nos, rates, taxes := make([]int32, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	for i, l := range inv.Lines {
		nos[i], rates[i], taxes[i] = int32(l.No), l.TaxRate, l.Tax.Value
	}
	// A printed line's tax sits on its first row (its parts share the line's rate).
	_, err := s.Q(ctx).Exec(ctx, `UPDATE invoice_lines l SET tax_rate = x.r,
			tax_amount = CASE WHEN l.line_no = (SELECT min(f.line_no) FROM invoice_lines f
				WHERE f.invoice_id = $1 AND COALESCE(f.print_no, f.line_no) = x.n) THEN x.t ELSE 0 END
		FROM unnest($2::int[], $3::numeric[], $4::numeric[]) AS x(n, r, t)
		WHERE l.invoice_id = $1 AND COALESCE(l.print_no, l.line_no) = x.n`,
		inv.ID, nos, rates, taxes)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
