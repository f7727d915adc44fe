package app

import (
	"context"
	"strings"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// KindTaxBlocked is the exception of a BLOCKED_TAX draft; it says what the customer lacks and is
// resolved when the customer's tax profile is fixed. It is spelled like the event the block
// publishes (the kind predates the event; stored exceptions keep it).
const KindTaxBlocked = billingv1.EventTypeInvoiceBlockedTax

func taxBlockKey(invoiceID string) string { return KindTaxBlocked + ":" + invoiceID }

// SetTaxRate records a legal entity's tax rate for a region and item type from a date on (the
// same key again replaces the rate). A legal entity without any rate charges no tax.
func (s *Service) SetTaxRate(ctx context.Context, r tax.Rate) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := auth.CheckLegalEntity(ctx, r.LegalEntityID); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.LegalEntity(ctx, r.LegalEntityID); err != nil {
			return err
		}
		if err := s.store.SetTaxRate(ctx, r); err != nil {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "tax_rate.set", EntityType: "legal_entity", EntityID: r.LegalEntityID,
			Details: map[string]any{"region": r.Region, "item_type": r.ItemType, "effective_from": r.EffectiveFrom.String(), "rate": r.Rate.String()}})
	})
}

// TaxRates returns a legal entity's tax rates.
func (s *Service) TaxRates(ctx context.Context, legalEntityID string) ([]tax.Rate, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return nil, err
	}
	return s.store.TaxRates(ctx, legalEntityID)
}

// taxMissing says what draft inv's customer lacks for it to be taxed: nothing when its legal
// entity charges no tax (no rate at all).
func (s *Service) taxMissing(ctx context.Context, inv invoice.Invoice) ([]string, []tax.Rate, *tax.Profile, error) {
	rates, err := s.store.TaxRates(ctx, inv.LegalEntityID)
	if err != nil || len(rates) == 0 {
		return nil, nil, nil, err
	}
	p, err := s.store.TaxProfile(ctx, inv.CustomerID)
	if err != nil {
		return nil, nil, nil, err
	}
	return tax.Missing(p), rates, p, nil
}

// blockForTax makes the new draft inv BLOCKED_TAX, with an exception saying what is missing and
// invoice.blocked_tax, when its customer lacks tax data.
func (s *Service) blockForTax(ctx context.Context, inv *invoice.Invoice) error {
	missing, _, _, err := s.taxMissing(ctx, *inv)
	if err != nil || len(missing) == 0 {
		return err
	}
	inv.Status, inv.TaxMissing = invoice.BlockedTax, missing
	exceptionID, err := s.store.RecordException(ctx, exceptions.New{Kind: KindTaxBlocked, Reason: tax.ErrBlocked.Reason,
		Message:    "invoice draft of customer " + inv.CustomerID + " is blocked: missing " + strings.Join(missing, ", "),
		EntityType: "invoice", EntityID: inv.ID, LegalEntityID: inv.LegalEntityID, DedupeKey: taxBlockKey(inv.ID)})
	if err != nil {
		return err
	}
	return s.publishBlockedTax(ctx, *inv, exceptionID)
}

// taxInvoice computes the tax of each line of invoice inv issued on d; ErrBlocked when the
// customer lacks tax data, tax.ErrRateMissing when a line has no rate.
func (s *Service) taxInvoice(ctx context.Context, inv invoice.Invoice, d civil.Date, entityCountry string) (invoice.Invoice, error) {
	inv.Tax = money.Zero(inv.Currency)
	missing, rates, p, err := s.taxMissing(ctx, inv)
	if err != nil || rates == nil {
		return inv, err
	}
	if len(missing) > 0 {
		return inv, tax.ErrBlocked.With("missing " + strings.Join(missing, ", "))
	}
	t := tax.TreatmentOf(*p, entityCountry)
	items := make([]tax.Item, len(inv.Lines))
	for i, l := range inv.Lines {
		items[i] = tax.Item{ItemType: l.ItemType, Amount: l.Amount}
	}
	rate, taxes, err := tax.Compute(t, rates, p.Region, d, items)
	if err != nil {
		return inv, err
	}
	for i := range inv.Lines {
		inv.Lines[i].TaxRate, inv.Lines[i].Tax = rate[i], taxes[i]
		inv.Tax.Value = inv.Tax.Value.Add(taxes[i].Value)
	}
	inv.TaxNote, inv.ExemptionRef = t.Note, t.ExemptionRef
	return inv, nil
}

// ApplyCustomerTaxProfile keeps the replica of a customer's tax profile (customer.upserted) when
// newer than the one held, and unblocks the customer's BLOCKED_TAX drafts it completes: they
// become DRAFTs again (postable) and their exceptions are resolved.
func (s *Service) ApplyCustomerTaxProfile(ctx context.Context, p tax.Profile) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		changed, err := s.store.ApplyTaxProfile(ctx, p)
		if err != nil || !changed {
			return err
		}
		ids, err := s.store.BlockedTaxInvoices(ctx, p.CustomerID)
		if err != nil {
			return err
		}
		missing := tax.Missing(&p)
		for _, id := range ids {
			if err := s.store.SetTaxBlock(ctx, id, missing); err != nil {
				return err
			}
			if len(missing) > 0 {
				continue
			}
			if _, err := s.store.ResolveException(ctx, taxBlockKey(id), "system", "the customer's tax profile was completed"); err != nil {
				return err
			}
			if err := s.store.Audit(ctx, audit.Record{Action: "invoice.tax_unblocked", EntityType: "invoice", EntityID: id}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TaxExceptions lists the BLOCKED_TAX drafts of a legal entity ("" every one the caller may
// see) with what their customers lack.
func (s *Service) TaxExceptions(ctx context.Context, legalEntityID string) ([]invoice.Invoice, error) {
	if legalEntityID != "" {
		if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
			return nil, err
		}
	}
	all, err := s.store.TaxExceptions(ctx, legalEntityID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, inv := range all {
		if auth.CheckLegalEntity(ctx, inv.LegalEntityID) == nil {
			out = append(out, inv)
		}
	}
	return out, nil
}

// BlockedTaxCount is the KPI "invoices blocked by missing tax data".
func (s *Service) BlockedTaxCount(ctx context.Context) (int64, error) {
	return s.store.CountBlockedTax(ctx)
}
