-- The relay core: units, tokens, the ordered append-only event log, idempotency keys.

CREATE TABLE relay_units (
    unit_id     text PRIMARY KEY CHECK (unit_id ~ '^[A-Z0-9-]{3,40}$'),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    airport     text CHECK (airport ~ '^[A-Z]{3}$'),
    name        text NOT NULL DEFAULT '',
    roles       text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Only the SHA-256 of a token is stored; the token itself is shown once, at issue.
CREATE TABLE relay_tokens (
    token_id    bigserial PRIMARY KEY,
    unit_id     text NOT NULL REFERENCES relay_units (unit_id),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX relay_tokens_unit ON relay_tokens (unit_id);

-- One row holding the highest committed seq. Writers lock it (SELECT ... FOR UPDATE)
-- for the length of their transaction, so seq follows commit order across every relay
-- process sharing the database, and seqs have no gaps.
CREATE TABLE relay_head (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq         bigint NOT NULL
);
INSERT INTO relay_head (singleton, seq) VALUES (true, 0);

CREATE TABLE relay_events (
    seq             bigint PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('alert', 'receipt')),
    alert_id        uuid NOT NULL,
    origin_unit     text NOT NULL,
    author_unit     text NOT NULL,
    received_at     timestamptz NOT NULL,
    -- facts of an alert (NULL for receipts), for visibility and filters
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
    -- receipts
    receipt_status  text,
    -- the body, in both wire encodings, exactly as sent on the stream
    body_json       bytea NOT NULL,
    body_msgpack    bytea NOT NULL
);
CREATE UNIQUE INDEX relay_events_alert ON relay_events (alert_id) WHERE kind = 'alert';
CREATE INDEX relay_events_receipts ON relay_events (alert_id) WHERE kind = 'receipt';

CREATE FUNCTION relay_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'relay_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER relay_events_no_update_delete
    BEFORE UPDATE OR DELETE ON relay_events
    FOR EACH ROW EXECUTE FUNCTION relay_events_append_only();
CREATE TRIGGER relay_events_no_truncate
    BEFORE TRUNCATE ON relay_events
    FOR EACH STATEMENT EXECUTE FUNCTION relay_events_append_only();

-- (unit, client frame id) -> the event it created; kept at least 7 days (kept forever here).
CREATE TABLE relay_idempotency (
    unit_id     text NOT NULL,
    key         text NOT NULL,
    seq         bigint NOT NULL,
    alert_id    uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, key)
);
