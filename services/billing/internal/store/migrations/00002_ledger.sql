-- +goose Up
CREATE TABLE accounts (
    legal_entity_id uuid NOT NULL REFERENCES legal_entities (id),
    code            text NOT NULL,
    name            text NOT NULL,
    type            text NOT NULL CHECK (type IN ('ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE')),
    PRIMARY KEY (legal_entity_id, code)
);

-- Periods opened or closed explicitly; a month without a row is open.
CREATE TABLE periods (
    legal_entity_id uuid        NOT NULL REFERENCES legal_entities (id),
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status          text        NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    changed_at      timestamptz NOT NULL DEFAULT now(),
    changed_by      text        NOT NULL,
    PRIMARY KEY (legal_entity_id, period)
);

-- Journal entries: balanced, never updated; a correction is a reversal plus a new entry. A source
-- (time entry, expense) posts at most once per version.
CREATE TABLE journal_entries (
    id              uuid PRIMARY KEY,
    legal_entity_id uuid        NOT NULL,
    currency_code   char(3)     NOT NULL,
    posting_date    date        NOT NULL,
    source_date     date        NOT NULL,
    source_type     text        NOT NULL,
    source_id       text        NOT NULL,
    source_version  bigint      NOT NULL,
    reverses_id     uuid,
    description     text        NOT NULL,
    correlation_id  text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journal_entries_source UNIQUE (source_type, source_id, source_version)
);
CREATE INDEX journal_entries_le_date ON journal_entries (legal_entity_id, posting_date);

CREATE TABLE journal_lines (
    entry_id        uuid     NOT NULL,
    line_no         smallint NOT NULL,
    legal_entity_id uuid     NOT NULL,
    account_code    text     NOT NULL,
    project_id      uuid,
    task_id         uuid,
    debit           numeric  NOT NULL CHECK (debit >= 0),
    credit          numeric  NOT NULL CHECK (credit >= 0),
    txn_currency    char(3)  NOT NULL,
    txn_amount      numeric  NOT NULL,
    fx_rate         numeric  NOT NULL,
    rate_date       date     NOT NULL,
    PRIMARY KEY (entry_id, line_no),
    CHECK (debit = 0 OR credit = 0)
);
CREATE INDEX journal_lines_project ON journal_lines (project_id);

-- Debit and credit totals per account and period, maintained with one aggregated upsert per
-- posting batch (the trial balance reads these).
CREATE TABLE account_balances (
    legal_entity_id uuid    NOT NULL,
    account_code    text    NOT NULL,
    period          text    NOT NULL,
    debit           numeric NOT NULL DEFAULT 0,
    credit          numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (legal_entity_id, account_code, period)
);

CREATE TABLE invoice_candidates (
    id             uuid PRIMARY KEY,
    project_id     uuid        NOT NULL,
    contract_id    uuid        NOT NULL,
    line_key       text        NOT NULL,
    source_type    text        NOT NULL,
    source_id      text        NOT NULL,
    source_version bigint      NOT NULL,
    source_date    date        NOT NULL,
    quantity       numeric     NOT NULL,
    unit_price     numeric     NOT NULL,
    markup_percent numeric,
    amount         numeric     NOT NULL,
    currency_code  char(3)     NOT NULL,
    status         text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'INVOICED', 'REVERSED')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoice_candidates_source UNIQUE (source_type, source_id, source_version)
);
CREATE INDEX invoice_candidates_project ON invoice_candidates (project_id, status);

-- What the ledger did with every source (posted, rejected, parked, reversed).
CREATE TABLE posting_results (
    source_type      text        NOT NULL,
    source_id        text        NOT NULL,
    source_version   bigint      NOT NULL,
    outcome          text        NOT NULL,
    reason           text        NOT NULL DEFAULT '',
    journal_entry_id uuid,
    resource_id      uuid,
    project_id       uuid,
    source_date      date        NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_type, source_id, source_version)
);
CREATE INDEX posting_results_outcome ON posting_results (outcome);

-- Postings waiting for a rate (or a project's contract): re-driven when it arrives.
CREATE TABLE parked_postings (
    source_type    text        NOT NULL,
    source_id      text        NOT NULL,
    source_version bigint      NOT NULL,
    missing_kind   text        NOT NULL,
    missing_key    text        NOT NULL,
    missing_date   date        NOT NULL,
    source         bytea       NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_type, source_id, source_version)
);
CREATE INDEX parked_postings_missing ON parked_postings (missing_kind, missing_key);

CREATE TABLE exchange_rates (
    from_currency char(3) NOT NULL,
    to_currency   char(3) NOT NULL,
    rate_date     date    NOT NULL,
    rate          numeric NOT NULL CHECK (rate > 0),
    PRIMARY KEY (from_currency, to_currency, rate_date)
);

-- Replicas fed by events: projects and tasks (project service), cost rates and roles (resource
-- service). Posting reads them and never calls another service.
CREATE TABLE project_replicas (
    project_id      uuid PRIMARY KEY,
    legal_entity_id uuid   NOT NULL,
    contract_id     uuid,
    status          text   NOT NULL,
    version         bigint NOT NULL
);
CREATE TABLE task_replicas (
    task_id    uuid PRIMARY KEY,
    project_id uuid    NOT NULL,
    billable   boolean NOT NULL,
    line_key   text    NOT NULL
);
CREATE INDEX task_replicas_project ON task_replicas (project_id);
CREATE TABLE resource_replicas (
    resource_id   uuid PRIMARY KEY,
    role          text   NOT NULL DEFAULT '',
    rates_version bigint NOT NULL DEFAULT 0
);
CREATE TABLE cost_rate_replicas (
    resource_id    uuid    NOT NULL,
    rate           numeric NOT NULL,
    currency_code  char(3) NOT NULL,
    effective_from date    NOT NULL,
    effective_to   date
);
CREATE INDEX cost_rate_replicas_resource ON cost_rate_replicas (resource_id);

-- +goose Down
DROP TABLE cost_rate_replicas;
DROP TABLE resource_replicas;
DROP TABLE task_replicas;
DROP TABLE project_replicas;
DROP TABLE exchange_rates;
DROP TABLE parked_postings;
DROP TABLE posting_results;
DROP TABLE invoice_candidates;
DROP TABLE account_balances;
DROP TABLE journal_lines;
DROP TABLE journal_entries;
DROP TABLE periods;
DROP TABLE accounts;
