-- +goose Up
-- The relay records on each row the stream entry id XADD returned (<stream_ms>-<stream_seq>), and
-- per stream the highest id it published. A stream whose last id in Redis is below that highest
-- id lost the entries above it (Redis restarted empty, failed over to a replica that lagged, was
-- flushed): the relay marks the rows recorded above it unpublished and publishes them again.
ALTER TABLE outbox ADD COLUMN stream_ms bigint, ADD COLUMN stream_seq bigint;
CREATE TABLE outbox_streams (
    stream     text PRIMARY KEY,
    last_ms    bigint      NOT NULL DEFAULT 0,
    last_seq   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE outbox_streams;
ALTER TABLE outbox DROP COLUMN stream_ms, DROP COLUMN stream_seq;
