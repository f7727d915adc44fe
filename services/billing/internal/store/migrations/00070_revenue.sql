-- +goose Up
-- Issue 16: revenue recognition, contract asset / liability, loss contracts and the period close.

-- Milestone completions (recognition by milestone) live in 00050_invoice_lines.sql (CompleteMilestone).

-- Estimate to complete of a contract line (percent complete and loss contracts), effective from
-- a period on: the latest one effective at or before a period applies.
CREATE TABLE revenue_estimates (
    contract_id          uuid        NOT NULL REFERENCES contracts (id),
    line_key             text        NOT NULL,
    effective_period     text        NOT NULL CHECK (effective_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    estimate_to_complete numeric     NOT NULL CHECK (estimate_to_complete >= 0),
    currency_code        char(3)     NOT NULL,
    note                 text        NOT NULL DEFAULT '',
    set_by               text        NOT NULL,
    set_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, line_key, effective_period)
);

-- A recognition run of a legal entity and period (the close checklist reads it).
CREATE TABLE revenue_runs (
    id              uuid PRIMARY KEY,
    legal_entity_id uuid        NOT NULL REFERENCES legal_entities (id),
    period          text        NOT NULL,
    run_at          timestamptz NOT NULL DEFAULT now(),
    run_by          text        NOT NULL,
    lines           int         NOT NULL,
    recognized      numeric     NOT NULL,
    loss            numeric     NOT NULL,
    reclassified    numeric     NOT NULL,
    currency_code   char(3)     NOT NULL
);
CREATE INDEX revenue_runs_period ON revenue_runs (legal_entity_id, period);

-- What a contract line recognized for a period: one row per line and period (the run is
-- idempotent on it). to_date is cumulative; amount is this period's entry (to_date less before).
CREATE TABLE revenue_recognitions (
    contract_id      uuid        NOT NULL REFERENCES contracts (id),
    line_key         text        NOT NULL,
    period           text        NOT NULL,
    legal_entity_id  uuid        NOT NULL,
    run_id           uuid        NOT NULL REFERENCES revenue_runs (id),
    method           text        NOT NULL,
    currency_code    char(3)     NOT NULL,
    to_date          numeric     NOT NULL,
    amount           numeric     NOT NULL,
    cost_to_date     numeric     NOT NULL DEFAULT 0,
    estimate_total   numeric,
    progress         numeric,
    loss_contract    boolean     NOT NULL DEFAULT false,
    loss_provision   numeric     NOT NULL DEFAULT 0,
    loss_amount      numeric     NOT NULL DEFAULT 0,
    journal_entry_id uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, line_key, period)
);
CREATE INDEX revenue_recognitions_le ON revenue_recognitions (legal_entity_id, period);

-- A contract's position at a period end and the reclassification the run posted for it.
CREATE TABLE contract_positions (
    contract_id      uuid    NOT NULL REFERENCES contracts (id),
    period           text    NOT NULL,
    legal_entity_id  uuid    NOT NULL,
    recognized       numeric NOT NULL,
    billed           numeric NOT NULL,
    asset            numeric NOT NULL,
    liability        numeric NOT NULL,
    reclassified     numeric NOT NULL,
    journal_entry_id uuid,
    PRIMARY KEY (contract_id, period)
);

-- Soft close: only finance may post in the period.
ALTER TABLE periods DROP CONSTRAINT periods_status_check;
ALTER TABLE periods ADD CONSTRAINT periods_status_check CHECK (status IN ('OPEN', 'SOFT_CLOSED', 'CLOSED'));

-- Checklist items waived for a period (with the reason).
CREATE TABLE close_waivers (
    legal_entity_id uuid        NOT NULL REFERENCES legal_entities (id),
    period          text        NOT NULL,
    item            text        NOT NULL,
    reason          text        NOT NULL,
    waived_by       text        NOT NULL,
    waived_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (legal_entity_id, period, item)
);

-- +goose Down
DROP TABLE close_waivers;
ALTER TABLE periods DROP CONSTRAINT periods_status_check;
ALTER TABLE periods ADD CONSTRAINT periods_status_check CHECK (status IN ('OPEN', 'CLOSED'));
DROP TABLE contract_positions;
DROP TABLE revenue_recognitions;
DROP TABLE revenue_runs;
DROP TABLE revenue_estimates;
