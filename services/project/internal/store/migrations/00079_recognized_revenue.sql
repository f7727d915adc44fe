-- +goose Up
-- Revenue billing recognized for a project (revenue.recognized), beside its posted actuals.
ALTER TABLE project_actuals ADD COLUMN recognized_revenue numeric NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE project_actuals DROP COLUMN recognized_revenue;
