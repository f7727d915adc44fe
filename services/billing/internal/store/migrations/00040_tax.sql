-- +goose Up
-- Tax on invoices (package tax). Rates per legal entity, tax region and item type ('' for every
-- type), effective-dated. A legal entity with no rate charges no tax.
CREATE TABLE tax_rates (
    legal_entity_id uuid    NOT NULL REFERENCES legal_entities (id),
    tax_region      text    NOT NULL,
    item_type       text    NOT NULL DEFAULT '',
    effective_from  date    NOT NULL,
    rate            numeric NOT NULL CHECK (rate >= 0 AND rate < 1),
    PRIMARY KEY (legal_entity_id, tax_region, item_type, effective_from)
);

-- Replica of the customer service's tax profiles (customer.upserted), newest version wins.
CREATE TABLE customer_tax_profiles (
    customer_id   uuid    PRIMARY KEY,
    tax_id        text    NOT NULL DEFAULT '',
    tax_region    text    NOT NULL DEFAULT '',
    exempt        boolean NOT NULL DEFAULT false,
    exemption_ref text    NOT NULL DEFAULT '',
    version       bigint  NOT NULL
);

ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('DRAFT', 'BLOCKED_TAX', 'POSTED', 'VOID'));
ALTER TABLE invoices ADD COLUMN tax_total numeric NOT NULL DEFAULT 0,
    ADD COLUMN tax_note text NOT NULL DEFAULT '',
    ADD COLUMN exemption_ref text NOT NULL DEFAULT '',
    ADD COLUMN tax_missing text[] NOT NULL DEFAULT '{}';
CREATE INDEX invoices_blocked_tax ON invoices (customer_id) WHERE status = 'BLOCKED_TAX';
ALTER TABLE invoice_lines ADD COLUMN tax_rate numeric NOT NULL DEFAULT 0,
    ADD COLUMN tax_amount numeric NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE invoice_lines DROP COLUMN tax_amount, DROP COLUMN tax_rate;
DROP INDEX invoices_blocked_tax;
ALTER TABLE invoices DROP COLUMN tax_missing, DROP COLUMN exemption_ref, DROP COLUMN tax_note, DROP COLUMN tax_total;
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('DRAFT', 'POSTED', 'VOID'));
DROP TABLE customer_tax_profiles;
DROP TABLE tax_rates;
