-- +goose Up
CREATE TABLE legal_entities (
    id                   uuid PRIMARY KEY,
    code                 text        NOT NULL UNIQUE,
    name                 text        NOT NULL,
    functional_currency  char(3)     NOT NULL,
    tax_registration     text        NOT NULL DEFAULT '',
    country_code         char(2)     NOT NULL,
    closed_period_policy text        NOT NULL CHECK (closed_period_policy IN ('REJECT', 'ROLL_FORWARD')),
    content_hash         bytea       NOT NULL,
    version              bigint      NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- The current version of each contract. Every version (the current one too) is kept whole in
-- contract_versions; contract_lines and rate_card_entries hold the current version's lines for
-- pricing queries and are replaced by an amendment.
CREATE TABLE contracts (
    id                uuid PRIMARY KEY,
    ext_system        text        NOT NULL,
    ext_object_type   text        NOT NULL,
    ext_id            text        NOT NULL,
    customer_id       uuid        NOT NULL,
    legal_entity_id   uuid        NOT NULL REFERENCES legal_entities (id),
    currency_code     char(3)     NOT NULL,
    version           bigint      NOT NULL,
    source_version    bigint      NOT NULL,
    content_hash      bytea       NOT NULL,
    created_at        timestamptz NOT NULL,
    version_at        timestamptz NOT NULL,
    CONSTRAINT contracts_external_ref UNIQUE (ext_system, ext_object_type, ext_id)
);
CREATE INDEX contracts_customer ON contracts (customer_id);

CREATE TABLE contract_versions (
    contract_id    uuid        NOT NULL REFERENCES contracts (id),
    version        bigint      NOT NULL,
    source_version bigint      NOT NULL,
    change_reason  text        NOT NULL,
    actor          text        NOT NULL,
    snapshot       bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, version)
);

CREATE TABLE contract_lines (
    contract_id            uuid    NOT NULL REFERENCES contracts (id),
    line_key               text    NOT NULL,
    service_line           text    NOT NULL,
    billing_method         text    NOT NULL,
    revenue_method         text    NOT NULL,
    currency_code          char(3) NOT NULL,
    amount                 numeric NOT NULL,
    not_to_exceed          numeric,
    expense_markup_percent numeric,
    PRIMARY KEY (contract_id, line_key)
);

CREATE TABLE rate_card_entries (
    contract_id    uuid    NOT NULL,
    line_key       text    NOT NULL,
    role           text    NOT NULL,
    bill_rate      numeric NOT NULL CHECK (bill_rate >= 0),
    currency_code  char(3) NOT NULL,
    effective_from date    NOT NULL,
    effective_to   date,
    PRIMARY KEY (contract_id, line_key, role, effective_from),
    FOREIGN KEY (contract_id, line_key) REFERENCES contract_lines (contract_id, line_key) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE rate_card_entries;
DROP TABLE contract_lines;
DROP TABLE contract_versions;
DROP TABLE contracts;
DROP TABLE legal_entities;
