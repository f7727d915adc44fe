-- +goose Up
-- A resource's ISO week (Monday start); one per resource and week.
CREATE TABLE timesheets (
    id               uuid PRIMARY KEY,
    resource_id      uuid        NOT NULL,
    week_start       date        NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    status           text        NOT NULL CHECK (status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED')),
    rejection_reason text        NOT NULL DEFAULT '',
    decided_by       text        NOT NULL DEFAULT '',
    submitted_at     timestamptz,
    decided_at       timestamptz,
    version          bigint      NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT timesheets_resource_week UNIQUE (resource_id, week_start)
);

-- Time entries and expense items. Rows are never deleted and their hours and amounts never
-- change: a correction adds a reversal (negated) and a replacement.
CREATE TABLE time_entries (
    id                   uuid PRIMARY KEY,
    kind                 text        NOT NULL CHECK (kind IN ('TIME', 'EXPENSE')),
    timesheet_id         uuid REFERENCES timesheets (id),
    resource_id          uuid        NOT NULL,
    project_id           uuid        NOT NULL,
    task_id              uuid        NOT NULL,
    work_date            date        NOT NULL,
    hours                numeric     NOT NULL DEFAULT 0,
    amount               numeric     NOT NULL DEFAULT 0,
    currency_code        text        NOT NULL DEFAULT '',
    category             text        NOT NULL DEFAULT '',
    receipt_reference    text        NOT NULL DEFAULT '',
    billable             boolean     NOT NULL,
    description          text        NOT NULL DEFAULT '',
    ext_system           text,
    ext_object_type      text,
    ext_id               text,
    approval_status      text        NOT NULL CHECK (approval_status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED')),
    posting_status       text        NOT NULL CHECK (posting_status IN ('NOT_APPROVED', 'PENDING', 'POSTED',
                                         'REJECTED_CLOSED_PERIOD', 'PARKED_RATE_MISSING', 'REVERSED')),
    posting_reason       text        NOT NULL DEFAULT '',
    reverses_entry_id    uuid REFERENCES time_entries (id),
    replaced_by_entry_id uuid,
    version              bigint      NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL,
    approved_at          timestamptz,
    CHECK ((ext_system IS NULL) = (ext_id IS NULL) AND (ext_object_type IS NULL) = (ext_id IS NULL)),
    -- Two imports racing on one external reference cannot both insert it.
    CONSTRAINT time_entries_external_ref UNIQUE (ext_system, ext_object_type, ext_id)
);
CREATE INDEX time_entries_timesheet ON time_entries (timesheet_id) WHERE timesheet_id IS NOT NULL;
-- Daily totals per resource, and listing by resource.
CREATE INDEX time_entries_resource_day ON time_entries (resource_id, work_date);
CREATE INDEX time_entries_project ON time_entries (project_id, id);
-- The closed-period KPI.
CREATE INDEX time_entries_rejected_closed ON time_entries (resource_id, work_date) WHERE posting_status = 'REJECTED_CLOSED_PERIOD';

-- Replica of projects and their tasks (fed by project events), to validate entries.
CREATE TABLE projects (
    id              uuid PRIMARY KEY,
    status          text   NOT NULL,
    legal_entity_id text   NOT NULL DEFAULT '',
    currency_code   text   NOT NULL DEFAULT '',
    start_date      date,
    end_date        date,
    version         bigint NOT NULL
);
CREATE TABLE project_tasks (
    id         uuid PRIMARY KEY,
    project_id uuid    NOT NULL REFERENCES projects (id),
    billable   boolean NOT NULL
);
CREATE INDEX project_tasks_project ON project_tasks (project_id);

-- Replica of legal entities' closed-period policies and of period statuses (billing events).
CREATE TABLE legal_entities (
    id                   text PRIMARY KEY,
    closed_period_policy text   NOT NULL,
    version              bigint NOT NULL
);
CREATE TABLE periods (
    legal_entity_id text        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status          text        NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (legal_entity_id, period)
);

-- +goose Down
DROP TABLE periods;
DROP TABLE legal_entities;
DROP TABLE project_tasks;
DROP TABLE projects;
DROP TABLE time_entries;
DROP TABLE timesheets;
