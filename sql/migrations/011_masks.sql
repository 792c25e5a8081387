-- Masking records in a narrow table of their own (docs/protection.md "Where it is",
-- docs/performance.md "Masking").
--
-- Until now masking set relay_events.masked_at. PostgreSQL never changes a row in place:
-- that UPDATE wrote a whole new version of the ~2.8 KB event row and an entry in each of
-- its eleven indexes (three GIN, one of them the summary's trigrams), every touched page
-- in full in the write-ahead log. Masking a million alerts wrote gigabytes, and
-- publishers' commits waited behind those flushes. From this migration on, masking an
-- alert inserts one ~40-byte row here and the event row is not touched (with
-- shred_on_mask its data key is still destroyed in relay_events, in the same transaction).
--
--   relay_masks (seq, masked_at)   one row per masked passenger alert, never changed
--
-- Everything that showed masked_at reads it from here by seq (relay/protection/reveal.py
-- PROTECTION_COLUMNS). Like the column it replaces, the mark is not hashed: the chain
-- covers what was published, and masking changes nothing of it.

CREATE TABLE relay_masks (
    seq        bigint PRIMARY KEY,  -- of a passenger alert in relay_events (checked below)
    masked_at  timestamptz NOT NULL
);

-- What was masked so far moves here, as it is (verify names a masked alert that is not a
-- passenger alert: the copy does not hide one).
INSERT INTO relay_masks (seq, masked_at)
    SELECT seq, masked_at FROM relay_events WHERE masked_at IS NOT NULL;

-- Only a passenger alert is ever masked, once; a mark is never changed nor removed. No
-- foreign key: its check would lock the event row, writing to its page, which is what
-- this table is here to avoid; the alert's kind is read instead (an event never changes
-- its kind, nor is it ever deleted).
CREATE FUNCTION relay_masks_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM relay_events WHERE seq = NEW.seq AND kind = 'alert'
                   AND alert_kind = 'passenger') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'relay_masks: event % is not a passenger alert', NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'relay_masks is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER relay_masks_no_update_delete BEFORE INSERT OR UPDATE OR DELETE ON relay_masks
    FOR EACH ROW EXECUTE FUNCTION relay_masks_append_only();
CREATE TRIGGER relay_masks_no_truncate BEFORE TRUNCATE ON relay_masks
    FOR EACH STATEMENT EXECUTE FUNCTION relay_masks_append_only();

-- relay_events' trigger as in 010, with "masked" read from relay_masks: the data keys may
-- be destroyed only of a masked alert (shred_on_mask: the mark is inserted first, in the
-- same transaction) or by reduction; a legacy alert already masked may be sealed with its
-- fields destroyed.
CREATE OR REPLACE FUNCTION relay_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_fixed text[] := ARRAY['key_id', 'wrapped_key', 'personal', 'reduced_at', 'sealed_at',
                            'body_json', 'body_msgpack', 'flight_number', 'summary', 'airports',
                            'countries', 'commodities'];
    v_reducing boolean;
    v_sealing boolean;
    v_same_body boolean;
    v_masked boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - v_fixed) = (to_jsonb(OLD) - v_fixed) THEN
        v_same_body := NEW.body_json = OLD.body_json AND NEW.body_msgpack = OLD.body_msgpack;
        v_reducing := OLD.kind = 'alert' AND OLD.reduced_at IS NULL AND NEW.reduced_at IS NOT NULL;
        v_masked := OLD.alert_kind = 'passenger'
                    AND EXISTS (SELECT 1 FROM relay_masks WHERE seq = OLD.seq);
        v_sealing := OLD.kind = 'alert' AND OLD.chain_version = 1 AND OLD.sealed_at IS NULL
                     AND NEW.sealed_at IS NOT NULL AND OLD.personal IS NULL
                     AND OLD.wrapped_key IS NULL AND NOT v_reducing
                     AND (v_same_body OR (NEW.personal IS NOT NULL AND NEW.wrapped_key IS NOT NULL)
                          OR v_masked);
        IF (NEW.reduced_at IS NOT DISTINCT FROM OLD.reduced_at OR v_reducing)
           AND (NEW.sealed_at IS NOT DISTINCT FROM OLD.sealed_at OR v_sealing)
           AND (OLD.wrapped_key IS NOT NULL OR NEW.wrapped_key IS NULL OR v_sealing)
           AND (OLD.personal IS NOT NULL OR NEW.personal IS NULL OR v_sealing)
           -- data keys are destroyed only of a masked alert (shred_on_mask) or by reduction
           AND ((NEW.wrapped_key IS NOT NULL OR OLD.wrapped_key IS NULL)
                AND (NEW.personal IS NOT NULL OR OLD.personal IS NULL)
                OR v_masked OR NEW.reduced_at IS NOT NULL)
           AND (v_reducing OR (NEW.airports IS NOT DISTINCT FROM OLD.airports
                               AND NEW.countries IS NOT DISTINCT FROM OLD.countries
                               AND NEW.commodities IS NOT DISTINCT FROM OLD.commodities))
           AND (v_reducing OR v_sealing OR v_same_body)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'relay_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- What the masking job walks, oldest first, from where its last batch stopped (a mark in
-- relay_masks is looked up by seq; nothing in this index changes when an alert is masked).
DROP INDEX relay_events_to_mask;
CREATE INDEX relay_events_passengers ON relay_events (received_at, seq)
    WHERE kind = 'alert' AND alert_kind = 'passenger' AND reduced_at IS NULL;

ALTER TABLE relay_events DROP COLUMN masked_at;  -- its privilege for relay_app goes with it

GRANT SELECT, INSERT ON relay_masks TO relay_app;
