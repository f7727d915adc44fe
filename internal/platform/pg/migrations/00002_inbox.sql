-- +goose Up
-- A consumer group records each event id it applied, in the same transaction as the effects, so a
-- redelivered event (crash before XACK, duplicate publication) is recognised and skipped.
CREATE TABLE stream_inbox (
    consumer_group text        NOT NULL,
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
CREATE INDEX stream_inbox_processed_at ON stream_inbox (processed_at);

-- +goose Down
DROP TABLE stream_inbox;
