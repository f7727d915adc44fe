-- +goose Up
-- Milestone and fixed-fee invoice lines (issue 14 item 1). Such a line bills a fixed amount of
-- a contract line, not an invoice candidate: billing_item names it ('milestone:<key>', 'schedule:<date>'), and
-- contract_id and project_id (the contract's first project, if any) are kept on the row.
-- invoice_lines_one_live_item is the rule that an item is on at most one live invoice line per
-- round (the live lines it was on before: a credit note returns it to billable, the next line
-- takes the next round), as invoice_lines_one_live is for candidates.
ALTER TABLE invoice_lines ALTER COLUMN candidate_id DROP NOT NULL,
    ADD COLUMN contract_id uuid,
    ADD COLUMN project_id uuid,
    ADD COLUMN billing_item text,
    ADD CONSTRAINT invoice_lines_bills_one CHECK ((candidate_id IS NULL) <> (billing_item IS NULL)),
    ADD CONSTRAINT invoice_lines_item_contract CHECK (billing_item IS NULL OR contract_id IS NOT NULL);
CREATE UNIQUE INDEX invoice_lines_one_live_item ON invoice_lines (contract_id, line_key, billing_item, round)
    WHERE live AND billing_item IS NOT NULL;
CREATE INDEX invoice_lines_item ON invoice_lines (contract_id, line_key, billing_item) WHERE billing_item IS NOT NULL;

-- +goose Down
DELETE FROM invoice_lines WHERE billing_item IS NOT NULL;
DROP INDEX invoice_lines_item;
DROP INDEX invoice_lines_one_live_item;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_item_contract, DROP CONSTRAINT invoice_lines_bills_one,
    DROP COLUMN billing_item, DROP COLUMN project_id, DROP COLUMN contract_id,
    ALTER COLUMN candidate_id SET NOT NULL;
