-- +goose Up
-- Payment terms, invoice schedules, payments and their applications (package receivable).
-- invoices.status stays POSTED once posted (posted invoices never change): whether a posted
-- invoice is PARTIALLY_PAID, PAID or CREDITED is read from its instalments.
CREATE TABLE payment_terms (
    legal_entity_id uuid  NOT NULL REFERENCES legal_entities (id),
    code            text  NOT NULL,
    description     text  NOT NULL DEFAULT '',
    instalments     jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (legal_entity_id, code)
);

CREATE TABLE receivables_policies (
    legal_entity_id uuid    PRIMARY KEY REFERENCES legal_entities (id),
    default_terms   text    NOT NULL DEFAULT '',
    write_off_tolerance numeric NOT NULL DEFAULT 0 CHECK (write_off_tolerance >= 0)
);

-- An invoice's schedule of due amounts, written when it is posted. amount and functional (its
-- share of the receivable at the invoice-date rate) never change; credited, paid and
-- written_off (invoice currency) and relieved (functional) are running totals of
-- receivable_movements, kept here so that one row lock serializes what settles the instalment
-- and the CHECK makes over-application impossible even if a lock were missed.
CREATE TABLE invoice_instalments (
    invoice_id      uuid    NOT NULL REFERENCES invoices (id),
    no              int     NOT NULL,
    legal_entity_id uuid    NOT NULL,
    customer_id     uuid    NOT NULL,
    currency_code   char(3) NOT NULL,
    issue_date      date    NOT NULL,
    due_date        date    NOT NULL,
    amount          numeric NOT NULL CHECK (amount >= 0),
    functional      numeric NOT NULL,
    fx_rate         numeric NOT NULL,
    credited        numeric NOT NULL DEFAULT 0,
    paid            numeric NOT NULL DEFAULT 0,
    written_off     numeric NOT NULL DEFAULT 0,
    relieved        numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (invoice_id, no),
    CHECK (credited >= 0 AND paid >= 0 AND written_off >= 0),
    CHECK (amount - credited - paid - written_off >= 0)
);
CREATE INDEX invoice_instalments_customer ON invoice_instalments (legal_entity_id, customer_id, due_date);

-- A payment received: on account (a liability to the customer) until applied.
CREATE TABLE payments (
    id              uuid    PRIMARY KEY,
    legal_entity_id uuid    NOT NULL REFERENCES legal_entities (id),
    customer_id     uuid    NOT NULL,
    reference       text    NOT NULL,
    currency_code   char(3) NOT NULL,
    amount          numeric NOT NULL CHECK (amount > 0),
    payment_date    date    NOT NULL,
    fx_rate         numeric NOT NULL,
    functional      numeric NOT NULL,
    applied         numeric NOT NULL DEFAULT 0,
    applied_functional numeric NOT NULL DEFAULT 0,
    journal_entry_id uuid   NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_reference UNIQUE (legal_entity_id, reference),
    CHECK (applied >= 0 AND applied <= amount)
);
CREATE INDEX payments_customer ON payments (legal_entity_id, customer_id, payment_date);

-- What reduces an instalment, dated (the aging as of a date sums those up to it): credit
-- notes (CREDIT), payment applications (PAYMENT) and write-offs (WRITE_OFF).
CREATE TABLE receivable_movements (
    id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id       uuid    NOT NULL,
    no               int     NOT NULL,
    kind             text    NOT NULL CHECK (kind IN ('CREDIT', 'PAYMENT', 'WRITE_OFF')),
    movement_date    date    NOT NULL,
    amount           numeric NOT NULL,
    functional       numeric NOT NULL,
    payment_id       uuid REFERENCES payments (id),
    application_id   uuid,
    credit_note_id   uuid REFERENCES invoices (id),
    journal_entry_id uuid,
    FOREIGN KEY (invoice_id, no) REFERENCES invoice_instalments (invoice_id, no)
);
CREATE INDEX receivable_movements_instalment ON receivable_movements (invoice_id, no, movement_date);
CREATE INDEX receivable_movements_payment ON receivable_movements (payment_id);

-- +goose Down
DROP TABLE receivable_movements;
DROP TABLE payments;
DROP TABLE invoice_instalments;
DROP TABLE receivables_policies;
DROP TABLE payment_terms;
