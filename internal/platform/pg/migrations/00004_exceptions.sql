-- +goose Up
-- The business exception queue: work that failed, why, on what, under which correlation id.
-- At most one OPEN exception per dedupe key: recording the same failure again bumps attempts.
CREATE TABLE exceptions (
    id              uuid PRIMARY KEY,
    kind            text        NOT NULL,
    reason          text        NOT NULL,
    message         text        NOT NULL DEFAULT '',
    entity_type     text        NOT NULL DEFAULT '',
    entity_id       text        NOT NULL DEFAULT '',
    correlation_id  text        NOT NULL DEFAULT '',
    dedupe_key      text        NOT NULL,
    payload         bytea,
    status          text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
    attempts        integer     NOT NULL DEFAULT 1,
    next_retry_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    resolved_by     text        NOT NULL DEFAULT '',
    resolution_note text        NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX exceptions_open_dedupe ON exceptions (dedupe_key) WHERE status = 'OPEN';
CREATE INDEX exceptions_status_created ON exceptions (status, created_at DESC, id DESC);
CREATE INDEX exceptions_due ON exceptions (next_retry_at) WHERE status = 'OPEN' AND next_retry_at IS NOT NULL;

-- +goose Down
DROP TABLE exceptions;
