-- +goose Up
-- The allocated supplier (subcontractor) cost part of actual_cost (fed by postings.recorded).
ALTER TABLE project_actuals ADD COLUMN actual_subcontractor_cost numeric NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE project_actuals DROP COLUMN actual_subcontractor_cost;
