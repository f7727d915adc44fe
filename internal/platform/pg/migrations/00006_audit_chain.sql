-- +goose Up
-- Hash chain over the audit trail: every row stores the hash of the row before it (prev_hash) and
-- its own hash, sha256 over a canonical encoding of its fields and prev_hash (see
-- audit_log_hash; `accruectl audit verify` recomputes it independently). An edited, deleted or
-- reordered row breaks the chain at that row, even when done by someone who can bypass the
-- append-only triggers (the table owner).
--
-- The chain is extended by a BEFORE INSERT trigger that locks the one-row chain head, so rows
-- join it in commit order, whichever path inserted them (a transaction or a one-round-trip
-- batch). The lock is held until the inserting transaction ends: audit writers serialise on
-- their commit, which is why audit records are written last in a transaction.
ALTER TABLE audit_log
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea;

-- The chain head: the position and hash of the last row. Only the trigger (running as the
-- owner) reads and writes it; the service's role has no privilege on it.
CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea  NOT NULL
);

-- One text field: its length in bytes (4 bytes, big-endian) and its UTF-8 bytes.
-- +goose StatementBegin
CREATE FUNCTION audit_log_field(t text) RETURNS bytea LANGUAGE sql STABLE STRICT AS $$
    SELECT int4send(length(b)) || b FROM (SELECT convert_to(t, 'UTF8') AS b) AS s
$$;
-- +goose StatementEnd

-- The canonical encoding (version 1): the tag, the previous hash (32 bytes), the id and the time
-- in microseconds since the Unix epoch (8 bytes each, big-endian), then actor, action,
-- entity_type, entity_id, reason, correlation_id and details (jsonb's canonical text), each as
-- audit_log_field. Keep it in step with chainHash in internal/platform/audit.
-- +goose StatementBegin
CREATE FUNCTION audit_log_hash(prev bytea, id bigint, occurred_at timestamptz, actor text, action text,
    entity_type text, entity_id text, reason text, correlation_id text, details jsonb)
RETURNS bytea LANGUAGE sql STABLE STRICT AS $$
    SELECT sha256(convert_to('accrue.audit.v1', 'UTF8') || prev || int8send(id)
        || int8send((extract(epoch FROM occurred_at) * 1000000)::bigint)
        || audit_log_field(actor) || audit_log_field(action) || audit_log_field(entity_type)
        || audit_log_field(entity_id) || audit_log_field(reason) || audit_log_field(correlation_id)
        || audit_log_field(details::text))
$$;
-- +goose StatementEnd

-- Existing rows join the chain in id order; the head starts at 32 zero bytes.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
-- +goose StatementBegin
DO $$
DECLARE
    r    audit_log%ROWTYPE;
    prev bytea  := decode(repeat('00', 32), 'hex');
    n    bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log SET chain_seq = n, prev_hash = prev,
            hash = audit_log_hash(prev, r.id, r.occurred_at, r.actor, r.action, r.entity_type, r.entity_id,
                                  r.reason, r.correlation_id, r.details)
        WHERE id = r.id
        RETURNING hash INTO prev;
    END LOOP;
    INSERT INTO audit_chain_head (seq, hash) VALUES (n, prev);
END $$;
-- +goose StatementEnd
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
ALTER TABLE audit_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain_seq);

-- SECURITY DEFINER: the trigger updates the head as the owner, so the service's role needs no
-- privilege on it. Its search_path is pinned to the schema the tables live in (pg_temp last, so
-- a session's temporary table cannot stand in for the head).
-- +goose StatementBegin
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    head audit_chain_head%ROWTYPE;
BEGIN
    SELECT * INTO STRICT head FROM audit_chain_head FOR UPDATE;
    NEW.chain_seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := audit_log_hash(head.hash, NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type,
                               NEW.entity_id, NEW.reason, NEW.correlation_id, NEW.details);
    UPDATE audit_chain_head SET seq = NEW.chain_seq, hash = NEW.hash;
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_log_chain() SET search_path = %I, pg_temp', current_schema());
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- +goose Down
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP INDEX audit_log_chain_seq;
ALTER TABLE audit_log DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash;
DROP TABLE audit_chain_head;
DROP FUNCTION audit_log_hash(bytea, bigint, timestamptz, text, text, text, text, text, text, jsonb);
DROP FUNCTION audit_log_field(text);
