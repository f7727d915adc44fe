-- +goose Up
-- Invoices and credit notes (kind). A posted one is never updated; its number is gap-free per
-- legal entity, kind and fiscal year (invoice_counters, incremented in the posting transaction).
CREATE TABLE invoices (
    id                 uuid PRIMARY KEY,
    kind               text        NOT NULL CHECK (kind IN ('INVOICE', 'CREDIT_NOTE')),
    credits_invoice_id uuid REFERENCES invoices (id),
    contract_id        uuid        NOT NULL REFERENCES contracts (id),
    legal_entity_id    uuid        NOT NULL REFERENCES legal_entities (id),
    customer_id        uuid        NOT NULL,
    currency_code      char(3)     NOT NULL,
    status             text        NOT NULL CHECK (status IN ('DRAFT', 'POSTED', 'VOID')),
    cut_off            date,
    issue_date         date,
    fiscal_year        int,
    seq                bigint,
    number             text,
    total              numeric     NOT NULL,
    over_cap           numeric     NOT NULL DEFAULT 0,
    journal_entry_id   uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_number UNIQUE (legal_entity_id, kind, fiscal_year, seq),
    CHECK ((status = 'POSTED') = (number IS NOT NULL))
);
CREATE INDEX invoices_contract ON invoices (contract_id, status);

CREATE TABLE invoice_counters (
    legal_entity_id uuid   NOT NULL,
    kind            text   NOT NULL,
    fiscal_year     int    NOT NULL,
    last_seq        bigint NOT NULL,
    PRIMARY KEY (legal_entity_id, kind, fiscal_year)
);

-- One row per line, linked to the candidate it bills (or credits: negative quantity and
-- amount). round counts the live invoice lines the candidate was on before; live is false for
-- credit-note lines and for lines of a voided draft. The unique index is the rule that a
-- candidate's open part is on at most one live invoice.
CREATE TABLE invoice_lines (
    invoice_id   uuid     NOT NULL REFERENCES invoices (id),
    line_no      int      NOT NULL,
    line_key     text     NOT NULL,
    description  text     NOT NULL,
    candidate_id uuid     NOT NULL REFERENCES invoice_candidates (id),
    source_date  date     NOT NULL,
    round        int      NOT NULL,
    live         boolean  NOT NULL,
    quantity     numeric  NOT NULL,
    unit_price   numeric  NOT NULL,
    amount       numeric  NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE UNIQUE INDEX invoice_lines_one_live ON invoice_lines (candidate_id, round) WHERE live;
CREATE INDEX invoice_lines_candidate ON invoice_lines (candidate_id);

-- +goose Down
DROP TABLE invoice_lines;
DROP TABLE invoice_counters;
DROP TABLE invoices;
