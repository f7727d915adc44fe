-- +goose Up
-- Entries refused at record time because their period was closed (nothing else of them is
-- stored): the record-time half of the closed-period KPI, the other half being the entries the
-- ledger rejected at posting (time_entries.posting_status). One row per distinct refused input,
-- so a retried request counts once.
CREATE TABLE closed_period_refusals (
    input_key   bytea PRIMARY KEY,
    via         text        NOT NULL CHECK (via IN ('record', 'import', 'correct')),
    kind        text        NOT NULL CHECK (kind IN ('TIME', 'EXPENSE')),
    resource_id uuid        NOT NULL,
    project_id  uuid        NOT NULL,
    work_date   date        NOT NULL,
    hours       numeric     NOT NULL DEFAULT 0,
    refused_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE closed_period_refusals;
