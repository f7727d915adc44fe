-- +goose Up
-- Allocation rules: every version kept; a bill line pins the version current when it arrived.
CREATE TABLE allocation_rules (
    legal_entity_id uuid        NOT NULL REFERENCES legal_entities (id),
    name            text        NOT NULL,
    version         bigint      NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('DIRECT', 'FIXED_SHARES', 'HOURS', 'LABOR_COST')),
    -- Targets as parallel arrays (percent 0 unless FIXED_SHARES).
    project_ids     uuid[]      NOT NULL,
    task_ids        text[]      NOT NULL,
    percents        numeric[]   NOT NULL,
    actor           text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (legal_entity_id, name, version)
);

-- Supplier bill lines, one row per (vendor, bill, line) holding its current version. The
-- allocation consumer posts version `version` and records it in allocated_version; a line waits
-- for allocation while allocated_version < version.
CREATE TABLE supplier_bill_lines (
    id                 uuid        PRIMARY KEY,
    legal_entity_id    uuid        NOT NULL REFERENCES legal_entities (id),
    vendor_id          text        NOT NULL,
    vendor_name        text        NOT NULL,
    bill_number        text        NOT NULL,
    line_no            integer     NOT NULL CHECK (line_no > 0),
    version            bigint      NOT NULL,
    amount             numeric     NOT NULL,
    currency_code      char(3)     NOT NULL,
    bill_date          date        NOT NULL,
    period_start       date        NOT NULL,
    period_end         date        NOT NULL,
    description        text        NOT NULL,
    project_id         uuid,
    task_id            uuid,
    rule_name          text        NOT NULL DEFAULT '',
    rule_version       bigint      NOT NULL DEFAULT 0,
    billable           boolean     NOT NULL,
    status             text        NOT NULL CHECK (status IN ('AWAITING', 'ALLOCATED', 'PARKED')),
    status_reason      text        NOT NULL DEFAULT '',
    allocated_version  bigint      NOT NULL DEFAULT 0,
    allocated_entry_id uuid,
    -- Postings of the line so far (journal source_version): a correction or re-allocation adds one.
    allocation_seq     bigint      NOT NULL DEFAULT 0,
    awaiting_since     timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT supplier_bill_lines_key UNIQUE (legal_entity_id, vendor_id, bill_number, line_no)
);
-- Lines whose rule splits by hours or labor cost, re-allocated when those change.
CREATE INDEX supplier_bill_lines_rule ON supplier_bill_lines (legal_entity_id, rule_name, rule_version) WHERE rule_name <> '';
CREATE INDEX supplier_bill_lines_awaiting ON supplier_bill_lines (legal_entity_id, awaiting_since) WHERE status <> 'ALLOCATED';

-- +goose Down
DROP TABLE supplier_bill_lines;
DROP TABLE allocation_rules;
