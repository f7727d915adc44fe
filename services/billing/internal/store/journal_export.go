package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/erpexport"
)

// The ERP export reads journal lines by (export_xact, export_seq), the position columns of
// migration 00030, and keeps what each legal entity was sent in journal_export_status.

// ExportWatermark returns the oldest transaction still running: every line of an older one is
// committed (or never will be).
func (s *Store) ExportWatermark(ctx context.Context) (int64, error) {
	var w int64
	err := s.Q(ctx).QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&w)
	return w, err
}

// ExportLines reads at most limit lines of a legal entity after position after and below the
// watermark, in export order.
func (s *Store) ExportLines(ctx context.Context, legalEntityID string, after erpexport.Position, watermark int64, limit int) ([]erpexport.Line, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT l.export_xact::text::bigint, l.export_seq, l.entry_id::text, l.line_no, e.posting_date,
			l.account_code, l.txn_amount, l.txn_currency, l.debit, l.credit, e.currency_code, l.fx_rate,
			COALESCE(l.project_id::text, ''), COALESCE(c.customer_id::text, ''), e.source_type, e.source_id, e.source_version,
			e.correlation_id
		FROM journal_lines l
		JOIN journal_entries e ON e.id = l.entry_id
		LEFT JOIN project_replicas p ON p.project_id = l.project_id
		LEFT JOIN contracts c ON c.id = p.contract_id
		WHERE l.legal_entity_id = $1::uuid AND (l.export_xact, l.export_seq) > ($2::bigint::text::xid8, $3)
		  AND l.export_xact < $4::bigint::text::xid8
		ORDER BY l.export_xact, l.export_seq LIMIT $5`, legalEntityID, after.Xact, after.Seq, watermark, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (erpexport.Line, error) {
		l := erpexport.Line{LegalEntityID: legalEntityID}
		var pd time.Time
		var txn decimal.Decimal
		err := r.Scan(&l.Position.Xact, &l.Position.Seq, &l.EntryID, &l.LineNo, &pd, &l.Account, &txn, &l.Currency,
			&l.FunctionalDebit, &l.FunctionalCredit, &l.FunctionalCurrency, &l.FXRate, &l.ProjectID, &l.CustomerID,
			&l.SourceType, &l.SourceID, &l.SourceVersion, &l.CorrelationID)
		l.PostingDate = civil.Of(pd)
		l.Debit, l.Credit = erpexport.Split(txn)
		return l, err
	})
}

// RecordExported moves the legal entity's exported position to upTo, if further.
func (s *Store) RecordExported(ctx context.Context, legalEntityID string, upTo erpexport.Position) error {
	_, err := s.Q(ctx).Exec(ctx, `INSERT INTO journal_export_status (legal_entity_id, exported_xact, exported_seq, exported_at)
		VALUES ($1::uuid, $2, $3, now())
		ON CONFLICT (legal_entity_id) DO UPDATE SET exported_xact = EXCLUDED.exported_xact,
			exported_seq = EXCLUDED.exported_seq, exported_at = EXCLUDED.exported_at
		WHERE (journal_export_status.exported_xact, journal_export_status.exported_seq) < (EXCLUDED.exported_xact, EXCLUDED.exported_seq)`,
		legalEntityID, upTo.Xact, upTo.Seq)
	return err
}

// AcknowledgeExport moves the legal entity's acknowledged position to upTo if further (a
// position at or before it changes nothing, changed false); erpexport.ErrNotExported beyond the
// exported one.
func (s *Store) AcknowledgeExport(ctx context.Context, legalEntityID string, upTo erpexport.Position, actor string) (changed bool, err error) {
	q := s.Q(ctx)
	var exported erpexport.Position
	err = q.QueryRow(ctx, `SELECT exported_xact, exported_seq FROM journal_export_status WHERE legal_entity_id = $1::uuid FOR UPDATE`,
		legalEntityID).Scan(&exported.Xact, &exported.Seq)
	if err != nil && err != pgx.ErrNoRows {
		return false, err
	}
	if upTo.After(exported) {
		return false, erpexport.ErrNotExported
	}
	tag, err := q.Exec(ctx, `UPDATE journal_export_status SET acked_xact = $2, acked_seq = $3, acked_at = now(), acked_by = $4
		WHERE legal_entity_id = $1::uuid AND (acked_xact, acked_seq) < ($2, $3)`, legalEntityID, upTo.Xact, upTo.Seq, actor)
	return tag.RowsAffected() > 0, err
}

// ExportStatus reports, per legal entity (of only, unless nil), the lines below watermark and
// those up to the exported and acknowledged positions.
func (s *Store) ExportStatus(ctx context.Context, watermark int64, only []string) ([]erpexport.Status, error) {
	rows, err := s.Q(ctx).Query(ctx, `SELECT le.id::text,
			(SELECT count(*) FROM journal_lines l WHERE l.legal_entity_id = le.id AND l.export_xact < $1::bigint::text::xid8),
			(SELECT count(*) FROM journal_lines l WHERE l.legal_entity_id = le.id
				AND (l.export_xact, l.export_seq) <= (st.exported_xact::text::xid8, st.exported_seq)),
			(SELECT count(*) FROM journal_lines l WHERE l.legal_entity_id = le.id
				AND (l.export_xact, l.export_seq) <= (st.acked_xact::text::xid8, st.acked_seq)),
			COALESCE(st.exported_xact, 0), COALESCE(st.exported_seq, 0), st.exported_at,
			COALESCE(st.acked_xact, 0), COALESCE(st.acked_seq, 0), st.acked_at, COALESCE(st.acked_by, '')
		FROM legal_entities le LEFT JOIN journal_export_status st ON st.legal_entity_id = le.id
		WHERE ($2::text[] IS NULL OR le.id::text = ANY($2::text[]))
		ORDER BY le.id`, watermark, only)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (erpexport.Status, error) {
		var st erpexport.Status
		var exportedAt, ackedAt *time.Time
		err := r.Scan(&st.LegalEntityID, &st.Available, &st.Exported, &st.Acknowledged, &st.ExportedUpTo.Xact, &st.ExportedUpTo.Seq,
			&exportedAt, &st.AckedUpTo.Xact, &st.AckedUpTo.Seq, &ackedAt, &st.AckedBy)
		if exportedAt != nil {
			st.ExportedAt = *exportedAt
		}
		if ackedAt != nil {
			st.AckedAt = *ackedAt
		}
		return st, err
	})
}
