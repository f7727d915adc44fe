-- +goose NO TRANSACTION
-- +goose Up
-- Finds the rows a broker loss took (their recorded ids above the stream's last id). Built
-- concurrently: the outbox of a busy service is large and must keep taking writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_stream_entry ON outbox (stream, stream_ms, stream_seq)
    WHERE stream_ms IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS outbox_stream_entry;
