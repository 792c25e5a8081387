-- Tamper evidence (docs/audit.md): every event carries hash = SHA-256 over the previous
-- event's hash and the event's canonical encoding "relay-chain-v1":
--
--   prev_hash (32 bytes; 32 zero bytes before seq 1)
--   || 'relay-chain-v1' || 0x00
--   || seq as 8 bytes, big-endian
--   || kind ('alert' or 'receipt', ASCII) || 0x00
--   || body_json (the exact JSON bytes of the event body sent on the stream)
--
-- relay_head keeps the newest hash. relay_append() (sql/functions/relay_append.sql) extends
-- the chain under the head lock. Existing events are chained here, in seq order.
--
-- Least privilege: the relay process works as the role relay_app, which may read, append
-- events and move the head, and may not UPDATE or DELETE events (nor idempotency keys).

CREATE FUNCTION relay_event_hash(p_prev bytea, p_seq bigint, p_kind text, p_body bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sha256(p_prev || convert_to('relay-chain-v1', 'UTF8') || '\x00'::bytea
                  || int8send(p_seq) || convert_to(p_kind, 'UTF8') || '\x00'::bytea || p_body)
$$;

ALTER TABLE relay_events ADD COLUMN hash bytea;
ALTER TABLE relay_head ADD COLUMN hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex');

ALTER TABLE relay_events DISABLE TRIGGER relay_events_no_update_delete;
DO $$
DECLARE
    r record;
    v_hash bytea := decode(repeat('00', 32), 'hex');
BEGIN
    FOR r IN SELECT seq, kind, body_json FROM relay_events ORDER BY seq LOOP
        v_hash := relay_event_hash(v_hash, r.seq, r.kind, r.body_json);
        UPDATE relay_events SET hash = v_hash WHERE seq = r.seq;
    END LOOP;
    UPDATE relay_head SET hash = v_hash;
END;
$$;
ALTER TABLE relay_events ENABLE TRIGGER relay_events_no_update_delete;
ALTER TABLE relay_events ALTER COLUMN hash SET NOT NULL;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relay_app') THEN
        CREATE ROLE relay_app NOLOGIN;
    END IF;
    BEGIN
        EXECUTE format('GRANT relay_app TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'grant relay_app to the relay''s login role by hand (docs/operations.md)';
    END;
END;
$$;
GRANT USAGE ON SCHEMA public TO relay_app;
GRANT SELECT ON relay_units, relay_tokens, relay_events, relay_idempotency, relay_head,
    relay_schema_migrations TO relay_app;
GRANT INSERT ON relay_events, relay_idempotency TO relay_app;
GRANT UPDATE ON relay_head TO relay_app;
