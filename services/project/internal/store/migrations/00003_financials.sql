-- +goose Up
-- Replica of contracts (fed by contract.changed): lines and rate cards of the current version.
CREATE TABLE contracts (
    contract_id uuid PRIMARY KEY,
    version     bigint NOT NULL
);
CREATE TABLE contract_lines (
    contract_id    uuid    NOT NULL REFERENCES contracts (contract_id),
    line_key       text    NOT NULL,
    billing_method text    NOT NULL,
    amount         numeric NOT NULL,
    currency_code  char(3) NOT NULL,
    PRIMARY KEY (contract_id, line_key)
);
CREATE TABLE contract_rates (
    contract_id    uuid    NOT NULL REFERENCES contracts (contract_id),
    line_key       text    NOT NULL,
    role           text    NOT NULL,
    rate           numeric NOT NULL,
    effective_from date    NOT NULL,
    effective_to   date
);
CREATE INDEX contract_rates_lookup ON contract_rates (contract_id, line_key, role);

-- Staffing plans (fed by assignment.changed), priced at cost by the resource service and at the
-- contract's bill rates here.
CREATE TABLE assignment_plans (
    assignment_id           uuid PRIMARY KEY,
    project_id              uuid        NOT NULL,
    task_id                 uuid        NOT NULL,
    role                    text        NOT NULL,
    status                  text        NOT NULL,
    segments                jsonb       NOT NULL,
    planned_hours           numeric     NOT NULL,
    planned_cost            numeric,
    cost_currency           text        NOT NULL DEFAULT '',
    cost_missing            boolean     NOT NULL,
    billable_hours          numeric     NOT NULL DEFAULT 0,
    forecast_revenue        numeric     NOT NULL DEFAULT 0,
    bill_rate_missing_hours numeric     NOT NULL DEFAULT 0,
    version                 bigint      NOT NULL,
    -- When the staffing change happened in the resource service, and when the forecast here
    -- reflected it (the staffing → forecast latency).
    source_time             timestamptz NOT NULL,
    applied_at              timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX assignment_plans_project ON assignment_plans (project_id);

-- Posted actuals per project (fed by billing posting events).
CREATE TABLE project_actuals (
    project_id     uuid PRIMARY KEY,
    actual_hours   numeric NOT NULL DEFAULT 0,
    actual_cost    numeric NOT NULL DEFAULT 0,
    actual_revenue numeric NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE project_actuals;
DROP TABLE assignment_plans;
DROP TABLE contract_rates;
DROP TABLE contract_lines;
DROP TABLE contracts;
