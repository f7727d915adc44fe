-- +goose Up
-- The KPI of postings rejected for closed periods reads only those rows; an index on every
-- outcome would cost an entry per posting for little selectivity.
DROP INDEX posting_results_outcome;
CREATE INDEX posting_results_rejected ON posting_results (resource_id, source_date) WHERE outcome = 'REJECTED_CLOSED_PERIOD';

-- +goose Down
DROP INDEX posting_results_rejected;
CREATE INDEX posting_results_outcome ON posting_results (outcome);
