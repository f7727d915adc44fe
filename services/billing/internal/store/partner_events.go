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
