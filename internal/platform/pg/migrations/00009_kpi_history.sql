-- +goose Up
-- KPI samples a service records periodically (and on demand) for the operations console's
-- trends: one row per KPI, currency ('' for counts) and time. Kept 90 days.
CREATE TABLE kpi_history (
    kpi           text        NOT NULL,
    currency_code text        NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL,
    value         numeric     NOT NULL,
    PRIMARY KEY (kpi, currency_code, recorded_at)
);
CREATE INDEX kpi_history_recorded_at ON kpi_history (recorded_at);

-- The console's trace looks requests and failures up by entity and by correlation id.
CREATE INDEX IF NOT EXISTS audit_log_entity_id ON audit_log (entity_id);
CREATE INDEX IF NOT EXISTS audit_log_correlation_id ON audit_log (correlation_id) WHERE correlation_id <> '';
CREATE INDEX IF NOT EXISTS exceptions_entity_id ON exceptions (entity_id);
CREATE INDEX IF NOT EXISTS exceptions_correlation_id ON exceptions (correlation_id) WHERE correlation_id <> '';

-- +goose Down
DROP INDEX IF EXISTS exceptions_correlation_id;
DROP INDEX IF EXISTS exceptions_entity_id;
DROP INDEX IF EXISTS audit_log_correlation_id;
DROP INDEX IF EXISTS audit_log_entity_id;
DROP TABLE kpi_history;
