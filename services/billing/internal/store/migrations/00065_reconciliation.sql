-- +goose Up
-- Continuous reconciliation's results: one row per run of a legal entity and period, with its
-- totals (what was compared, as figures a person checks by hand) and its findings (drifts naming
-- the offending ids). Runs are never updated; the latest run of a period is its current result.
CREATE TABLE reconciliation_runs (
    id              uuid PRIMARY KEY,
    legal_entity_id uuid        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status          text        NOT NULL CHECK (status IN ('CLEAN', 'DRIFT', 'INCOMPLETE')),
    triggered_by    text        NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    -- [{"name": "...", "value": "decimal", "currency": "USD" | ""}]
    totals          jsonb       NOT NULL DEFAULT '[]',
    finding_count   integer     NOT NULL DEFAULT 0
);
CREATE INDEX reconciliation_runs_period ON reconciliation_runs (legal_entity_id, period, finished_at DESC, id DESC);
CREATE INDEX reconciliation_runs_recent ON reconciliation_runs (finished_at DESC, id DESC);

CREATE TABLE reconciliation_findings (
    run_id       uuid    NOT NULL REFERENCES reconciliation_runs (id),
    seq          integer NOT NULL,
    check_name   text    NOT NULL,
    code         text    NOT NULL,
    entity_type  text    NOT NULL,
    entity_ids   text[]  NOT NULL,
    detail       text    NOT NULL,
    producer     text    NOT NULL DEFAULT '',
    consumer     text    NOT NULL DEFAULT '',
    exception_id uuid,
    PRIMARY KEY (run_id, seq)
);

-- Reconciliation nets each posting against its reversals.
CREATE INDEX journal_entries_reverses ON journal_entries (reverses_id) WHERE reverses_id IS NOT NULL;

-- The current result of each legal entity and period (the period-close checklist reads it:
-- "reconciliation clean" = status 'CLEAN').
CREATE VIEW reconciliation_latest AS
    SELECT DISTINCT ON (legal_entity_id, period) id, legal_entity_id, period, status, finding_count, finished_at
    FROM reconciliation_runs
    ORDER BY legal_entity_id, period, finished_at DESC, id DESC;

-- +goose Down
DROP VIEW reconciliation_latest;
DROP INDEX journal_entries_reverses;
DROP TABLE reconciliation_findings;
DROP TABLE reconciliation_runs;
