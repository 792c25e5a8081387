-- Idempotency keys are per unit AND per kind of frame: a receipt id never resolves to an
-- alert published with the same id (and the reverse).

ALTER TABLE relay_idempotency ADD COLUMN event_kind text NOT NULL DEFAULT 'alert'
    CHECK (event_kind IN ('alert', 'receipt'));
UPDATE relay_idempotency k SET event_kind = e.kind FROM relay_events e WHERE e.seq = k.seq;
ALTER TABLE relay_idempotency DROP CONSTRAINT relay_idempotency_pkey;
ALTER TABLE relay_idempotency ADD PRIMARY KEY (unit_id, event_kind, key);

-- relay_append() (002) now looks keys up and records them with their kind.
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
BEGIN
    SELECT h.seq INTO v_head FROM relay_head h FOR UPDATE;
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
        INSERT INTO relay_events (
            seq, kind, alert_id, origin_unit, author_unit, received_at, alert_kind, msg_type,
            status, priority, tlp, dist_all, dist_units, dist_countries, dist_regions, airports,
            countries, commodities, refs, receipt_status, body_json, body_msgpack)
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
            p_refs[i], p_receipt_statuses[i], p_bodies_json[i], p_bodies_msgpack[i]);
        INSERT INTO relay_idempotency (unit_id, event_kind, key, seq, alert_id)
            VALUES (p_units[i], p_kinds[i], p_keys[i], v_head, p_alert_ids[i]);
        o_seq := v_head; o_alert_id := p_alert_ids[i]; o_duplicate := false;
        RETURN NEXT;
    END LOOP;
    IF v_head > v_start THEN
        UPDATE relay_head SET seq = v_head;
        PERFORM pg_notify('relay_events', v_head::text);
    END IF;
END;
$$;
