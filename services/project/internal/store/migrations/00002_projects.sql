-- +goose Up
-- Task trees per service line; tasks is a JSON array of {key, parent_key, name, billable}.
CREATE TABLE project_templates (
    service_line text PRIMARY KEY,
    name         text        NOT NULL,
    tasks        jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO project_templates (service_line, name, tasks) VALUES
 ('CONSULTING', 'Advisory engagement', '[
   {"key":"discover","name":"Discovery","billable":true},
   {"key":"assess","name":"Assessment and recommendations","billable":true},
   {"key":"pm","name":"Engagement management","billable":false}]'),
 ('IMPLEMENTATION', 'System implementation', '[
   {"key":"plan","name":"Plan","billable":true},
   {"key":"design","name":"Design","billable":true},
   {"key":"build","name":"Build","billable":true},
   {"key":"config","parent_key":"build","name":"Configuration","billable":true},
   {"key":"integr","parent_key":"build","name":"Integrations","billable":true},
   {"key":"test","name":"Test","billable":true},
   {"key":"golive","name":"Go-live and hypercare","billable":true},
   {"key":"pm","name":"Project management","billable":false}]'),
 ('TRAINING', 'Training', '[
   {"key":"prep","name":"Preparation","billable":true},
   {"key":"deliver","name":"Delivery","billable":true}]'),
 ('MANAGED_SERVICES', 'Managed services', '[
   {"key":"onboard","name":"Onboarding","billable":true},
   {"key":"run","name":"Run and support","billable":true},
   {"key":"review","name":"Service reviews","billable":false}]');

-- The project service's replica of legal entities (fed by legal_entity.upserted events).
CREATE TABLE legal_entities (
    legal_entity_id      uuid PRIMARY KEY,
    code                 text        NOT NULL UNIQUE,
    functional_currency  char(3)     NOT NULL,
    closed_period_policy text        NOT NULL,
    version              bigint      NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id                 uuid PRIMARY KEY,
    name               text        NOT NULL,
    customer_id        uuid        NOT NULL,
    contract_id        uuid,
    legal_entity_id    uuid        NOT NULL,
    currency_code      char(3)     NOT NULL,
    start_date         date        NOT NULL,
    end_date           date        NOT NULL,
    manager_id         text        NOT NULL DEFAULT '',
    manager_name       text        NOT NULL DEFAULT '',
    budget_hours       numeric,
    budget_cost        numeric,
    budget_revenue     numeric,
    status             text        NOT NULL CHECK (status IN ('DRAFT', 'PENDING_FINANCIAL_ACTIVATION', 'ACTIVE', 'ON_HOLD', 'CLOSED')),
    source_system      text        NOT NULL DEFAULT '',
    source_object_type text        NOT NULL DEFAULT '',
    source_id          text        NOT NULL DEFAULT '',
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK (status NOT IN ('ACTIVE', 'ON_HOLD') OR contract_id IS NOT NULL)
);
CREATE INDEX projects_status ON projects (status, id);
CREATE INDEX projects_customer ON projects (customer_id, id);

CREATE TABLE tasks (
    id                uuid PRIMARY KEY,
    project_id        uuid    NOT NULL REFERENCES projects (id),
    parent_task_id    uuid REFERENCES tasks (id),
    wbs_code          text    NOT NULL,
    name              text    NOT NULL,
    billable          boolean NOT NULL,
    contract_line_key text    NOT NULL DEFAULT '',
    service_line      text    NOT NULL DEFAULT '',
    CONSTRAINT tasks_wbs UNIQUE (project_id, wbs_code)
);

-- One row per converted CRM opportunity: the version converted, the records it converged on,
-- and whether the financial activation (the contract) is done.
CREATE TABLE opportunity_conversions (
    crm_system     text        NOT NULL,
    opportunity_id text        NOT NULL,
    version        bigint      NOT NULL,
    fingerprint    bytea       NOT NULL,
    request        bytea       NOT NULL,
    customer_id    uuid        NOT NULL,
    project_id     uuid        NOT NULL REFERENCES projects (id),
    contract_id    uuid,
    state          text        NOT NULL CHECK (state IN ('PENDING_FINANCIAL_ACTIVATION', 'ACTIVE')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (crm_system, opportunity_id)
);
CREATE UNIQUE INDEX opportunity_conversions_project ON opportunity_conversions (project_id);

-- +goose Down
DROP TABLE opportunity_conversions;
DROP TABLE tasks;
DROP TABLE projects;
DROP TABLE legal_entities;
DROP TABLE project_templates;
