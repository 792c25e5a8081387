-- Tamper evidence (docs/audit.md): every event carries hash = SHA-256 over the previous
-- event's hash and the event's canonical encoding "relay-chain-v1":
--
--   prev_hash (32 bytes; 32 zero bytes before seq 1)
--   || 'relay-chain-v1' || 0x00
--   || seq as 8 bytes, big-endian
--   || kind ('alert' or 'receipt', ASCII) || 0x00
--   || body_json (the exact JSON bytes of the event body sent on the stream)
--
-- relay_head keeps the newest hash. relay_append() (re-created below) extends the chain
-- under the head lock. Existing events are chained here, in seq order.
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

CREATE OR REPLACE FUNCTION relay_append(
    p_units text[], p_keys text[], p_kinds text[], p_alert_ids uuid[], p_origins text[],
    p_received timestamptz[], p_alert_kinds text[], p_msg_types text[], p_statuses text[],
    p_priorities text[], p_tlps text[], p_dist_all boolean[], p_dist_units jsonb[],
    p_dist_countries jsonb[], p_dist_regions jsonb[], p_airports jsonb[], p_countries jsonb[],
    p_commodities jsonb[], p_refs uuid[], p_receipt_statuses text[], p_bodies_json bytea[],
    p_bodies_msgpack bytea[]
) RETURNS TABLE (o_seq bigint, o_alert_id uuid, o_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_head bigint;
    v_start bigint;
    v_seq bigint;
    v_alert uuid;
    v_hash bytea;
BEGIN
    SELECT h.seq, h.hash INTO v_head, v_hash FROM relay_head h FOR UPDATE;
    v_start := v_head;
    FOR i IN 1 .. coalesce(cardinality(p_units), 0) LOOP
        SELECT k.seq, k.alert_id INTO v_seq, v_alert
            FROM relay_idempotency k
            WHERE k.unit_id = p_units[i] AND k.event_kind = p_kinds[i] AND k.key = p_keys[i];
        IF FOUND THEN
            o_seq := v_seq; o_alert_id := v_alert; o_duplicate := true;
            RETURN NEXT;
            CONTINUE;
        END IF;
        v_head := v_head + 1;
        v_hash := relay_event_hash(v_hash, v_head, p_kinds[i], p_bodies_json[i]);
        INSERT INTO relay_events (
            seq, kind, alert_id, origin_unit, author_unit, received_at, alert_kind, msg_type,
            status, priority, tlp, dist_all, dist_units, dist_countries, dist_regions, airports,
            countries, commodities, refs, receipt_status, body_json, body_msgpack, hash)
        VALUES (
            v_head, p_kinds[i], p_alert_ids[i], p_origins[i], p_units[i], p_received[i],
            p_alert_kinds[i], p_msg_types[i], p_statuses[i], p_priorities[i], p_tlps[i],
            p_dist_all[i],
            ARRAY(SELECT jsonb_array_elements_text(p_dist_units[i])),
            ARRAY(SELECT jsonb_array_elements_text(p_dist_countries[i])),
            ARRAY(SELECT jsonb_array_elements_text(p_dist_regions[i])),
            ARRAY(SELECT jsonb_array_elements_text(p_airports[i])),
            ARRAY(SELECT jsonb_array_elements_text(p_countries[i])),
            ARRAY(SELECT jsonb_array_elements_text(p_commodities[i])),
            p_refs[i], p_receipt_statuses[i], p_bodies_json[i], p_bodies_msgpack[i], v_hash);
        INSERT INTO relay_idempotency (unit_id, event_kind, key, seq, alert_id)
            VALUES (p_units[i], p_kinds[i], p_keys[i], v_head, p_alert_ids[i]);
        o_seq := v_head; o_alert_id := p_alert_ids[i]; o_duplicate := false;
        RETURN NEXT;
    END LOOP;
    IF v_head > v_start THEN
        UPDATE relay_head SET seq = v_head, hash = v_hash;
        PERFORM pg_notify('relay_events', v_head::text);
    END IF;
END;
$$;
