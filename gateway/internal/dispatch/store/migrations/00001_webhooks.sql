-- +goose Up
-- Outbound webhooks: partners' subscriptions, the events the dispatcher fanned out, one delivery
-- per subscription and event (the dedupe key), and every attempt of each.
CREATE TABLE webhook_subscriptions (
    id                         uuid PRIMARY KEY,
    url                        text NOT NULL,
    event_types                text[] NOT NULL,
    legal_entity_id            text NOT NULL DEFAULT '',
    customer_id                text NOT NULL DEFAULT '',
    project_id                 text NOT NULL DEFAULT '',
    description                text NOT NULL DEFAULT '',
    shape                      text NOT NULL DEFAULT '',
    status                     text NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED')),
    secret                     text NOT NULL,
    previous_secret            text NOT NULL DEFAULT '',
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    -- The circuit breaker: failures in a row, and until when no attempt is made.
    consecutive_failures       integer NOT NULL DEFAULT 0,
    circuit_open_until         timestamptz
);

-- Events kept once, whatever the number of subscriptions; seq orders them as they were read.
CREATE TABLE webhook_events (
    event_id       text PRIMARY KEY,
    seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    type           text NOT NULL,
    subject        text NOT NULL,
    producer       text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    correlation_id text NOT NULL DEFAULT '',
    data           text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         text NOT NULL REFERENCES webhook_events (event_id),
    seq              bigint NOT NULL,
    subject          text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    delivered_at     timestamptz,
    last_status_code integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    PRIMARY KEY (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subscription_id, subject, seq) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (subscription_id, seq DESC);

CREATE TABLE webhook_attempts (
    subscription_id  uuid NOT NULL,
    event_id         text NOT NULL,
    attempt          integer NOT NULL,
    started_at       timestamptz NOT NULL,
    latency_ms       bigint NOT NULL,
    status_code      integer NOT NULL,
    error            text NOT NULL DEFAULT '',
    response_excerpt text NOT NULL DEFAULT '',
    PRIMARY KEY (subscription_id, event_id, attempt),
    FOREIGN KEY (subscription_id, event_id) REFERENCES webhook_deliveries (subscription_id, event_id)
);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
