-- +goose Up
-- Debounce of project.financials_changed: a change of a project's forecast or actuals inserts
-- (or counts into) its pending row, in the transaction of the change; a ticker publishes the
-- rows that are due with the figures as they stand and deletes them in one transaction, so a
-- crash loses no event and the window bounds how often a project's event goes out.
CREATE TABLE financials_events_pending (
    project_id      uuid PRIMARY KEY,
    changes         integer     NOT NULL DEFAULT 1,
    first_change_at timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL
);
CREATE INDEX financials_events_pending_due ON financials_events_pending (due_at);

-- +goose Down
DROP TABLE financials_events_pending;
