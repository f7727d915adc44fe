-- +goose Up
CREATE TABLE resources (
    id                 uuid PRIMARY KEY,
    kind               text        NOT NULL CHECK (kind IN ('EMPLOYEE', 'CONTRACTOR')),
    name               text        NOT NULL,
    email              text        NOT NULL,
    home_legal_entity  text        NOT NULL,
    location           text        NOT NULL DEFAULT '',
    role               text        NOT NULL,
    weekly_capacity    numeric     NOT NULL CHECK (weekly_capacity >= 0),
    utilization_target numeric     NOT NULL CHECK (utilization_target >= 0),
    active             boolean     NOT NULL,
    content_hash       bytea       NOT NULL,
    version            bigint      NOT NULL DEFAULT 1,
    source_version     bigint      NOT NULL DEFAULT 0,
    rates_version      bigint      NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resource_external_refs (
    system      text NOT NULL,
    object_type text NOT NULL,
    external_id text NOT NULL,
    resource_id uuid NOT NULL REFERENCES resources (id),
    CONSTRAINT resource_external_refs_pkey PRIMARY KEY (system, object_type, external_id)
);
CREATE INDEX resource_external_refs_resource ON resource_external_refs (resource_id);

-- Cost rates are never updated in place: a change supersedes the rows it overlaps (stamping
-- superseded_at) and inserts the new timeline's pieces. Current = not superseded.
CREATE TABLE cost_rates (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id    uuid        NOT NULL REFERENCES resources (id),
    rate           numeric     NOT NULL CHECK (rate >= 0),
    currency_code  char(3)     NOT NULL,
    effective_from date        NOT NULL,
    effective_to   date,
    reason         text        NOT NULL DEFAULT '',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    superseded_at  timestamptz
);
CREATE INDEX cost_rates_current ON cost_rates (resource_id, effective_from) WHERE superseded_at IS NULL;

-- Replica of projects and their tasks (fed by project events), to validate assignments.
CREATE TABLE projects (
    id         uuid PRIMARY KEY,
    status     text    NOT NULL,
    start_date date    NOT NULL,
    end_date   date    NOT NULL,
    version    bigint  NOT NULL
);
CREATE TABLE project_tasks (
    id         uuid PRIMARY KEY,
    project_id uuid    NOT NULL REFERENCES projects (id),
    billable   boolean NOT NULL
);
CREATE INDEX project_tasks_project ON project_tasks (project_id);

CREATE TABLE assignments (
    id             uuid PRIMARY KEY,
    resource_id    uuid        NOT NULL REFERENCES resources (id),
    project_id     uuid        NOT NULL,
    task_id        uuid        NOT NULL,
    role           text        NOT NULL,
    start_date     date        NOT NULL,
    end_date       date        NOT NULL,
    hours_per_week numeric,
    total_hours    numeric,
    status         text        NOT NULL CHECK (status IN ('TENTATIVE', 'CONFIRMED', 'CANCELLED')),
    -- The costed plan: segments and periods as JSON, totals as columns for queries.
    plan           jsonb       NOT NULL,
    planned_hours  numeric     NOT NULL,
    planned_cost   numeric,
    rate_missing   boolean     NOT NULL,
    version        bigint      NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL,
    CHECK ((hours_per_week IS NULL) <> (total_hours IS NULL))
);
CREATE INDEX assignments_resource ON assignments (resource_id, start_date);
CREATE INDEX assignments_project ON assignments (project_id);
CREATE INDEX assignments_rate_missing ON assignments (id) WHERE rate_missing;

-- +goose Down
DROP TABLE assignments;
DROP TABLE project_tasks;
DROP TABLE projects;
DROP TABLE cost_rates;
DROP TABLE resource_external_refs;
DROP TABLE resources;
