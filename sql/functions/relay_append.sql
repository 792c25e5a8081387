-- relay_append(): the group commit, in one statement and one round trip
-- (relay/store/writer.py, docs/architecture.md "The path of an alert").
--
-- The current definition, applied after the migrations and again whenever this file
-- changes (relay/store/migrations.py keeps its checksum in relay_schema_functions). It
-- takes the batch as one array of relay_new_event and, in the caller's single-statement
-- transaction:
--   1. locks relay_head (seq follows commit order across processes, without gaps);
--   2. for each event, returns the first event of its (unit, kind of frame, key) when
--      there is one (idempotency, also within the batch) -- for an event from a peer, of
--      its (origin_relay, origin_seq) -- else appends it with the next
--      seq, extends the hash chain (relay_event_hash, migration 004) and records its key;
--   3. moves the head (seq and newest hash) and notifies relay_events with the new head.

-- Earlier definitions: migrations 002-004 took the batch as 22 parallel arrays. From
-- migration 010 an alert is sealed (chain_version 2, relay-chain-v2: see that migration).
DROP FUNCTION IF EXISTS relay_append(
    text[], text[], text[], uuid[], text[], timestamptz[], text[], text[], text[], text[],
    text[], boolean[], jsonb[], jsonb[], jsonb[], jsonb[], jsonb[], jsonb[], uuid[], text[],
    bytea[], bytea[]);
DROP FUNCTION IF EXISTS relay_append(relay_new_event[]);
DROP TYPE IF EXISTS relay_new_event;

-- One validated event waiting for its seq; the fact columns are NULL for a receipt.
CREATE TYPE relay_new_event AS (
    unit_id         text,         -- the publishing unit (for a receipt, its author)
    key             text,         -- the client's frame id or Idempotency-Key
    kind            text,         -- 'alert' or 'receipt'
    alert_id        uuid,
    origin_unit     text,         -- the alert's origin (for a receipt, of its alert)
    received_at     timestamptz,
    alert_kind      text,
    msg_type        text,
    status          text,
    priority        text,
    tlp             text,
    dist_all        boolean,
    dist_units      text[],
    dist_countries  text[],
    dist_regions    text[],
    airports        text[],
    countries       text[],
    commodities     text[],
    refs            uuid,
    receipt_status  text,
    body_json       bytea,
    body_msgpack    bytea,
    origin_relay    text,         -- NULL: originated here; else the peer it came from
    origin_seq      bigint,       -- the event's seq at origin_relay
    alert_relay     text,         -- a receipt: the relay its alert originated on
    chain_version   smallint,     -- 2: sealed (migration 010); 1: a receipt
    audit_json      bytea,        -- v2: what the hash covers of the kept fields (not stored)
    content_digest  bytea,        -- v2: the digest of what reduction removes
    commitments     bytea,
    key_id          text,
    wrapped_key     bytea,
    personal        bytea
);

CREATE FUNCTION relay_append(p_events relay_new_event[])
RETURNS TABLE (o_seq bigint, o_alert_id uuid, o_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    e relay_new_event;
    v_head bigint;
    v_start bigint;
    v_seq bigint;
    v_alert uuid;
    v_hash bytea;
BEGIN
    SELECT h.seq, h.hash INTO v_head, v_hash FROM relay_head h FOR UPDATE;
    v_start := v_head;
    FOREACH e IN ARRAY coalesce(p_events, '{}') LOOP
        IF e.origin_relay IS NULL THEN
            SELECT k.seq, k.alert_id INTO v_seq, v_alert
                FROM relay_idempotency k
                WHERE k.unit_id = e.unit_id AND k.event_kind = e.kind AND k.key = e.key;
        ELSE  -- an event from a peer is stored once, by its seq at its origin
            SELECT r.seq, r.alert_id INTO v_seq, v_alert
                FROM relay_events r
                WHERE r.origin_relay = e.origin_relay AND r.origin_seq = e.origin_seq;
        END IF;
        IF FOUND THEN
            o_seq := v_seq; o_alert_id := v_alert; o_duplicate := true;
            RETURN NEXT;
            CONTINUE;
        END IF;
        v_head := v_head + 1;
        IF e.chain_version = 2 THEN
            v_hash := relay_event_hash_v2(v_hash, v_head, e.kind, e.audit_json, e.content_digest);
        ELSE
            v_hash := relay_event_hash(v_hash, v_head, e.kind, e.body_json);
        END IF;
        INSERT INTO relay_events (
            seq, kind, alert_id, origin_unit, author_unit, received_at, alert_kind, msg_type,
            status, priority, tlp, dist_all, dist_units, dist_countries, dist_regions, airports,
            countries, commodities, refs, receipt_status, body_json, body_msgpack, hash,
            origin_relay, origin_seq, alert_relay, chain_version, content_digest, commitments,
            key_id, wrapped_key, personal)
        VALUES (
            v_head, e.kind, e.alert_id, e.origin_unit, e.unit_id, e.received_at, e.alert_kind,
            e.msg_type, e.status, e.priority, e.tlp, e.dist_all, e.dist_units,
            e.dist_countries, e.dist_regions, e.airports, e.countries, e.commodities, e.refs,
            e.receipt_status, e.body_json, e.body_msgpack, v_hash,
            e.origin_relay, e.origin_seq, e.alert_relay, coalesce(e.chain_version, 1),
            e.content_digest, e.commitments, e.key_id, e.wrapped_key, e.personal);
        IF e.origin_relay IS NULL THEN
            INSERT INTO relay_idempotency (unit_id, event_kind, key, seq, alert_id)
                VALUES (e.unit_id, e.kind, e.key, v_head, e.alert_id);
        END IF;
        o_seq := v_head; o_alert_id := e.alert_id; o_duplicate := false;
        RETURN NEXT;
    END LOOP;
    IF v_head > v_start THEN
        UPDATE relay_head SET seq = v_head, hash = v_hash;
        PERFORM pg_notify('relay_events', v_head::text);
    END IF;
END;
$$;
