-- +goose Up
-- The project service's replica of customers, fed by customer.upserted events. A row only moves
-- forward: an event carrying an older customer version than the row holds changes nothing.
CREATE TABLE directory_customers (
    customer_id     uuid PRIMARY KEY,
    name            text        NOT NULL,
    currency_code   char(3)     NOT NULL,
    status          text        NOT NULL,
    has_tax_profile boolean     NOT NULL,
    tax_exempt      boolean     NOT NULL,
    version         bigint      NOT NULL,
    last_event_id   uuid        NOT NULL,
    correlation_id  text        NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE directory_customers;
