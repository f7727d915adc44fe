package revenue

import (
	"github.com/accrue/accrue/internal/platform/money"
)

// Position is a contract's asset or liability as of a date: a contract asset (unbilled
// receivable) when recognized exceeds billed, a contract liability (deferred revenue) when billed
// exceeds recognized. At most one of the two is non-zero.
type Position struct {
	Asset     money.Amount
	Liability money.Amount
}

// PositionOf compares revenue recognized to date with amounts billed to date.
func PositionOf(recognized, billed money.Amount) (Position, error) {
	if err := sameCurrency("billed", recognized, billed); err != nil {
		return Position{}, err
	}
	cur := recognized.Currency
	p := Position{Asset: money.Zero(cur), Liability: money.Zero(cur)}
	diff := recognized.Round().Value.Sub(billed.Round().Value)
	switch {
	case diff.IsPositive():
		p.Asset.Value = diff
	case diff.IsNegative():
		p.Liability.Value = diff.Neg()
	}
	return p, nil
}

// Net is asset − liability (negative: a net liability).
func (p Position) Net() money.Amount {
	return money.Amount{Value: p.Asset.Value.Sub(p.Liability.Value), Currency: p.Asset.Currency}
}

// Reclassification is the change of a contract's position over a period: what the run posts to
// the contract asset and contract liability accounts (positive increases the balance).
type Reclassification struct {
	Asset     money.Amount
	Liability money.Amount
}

// Reclassify returns the entries that move the ledger from position before to position now.
func Reclassify(before, now Position) (Reclassification, error) {
	if err := sameCurrency("position", now.Asset, before.Asset, before.Liability, now.Liability); err != nil {
		return Reclassification{}, err
	}
	cur := now.Asset.Currency
	return Reclassification{
		Asset:     money.Amount{Value: now.Asset.Value.Sub(before.Asset.Value), Currency: cur},
		Liability: money.Amount{Value: now.Liability.Value.Sub(before.Liability.Value), Currency: cur},
	}, nil
}
