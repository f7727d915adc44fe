-- +goose Up
-- The legal entity an exception concerns, when the recording service knows it ('' otherwise), so
-- the console and accruectl can filter the exception queue by legal entity.
ALTER TABLE exceptions ADD COLUMN legal_entity_id text NOT NULL DEFAULT '';
CREATE INDEX exceptions_legal_entity_id ON exceptions (legal_entity_id, created_at DESC) WHERE legal_entity_id <> '';

-- +goose Down
DROP INDEX IF EXISTS exceptions_legal_entity_id;
ALTER TABLE exceptions DROP COLUMN legal_entity_id;
