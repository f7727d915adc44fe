-- +goose Up
-- A rule by hours or labor cost may name a customer instead of projects: its projects (through
-- their contracts) are resolved at each allocation.
ALTER TABLE allocation_rules ADD COLUMN customer_id uuid;
CREATE INDEX allocation_rules_customer ON allocation_rules (customer_id) WHERE customer_id IS NOT NULL;

-- +goose Down
DROP INDEX allocation_rules_customer;
ALTER TABLE allocation_rules DROP COLUMN customer_id;
