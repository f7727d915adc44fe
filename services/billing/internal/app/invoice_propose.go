package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
)

// ProposeInvoice drafts an invoice of contract id from the unbilled part of its candidates
// dated up to cutOff (zero: all), one line per entry or grouped as the contract asks
// (contract.LineGrouping), within the contract lines' caps, and a line per milestone of its
// MILESTONE lines completed up to cutOff that no live invoice bills yet (invoice.FeeLines). Runs for
// one contract queue on the contract's row, so a second concurrent run finds the candidates
// taken and proposes only what is left (invoice.ErrNothingToBill when nothing is); the unique
// index on live invoice lines backs that up (invoice.ErrBusy).
func (s *Service) ProposeInvoice(ctx context.Context, contractID string, cutOff civil.Date) (inv invoice.Invoice, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		h, err := s.store.LockContract(ctx, contractID)
		if err != nil {
			return err
		}
		if h == nil {
			return contract.ErrNotFound
		}
		if err := auth.CheckLegalEntity(ctx, h.LegalEntityID); err != nil {
			return err
		}
		bases, err := s.store.ProposalBases(ctx, []string{contractID}, cutOff)
		if err != nil {
			return err
		}
		if bases[contractID] == nil {
			return contract.ErrNotFound
		}
		if inv, err = s.draft(ctx, *h, *bases[contractID], cutOff, true); err != nil {
			return err
		}
		if err := s.store.InsertInvoice(ctx, inv); err != nil {
			return err
		}
		return s.store.Audit(ctx, proposedRecord(inv))
	})
	return inv, err
}

// draft proposes a draft of contract h from b (invoice.ProposeFrom) and, when taxed (the legal entity
// has tax rates), blocks it if its customer lacks tax data (blockForTax).
func (s *Service) draft(ctx context.Context, h contract.Head, b invoice.Basis, cutOff civil.Date, taxed bool) (invoice.Invoice, error) {
	inv, err := invoice.ProposeFrom(b, uuid.Must(uuid.NewV7()).String(), cutOff)
	if err != nil {
		return inv, err
	}
	inv.LegalEntityID = h.LegalEntityID
	if !taxed {
		return inv, nil
	}
	return inv, s.blockForTax(ctx, &inv)
}

// proposedRecord is the audit record of a proposed draft.
func proposedRecord(inv invoice.Invoice) audit.Record {
	return audit.Record{Action: "invoice.proposed", EntityType: "invoice", EntityID: inv.ID,
		Details: map[string]any{"contract_id": inv.ContractID, "lines": len(inv.Lines), "total": inv.Total.String(), "over_cap": inv.OverCap.String()}}
}

// VoidInvoice voids draft id, freeing its candidates; voiding a void draft changes nothing, and
// a posted invoice never changes (invoice.ErrNotDraft: credit it instead).
func (s *Service) VoidInvoice(ctx context.Context, id string) (inv invoice.Invoice, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		inv, err = s.store.Invoice(ctx, id, true)
		if err != nil {
			return err
		}
		if err := auth.CheckLegalEntity(ctx, inv.LegalEntityID); err != nil {
			return err
		}
		switch inv.Status {
		case invoice.Void:
			return nil
		case invoice.Draft, invoice.BlockedTax:
		default:
			return invoice.ErrNotDraft
		}
		if err := s.store.VoidInvoice(ctx, id); err != nil {
			return err
		}
		if inv.Status == invoice.BlockedTax {
			if _, err := s.store.ResolveException(ctx, taxBlockKey(id), "system", "the blocked draft was voided"); err != nil {
				return err
			}
		}
		inv.Status = invoice.Void
		return s.store.Audit(ctx, audit.Record{Action: "invoice.voided", EntityType: "invoice", EntityID: id})
	})
	return inv, err
}

// Invoice returns invoice or credit note id with its lines.
func (s *Service) Invoice(ctx context.Context, id string) (invoice.Invoice, error) {
	inv, err := s.store.Invoice(ctx, id, false)
	if err != nil {
		return inv, err
	}
	return inv, auth.CheckLegalEntity(ctx, inv.LegalEntityID)
}
