-- +goose Up
-- Refunds of cash on account (issue 14 item 5): part or all of what a payment has unapplied paid
-- back to its customer. payments.refunded and refunded_functional (at the payment's rate) are
-- running totals of payment_refunds, kept on the payment so that its row lock serializes
-- applications and refunds and the CHECK makes refunding or applying more than the payment
-- impossible even if a lock were missed.
ALTER TABLE payments
    ADD COLUMN refunded numeric NOT NULL DEFAULT 0,
    ADD COLUMN refunded_functional numeric NOT NULL DEFAULT 0,
    ADD CONSTRAINT payments_on_account CHECK (refunded >= 0 AND applied + refunded <= amount);

CREATE TABLE payment_refunds (
    id               uuid    PRIMARY KEY,
    payment_id       uuid    NOT NULL REFERENCES payments (id),
    legal_entity_id  uuid    NOT NULL REFERENCES legal_entities (id),
    customer_id      uuid    NOT NULL,
    reference        text    NOT NULL,
    currency_code    char(3) NOT NULL,
    amount           numeric NOT NULL CHECK (amount > 0),
    refund_date      date    NOT NULL,
    fx_rate          numeric NOT NULL,
    -- cash: paid out at the refund date's rate; carrying: taken off payments on account at the
    -- payment's rate (their difference is realized FX), both functional.
    cash             numeric NOT NULL,
    carrying         numeric NOT NULL,
    journal_entry_id uuid    NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_refunds_reference UNIQUE (legal_entity_id, reference)
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id);
CREATE INDEX payment_refunds_customer ON payment_refunds (legal_entity_id, customer_id, refund_date);

-- +goose Down
DROP TABLE payment_refunds;
ALTER TABLE payments DROP CONSTRAINT payments_on_account, DROP COLUMN refunded_functional, DROP COLUMN refunded;
