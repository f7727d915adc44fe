-- +goose Up
-- Approved hours per resource and day (fed by time events), for actual utilization.
CREATE TABLE time_actuals (
    resource_id    uuid    NOT NULL,
    work_date      date    NOT NULL,
    billable_hours numeric NOT NULL DEFAULT 0,
    total_hours    numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_id, work_date)
);

-- +goose Down
DROP TABLE time_actuals;
