-- +goose Up
CREATE TABLE customers (
    id                 uuid PRIMARY KEY,
    name               text        NOT NULL,
    legal_name         text        NOT NULL DEFAULT '',
    currency_code      char(3)     NOT NULL,
    parent_id          uuid REFERENCES customers (id),
    billing_address    jsonb       NOT NULL DEFAULT '{}',
    payment_terms_days integer     NOT NULL CHECK (payment_terms_days BETWEEN 0 AND 365),
    tax_profile        jsonb,
    contacts           jsonb       NOT NULL DEFAULT '[]',
    status             text        NOT NULL CHECK (status IN ('ACTIVE', 'ON_HOLD', 'INACTIVE')),
    version            bigint      NOT NULL DEFAULT 1,
    content_hash       bytea       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX customers_parent ON customers (parent_id) WHERE parent_id IS NOT NULL;

-- Cross-system references: unique, looked up before anything is created.
CREATE TABLE customer_external_refs (
    system      text        NOT NULL,
    object_type text        NOT NULL,
    external_id text        NOT NULL,
    customer_id uuid        NOT NULL REFERENCES customers (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_external_refs_pkey PRIMARY KEY (system, object_type, external_id)
);
CREATE INDEX customer_external_refs_customer ON customer_external_refs (customer_id);

-- +goose Down
DROP TABLE customer_external_refs;
DROP TABLE customers;
