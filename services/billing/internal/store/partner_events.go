package store

import (
	"context"

	"github.com/shopspring/decimal"
)

// ContractBilledToDate sums the posted invoices and credit notes (negative) of a contract,
// before tax: what it has billed so far, in the contract's currency.
func (s *Store) ContractBilledToDate(ctx context.Context, contractID string) (decimal.Decimal, error) {
	var total decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(total), 0) FROM invoices WHERE contract_id = $1 AND number IS NOT NULL`,
		contractID).Scan(&total)
	return total, err
}

// ContractCollectedToDate sums the payments applied to a contract's invoices (in the invoices'
// currency; write-offs and credit notes are not collections).
func (s *Store) ContractCollectedToDate(ctx context.Context, contractID string) (decimal.Decimal, error) {
	var total decimal.Decimal
	err := s.Q(ctx).QueryRow(ctx, `SELECT COALESCE(sum(m.amount), 0) FROM receivable_movements m
		JOIN invoices i ON i.id = m.invoice_id WHERE i.contract_id = $1 AND m.kind = 'PAYMENT'`, contractID).Scan(&total)
	return total, err
}
