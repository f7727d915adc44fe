package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/services/billing/internal/erpexport"
)

// JournalExportStore reads journal lines in export order and keeps what each legal entity's ERP
// was sent and confirmed (erpexport).
type JournalExportStore interface {
	// ExportWatermark returns the export's safe watermark: no line can appear below it any more.
	ExportWatermark(ctx context.Context) (int64, error)
	// ExportLines reads at most limit lines of a legal entity after a position and below the
	// watermark, in export order.
	ExportLines(ctx context.Context, legalEntityID string, after erpexport.Position, watermark int64, limit int) ([]erpexport.Line, error)
	// RecordExported moves the exported position to upTo, if further.
	RecordExported(ctx context.Context, legalEntityID string, upTo erpexport.Position) error
	// AcknowledgeExport moves the acknowledged position to upTo, if further (changed); it
	// returns erpexport.ErrNotExported for a position beyond the exported one.
	AcknowledgeExport(ctx context.Context, legalEntityID string, upTo erpexport.Position, actor string) (changed bool, err error)
	// ExportStatus reports per legal entity (of only, unless nil).
	ExportStatus(ctx context.Context, watermark int64, only []string) ([]erpexport.Status, error)
}

// ExportPageLines is how many lines the export reads per query and sends per chunk: the export
// holds one page at a time, whatever its length.
const ExportPageLines = 2000

// ExportJournal streams the lines of r, below the watermark taken at the start, to emit: one
// call per page with the encoded lines (CSV: the header first, also when there are none), the
// cursor of the last line and the count. The furthest position reached is recorded for the
// export report after each page.
func (s *Service) ExportJournal(ctx context.Context, r erpexport.Request, emit func(data []byte, cursor string, lines int) error) error {
	if err := auth.CheckLegalEntity(ctx, r.LegalEntityID); err != nil {
		return err
	}
	if _, err := s.store.LegalEntity(ctx, r.LegalEntityID); err != nil {
		return err
	}
	watermark, err := s.store.ExportWatermark(ctx)
	if err != nil {
		return err
	}
	enc := erpexport.NewEncoder(r.Format)
	after, sent := r.After, int64(0)
	for {
		limit := int64(ExportPageLines)
		if r.Max > 0 && r.Max-sent < limit {
			limit = r.Max - sent
		}
		var lines []erpexport.Line
		if limit > 0 {
			if lines, err = s.store.ExportLines(ctx, r.LegalEntityID, after, watermark, int(limit)); err != nil {
				return err
			}
		}
		for _, l := range lines {
			if err := enc.Write(l); err != nil {
				return err
			}
		}
		if len(lines) > 0 {
			after = lines[len(lines)-1].Position
			sent += int64(len(lines))
		}
		if enc.Buf.Len() > 0 {
			if err := emit(enc.Buf.Bytes(), after.Cursor(), len(lines)); err != nil {
				return err
			}
			enc.Buf.Reset()
		}
		if len(lines) > 0 {
			if err := s.store.RecordExported(ctx, r.LegalEntityID, after); err != nil {
				return err
			}
		}
		if int64(len(lines)) < limit || limit == 0 {
			return nil
		}
	}
}

// AcknowledgeExport records that the legal entity's ERP imported every line up to the cursor
// and returns the entity's export status; a move forward is audited. Repeating it, or
// acknowledging an earlier cursor, changes nothing.
func (s *Service) AcknowledgeExport(ctx context.Context, legalEntityID, cursor string) (erpexport.Status, error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return erpexport.Status{}, err
	}
	upTo, err := erpexport.ParseCursor("cursor", cursor)
	if err != nil {
		return erpexport.Status{}, err
	}
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
		return erpexport.Status{}, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		changed, err := s.store.AcknowledgeExport(ctx, legalEntityID, upTo, auth.Actor(ctx))
		if err != nil || !changed {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "journal_export.acknowledged", EntityType: "journal_export",
			EntityID: legalEntityID, Details: map[string]any{"cursor": cursor}})
	})
	if err != nil {
		return erpexport.Status{}, err
	}
	report, err := s.ExportReport(ctx, []string{legalEntityID})
	if err != nil || len(report) == 0 {
		return erpexport.Status{}, err
	}
	return report[0], nil
}

// ExportReport returns what each of the caller's legal entities (narrowed to only, unless nil)
// was exported and acknowledged.
func (s *Service) ExportReport(ctx context.Context, only []string) ([]erpexport.Status, error) {
	watermark, err := s.store.ExportWatermark(ctx)
	if err != nil {
		return nil, err
	}
	if f := auth.EntitiesOf(ctx).Filter(); f != nil {
		if only == nil {
			only = f
		}
	}
	return s.store.ExportStatus(ctx, watermark, only)
}
