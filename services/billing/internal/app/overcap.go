package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// overCap reads what the caps of contract id keep off invoices, in the ambient transaction (the
// contract locked when lock), checking the caller's legal entity.
func (s *Service) overCap(ctx context.Context, id string, lock bool) (contract.Contract, []invoice.OverCapLine, error) {
	var h *contract.Head
	var err error
	if lock {
		h, err = s.store.LockContract(ctx, id)
		if err == nil && h == nil {
			err = contract.ErrNotFound
		}
	}
	if err != nil {
		return contract.Contract{}, nil, err
	}
	c, err := s.store.Contract(ctx, id, 0)
	if err != nil {
		return c, nil, err
	}
	if err := auth.CheckLegalEntity(ctx, c.LegalEntityID); err != nil {
		return c, nil, err
	}
	open, err := s.store.OpenCandidates(ctx, id, civil.Date{})
	if err != nil {
		return c, nil, err
	}
	caps, err := s.store.InvoiceCaps(ctx, id)
	if err != nil {
		return c, nil, err
	}
	return c, invoice.OverCap(c.Currency, open, caps), nil
}

// OverCap lists, per capped line of contract id, the unbilled work over its cap with the part of
// each candidate that is over. Raising the cap (AmendContract) lets the next proposal bill it;
// WriteOffOverCap writes it off.
func (s *Service) OverCap(ctx context.Context, id string) (lines []invoice.OverCapLine, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		_, lines, err = s.overCap(ctx, id, false)
		return err
	})
	return lines, err
}

// WriteOff is what WriteOffOverCap wrote off: per line, the total, and its journal entry ("" when
// nothing was over cap).
type WriteOff struct {
	Lines          []invoice.OverCapLine
	Total          money.Amount
	JournalEntryID string
}

// WriteOffOverCap writes off the work over the caps of contract id (of line lineKey, every
// capped line when ""), posted on d: never billed, its WIP moved to work written off (Dr 5400 /
// Cr WIP, balanced), candidates written off whole WRITTEN_OFF. It runs queued on the contract's
// row like proposals; with nothing over cap it writes nothing (a retry is harmless). A closed
// period refuses it (invoice.ErrPeriodClosed).
func (s *Service) WriteOffOverCap(ctx context.Context, id, lineKey string, d civil.Date) (w WriteOff, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		c, lines, err := s.overCap(ctx, id, true)
		if err != nil {
			return err
		}
		w.Total = money.Zero(c.Currency)
		for _, l := range lines {
			if lineKey == "" || l.LineKey == lineKey {
				w.Lines = append(w.Lines, l)
				w.Total.Value = w.Total.Value.Add(l.Over.Value)
			}
		}
		if len(w.Lines) == 0 {
			return nil
		}
		if closed, err := s.store.PeriodClosed(ctx, c.LegalEntityID, ledger.PeriodOf(d)); err != nil {
			return err
		} else if closed {
			return invoice.ErrPeriodClosed.With("period " + ledger.PeriodOf(d) + " of the legal entity is closed; write off in an open period")
		}
		le, err := s.store.LegalEntity(ctx, c.LegalEntityID)
		if err != nil {
			return err
		}
		wip, err := s.writeOffWIP(ctx, le.FunctionalCurrency, w.Lines)
		if err != nil {
			return err
		}
		writeOffID := uuid.Must(uuid.NewV7()).String()
		entry := invoice.WriteOffEntry(uuid.Must(uuid.NewV7()).String(), writeOffID, c.LegalEntityID, le.FunctionalCurrency, d, w.Lines, wip)
		if !entry.Balanced() {
			return fmt.Errorf("write-off of contract %s: journal entry does not balance", id)
		}
		res := ledger.Result{Source: ledger.Source{Type: entry.SourceType, ID: writeOffID, Version: 1, Date: d},
			Outcome: ledger.Posted, Entry: &entry, PostingDate: d}
		if err := s.store.WriteResults(ctx, []ledger.Result{res}, correlation.ID(ctx)); err != nil {
			return err
		}
		if err := s.store.SaveWriteOff(ctx, writeOffID, id, entry.ID, auth.Actor(ctx), w.Lines, wip); err != nil {
			return err
		}
		w.JournalEntryID = entry.ID
		return s.store.Audit(ctx, audit.Record{Action: "over_cap.written_off", EntityType: "contract", EntityID: id,
			Details: map[string]any{"line_key": lineKey, "total": w.Total.String(), "journal_entry_id": entry.ID}})
	})
	return w, err
}

// writeOffWIP is the functional WIP writing off the over-cap parts of lines relieves, per
// candidate: the part's amount in the functional currency, else its share of the candidate's
// carrying amount (the rest of it when the part is all that is left; invoice.Carrying.Take).
func (s *Service) writeOffWIP(ctx context.Context, functional string, lines []invoice.OverCapLine) (map[string]decimal.Decimal, error) {
	out := map[string]decimal.Decimal{}
	var ids []string
	for _, l := range lines {
		for _, c := range l.Candidates {
			out[c.CandidateID] = c.Amount.Value
			if c.Amount.Currency != functional {
				ids = append(ids, c.CandidateID)
			}
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	carrying, err := s.store.Carrying(ctx, uuid.Nil.String(), ids)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		for _, c := range l.Candidates {
			if c.Amount.Currency != functional {
				out[c.CandidateID], _ = carrying[c.CandidateID].Take(c.Quantity, c.Amount.Value, functional)
			}
		}
	}
	return out, nil
}
