-- +goose Up
-- The legal entity of each replicated project: assignments belong to their project's entity, and
-- callers limited to some entities see and change only theirs. Rows replicated before this
-- column existed stay '' until their project's next event (refused to limited callers).
ALTER TABLE projects ADD COLUMN legal_entity_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE projects DROP COLUMN legal_entity_id;
