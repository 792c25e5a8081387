-- Passengers' personal data (docs/protection.md): sealed at rest, masked and reduced on
-- schedule, held, re-identified; the chain stays verifiable through all of it.
--
-- From this migration on, an alert is stored by relay_append() with chain_version 2:
--   body_json/body_msgpack  the alert WITHOUT its personal fields (what a masked alert shows)
--   commitments             canonical JSON [[path, sha256(tag || salt || value)], ...]
--   key_id, wrapped_key     the operator key that wraps the alert's data key, and the
--                           wrapped data key (NULL once destroyed: crypto-shredding)
--   personal                the fields with their salts, sealed under the data key
--   content_digest          SHA-256 of what reduction removes (content and commitments)
-- and its hash is "relay-chain-v2":
--   prev_hash || 'relay-chain-v2' || 0x00 || seq (8 bytes, big-endian) || kind || 0x00
--   || audit_json (canonical JSON of the fields reduction keeps) || 0x00 || content_digest
-- so masking (which changes nothing hashed) and reduction (which replaces the body by its
-- kept fields, the digest staying beside it) leave the chain intact. Receipts, and every
-- event stored before this migration, keep chain_version 1 and verify as they did; an
-- alert of that history holding personal fields is sealed in place by the jobs' first run
-- (sealed_at), its original bytes kept in its envelope so that verify still recomputes
-- its v1 hash while its data key exists (docs/protection.md "History stored before").

ALTER TABLE relay_events
    ADD COLUMN chain_version  smallint NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
    ADD COLUMN content_digest bytea,
    ADD COLUMN commitments    bytea,
    ADD COLUMN key_id         text,
    ADD COLUMN wrapped_key    bytea,
    ADD COLUMN personal       bytea,
    ADD COLUMN masked_at      timestamptz,
    ADD COLUMN reduced_at     timestamptz,
    ADD COLUMN sealed_at      timestamptz,  -- stored before 010, sealed since (seal_history)
    ADD CONSTRAINT relay_events_v2_digest CHECK (chain_version = 1 OR content_digest IS NOT NULL);

CREATE FUNCTION relay_event_hash_v2(p_prev bytea, p_seq bigint, p_kind text, p_audit bytea,
                                    p_digest bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sha256(p_prev || convert_to('relay-chain-v2', 'UTF8') || '\x00'::bytea
                  || int8send(p_seq) || convert_to(p_kind, 'UTF8') || '\x00'::bytea
                  || p_audit || '\x00'::bytea || p_digest)
$$;

-- Still append-only, but for the protection states: an UPDATE may set masked_at (of a
-- passenger alert), reduced_at and sealed_at (of an alert) once; re-wrap a data key;
-- destroy the data key and the sealed fields only when masking or reducing (never bring
-- them back); replace the body (and empty the airports, countries and commodities taken
-- from it) when it reduces the alert; and, once, seal an alert stored before this
-- migration (its body without the personal fields, which go sealed with its original
-- bytes). Everything else, the hash included, never changes; DELETE and TRUNCATE never
-- happen.
CREATE OR REPLACE FUNCTION relay_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_fixed text[] := ARRAY['key_id', 'wrapped_key', 'personal', 'masked_at', 'reduced_at',
                            'sealed_at', 'body_json', 'body_msgpack', 'flight_number',
                            'summary', 'airports', 'countries', 'commodities'];
    v_reducing boolean;
    v_sealing boolean;
    v_same_body boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - v_fixed) = (to_jsonb(OLD) - v_fixed) THEN
        v_same_body := NEW.body_json = OLD.body_json AND NEW.body_msgpack = OLD.body_msgpack;
        v_reducing := OLD.kind = 'alert' AND OLD.reduced_at IS NULL AND NEW.reduced_at IS NOT NULL;
        -- sealing history: once, an alert of chain version 1, its masked state kept; its
        -- body replaced only with its fields sealed (verify opens them and compares), or
        -- for a masked passenger alert whose data keys shred_on_mask destroys at once
        v_sealing := OLD.kind = 'alert' AND OLD.chain_version = 1 AND OLD.sealed_at IS NULL
                     AND NEW.sealed_at IS NOT NULL AND OLD.personal IS NULL
                     AND OLD.wrapped_key IS NULL AND NOT v_reducing
                     AND NEW.masked_at IS NOT DISTINCT FROM OLD.masked_at
                     AND (v_same_body OR (NEW.personal IS NOT NULL AND NEW.wrapped_key IS NOT NULL)
                          OR (OLD.masked_at IS NOT NULL AND OLD.alert_kind = 'passenger'));
        IF (NEW.masked_at IS NOT DISTINCT FROM OLD.masked_at
                OR (OLD.masked_at IS NULL AND OLD.alert_kind = 'passenger'))
           AND (NEW.reduced_at IS NOT DISTINCT FROM OLD.reduced_at OR v_reducing)
           AND (NEW.sealed_at IS NOT DISTINCT FROM OLD.sealed_at OR v_sealing)
           AND (OLD.wrapped_key IS NOT NULL OR NEW.wrapped_key IS NULL OR v_sealing)
           AND (OLD.personal IS NOT NULL OR NEW.personal IS NULL OR v_sealing)
           -- data keys are destroyed only by masking (shred_on_mask) or reduction
           AND ((NEW.wrapped_key IS NOT NULL OR OLD.wrapped_key IS NULL)
                AND (NEW.personal IS NOT NULL OR OLD.personal IS NULL)
                OR NEW.masked_at IS NOT NULL OR NEW.reduced_at IS NOT NULL)
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

-- What the scheduled jobs look for, oldest first.
CREATE INDEX relay_events_to_mask ON relay_events (received_at)
    WHERE kind = 'alert' AND alert_kind = 'passenger' AND masked_at IS NULL AND reduced_at IS NULL;
CREATE INDEX relay_events_to_reduce ON relay_events (received_at)
    WHERE kind = 'alert' AND reduced_at IS NULL;
-- Alerts stored before this migration that hold personal fields in clear: sealed by the
-- first run of the jobs (relay/store/protection.py seal_history), after which it is empty.
CREATE INDEX relay_events_to_seal ON relay_events (seq)
    WHERE kind = 'alert' AND chain_version = 1 AND sealed_at IS NULL AND reduced_at IS NULL;

-- Holds: an alert kept out of masking and reduction until a date, with who and why.
CREATE TABLE relay_holds (
    hold_id     bigserial PRIMARY KEY,
    alert_id    uuid NOT NULL,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    until       timestamptz NOT NULL,
    placed_by   text NOT NULL,
    placed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX relay_holds_alert ON relay_holds (alert_id, until);

-- Each run of the jobs that changed something: when, as of which date, by whom, how much.
CREATE TABLE relay_protection_runs (
    run_id      bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    as_of       timestamptz NOT NULL,
    run_by      text NOT NULL,
    masked      bigint NOT NULL,
    reduced     bigint NOT NULL,
    shredded    bigint NOT NULL,
    sealed      bigint NOT NULL DEFAULT 0  -- alerts of the history before 010, sealed in place
);

-- Why a re-identification (or a hold) was asked: recorded with the request, never the fields.
ALTER TABLE relay_access_log ADD COLUMN reason text;

GRANT UPDATE (key_id, wrapped_key, personal, masked_at, reduced_at, sealed_at, body_json, body_msgpack,
    airports, countries, commodities) ON relay_events TO relay_app;
GRANT SELECT, INSERT ON relay_holds, relay_protection_runs TO relay_app;
GRANT USAGE ON SEQUENCE relay_holds_hold_id_seq, relay_protection_runs_run_id_seq TO relay_app;

-- A sealed alert's row is about 2.8 KB, past PostgreSQL's default 2 KB toast target: every
-- insert would then try to compress its bodies. Rows up to a page stay as they are (the
-- sealed fields, random bytes, are never worth compressing).
ALTER TABLE relay_events SET (toast_tuple_target = 8160);
ALTER TABLE relay_events ALTER COLUMN personal SET STORAGE EXTERNAL,
                         ALTER COLUMN wrapped_key SET STORAGE EXTERNAL;
