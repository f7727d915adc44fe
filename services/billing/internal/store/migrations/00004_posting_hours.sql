-- +goose Up
-- The hours a time entry posted, so that a cost rate changed after posting can re-cost it (a
-- cost adjustment: ledger.SourceCostAdjustment). NULL for expenses and rows written before.
ALTER TABLE posting_results ADD COLUMN hours numeric;
CREATE INDEX posting_results_resource ON posting_results (resource_id) WHERE source_type = 'time_entry' AND outcome = 'POSTED';
CREATE INDEX journal_entries_adjusted ON journal_entries (source_id) WHERE source_type = 'cost_adjustment';

-- +goose Down
DROP INDEX journal_entries_adjusted;
DROP INDEX posting_results_resource;
ALTER TABLE posting_results DROP COLUMN hours;
