-- +goose Up
-- Invoice proposals as the contract asks (issue 14 item 1).
--
-- invoice_lines stays the per-candidate link (its unique index invoice_lines_one_live keeps a
-- candidate on at most one live invoice); a printed line that groups several candidates (per
-- resource, role or task) is the rows sharing its print_no (NULL: the row is its own printed
-- line, line_no), whose quantities and amounts sum to the printed line's.
ALTER TABLE invoice_lines ADD COLUMN print_no int;

-- What the grouping keys on: who worked, in which role, on which task ('' when unknown, e.g.
-- candidates posted before this migration).
ALTER TABLE invoice_candidates ADD COLUMN resource_id text NOT NULL DEFAULT '',
    ADD COLUMN role text NOT NULL DEFAULT '',
    ADD COLUMN task_id text NOT NULL DEFAULT '';

-- A proposal reads one contract's candidates (the older partial index covers time entries only).
CREATE INDEX invoice_candidates_contract_date ON invoice_candidates (contract_id, source_date);

-- Milestone completions (shared with revenue recognition): a milestone counts as complete for a
-- period when completed_on <= the period's end.
CREATE TABLE IF NOT EXISTS milestone_completions (
    contract_id   uuid        NOT NULL REFERENCES contracts (id),
    line_key      text        NOT NULL,
    milestone_key text        NOT NULL,
    completed_on  date        NOT NULL,
    completed_by  text        NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, line_key, milestone_key)
);

-- Work over a not-to-exceed cap written off (never billed): its open quantity and amount no
-- longer count as unbilled. A candidate written off whole is WRITTEN_OFF.
CREATE TABLE candidate_write_offs (
    id               uuid        NOT NULL,
    candidate_id     uuid        NOT NULL REFERENCES invoice_candidates (id),
    contract_id      uuid        NOT NULL,
    line_key         text        NOT NULL,
    quantity         numeric     NOT NULL,
    amount           numeric     NOT NULL,
    journal_entry_id uuid        NOT NULL,
    actor            text        NOT NULL,
    written_off_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, candidate_id)
);
CREATE INDEX candidate_write_offs_candidate ON candidate_write_offs (candidate_id);
ALTER TABLE invoice_candidates DROP CONSTRAINT invoice_candidates_status_check;
ALTER TABLE invoice_candidates ADD CONSTRAINT invoice_candidates_status_check
    CHECK (status IN ('OPEN', 'INVOICED', 'REVERSED', 'WRITTEN_OFF'));
INSERT INTO accounts (legal_entity_id, code, name, type)
    SELECT id, '5400', 'Unbillable work written off', 'EXPENSE' FROM legal_entities ON CONFLICT DO NOTHING;

-- +goose Down
DELETE FROM accounts WHERE code = '5400';
ALTER TABLE invoice_candidates DROP CONSTRAINT invoice_candidates_status_check;
ALTER TABLE invoice_candidates ADD CONSTRAINT invoice_candidates_status_check CHECK (status IN ('OPEN', 'INVOICED', 'REVERSED'));
DROP TABLE candidate_write_offs;
DROP TABLE IF EXISTS milestone_completions;
DROP INDEX invoice_candidates_contract_date;
ALTER TABLE invoice_candidates DROP COLUMN task_id, DROP COLUMN role, DROP COLUMN resource_id;
ALTER TABLE invoice_lines DROP COLUMN print_no;
