-- +goose Up
-- The ERP export's order (erpexport: Position): the transaction that wrote a line, then a
-- sequence drawn at insert. Both are column defaults, so posting's COPY stays as it is. Lines
-- written before get this migration's transaction and a sequence in arbitrary order.
ALTER TABLE journal_lines
    ADD COLUMN export_xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ADD COLUMN export_seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX journal_lines_export ON journal_lines (legal_entity_id, export_xact, export_seq);

-- What each legal entity's ERP was sent (the furthest position an export reached) and confirmed.
CREATE TABLE journal_export_status (
    legal_entity_id uuid PRIMARY KEY,
    exported_xact   bigint      NOT NULL DEFAULT 0,
    exported_seq    bigint      NOT NULL DEFAULT 0,
    exported_at     timestamptz,
    acked_xact      bigint      NOT NULL DEFAULT 0,
    acked_seq       bigint      NOT NULL DEFAULT 0,
    acked_at        timestamptz,
    acked_by        text        NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE journal_export_status;
DROP INDEX journal_lines_export;
ALTER TABLE journal_lines DROP COLUMN export_seq, DROP COLUMN export_xact;
