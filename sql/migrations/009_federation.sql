-- Federation of national relays (docs/federation.md): the relay's own id, the peers it
-- grants access to (they pull from it), the links it pulls from its peers (each with a
-- durable cursor), the units its peers published, and where each event came from.
--
-- The tamper-evident chain still holds alerts and receipts only: grants, links, cursors
-- and directories live beside it.

-- The relay's id, set once by the first `relay serve` that has [relay] id, never changed.
CREATE TABLE relay_identity (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    relay_id    text NOT NULL CHECK (relay_id ~ '^[A-Z0-9-]{2,20}$'),
    set_at      timestamptz NOT NULL DEFAULT now()
);

-- Peers allowed to pull from this relay, each scoped to countries.
CREATE TABLE relay_peers (
    peer_id     text PRIMARY KEY CHECK (peer_id ~ '^[A-Z0-9-]{2,20}$'),
    countries   text[] NOT NULL CHECK (cardinality(countries) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- A federation token belongs to a peer instead of a unit.
ALTER TABLE relay_tokens
    ALTER COLUMN unit_id DROP NOT NULL,
    ADD COLUMN peer_id text REFERENCES relay_peers (peer_id),
    ADD CONSTRAINT relay_tokens_one_holder CHECK ((unit_id IS NULL) <> (peer_id IS NULL));
CREATE INDEX relay_tokens_peer ON relay_tokens (peer_id) WHERE peer_id IS NOT NULL;

-- The links this relay pulls from. position is the peer's seq up to which every event
-- meant for this relay has been applied: the resume cursor, moved in the transaction
-- that applies the events.
CREATE TABLE relay_links (
    peer_id             text PRIMARY KEY CHECK (peer_id ~ '^[A-Z0-9-]{2,20}$'),
    position            bigint NOT NULL DEFAULT 0,
    applied_origin_seq  bigint,
    applied_at          timestamptz,
    applied_events      bigint NOT NULL DEFAULT 0,
    peer_head           bigint,
    state               text NOT NULL DEFAULT 'down' CHECK (state IN ('up', 'down', 'refused')),
    state_since         timestamptz NOT NULL DEFAULT now(),
    last_error          text
);

-- Units published by peers: they may be named in distributions, never connect here.
CREATE TABLE relay_remote_units (
    unit_id     text PRIMARY KEY CHECK (unit_id ~ '^[A-Z0-9-]{3,40}$'),
    relay_id    text NOT NULL,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    airport     text CHECK (airport ~ '^[A-Z]{3}$'),
    name        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX relay_remote_units_relay ON relay_remote_units (relay_id);

-- origin_relay/origin_seq: the peer an event came from and its seq there (NULL: it
-- originated here). alert_relay: for a receipt, the relay its alert originated on.
ALTER TABLE relay_events
    ADD COLUMN origin_relay text,
    ADD COLUMN origin_seq   bigint,
    ADD COLUMN alert_relay  text;
CREATE UNIQUE INDEX relay_events_from_peer ON relay_events (origin_relay, origin_seq)
    WHERE origin_relay IS NOT NULL;

-- The relay records its own id at its first start with one (never an UPDATE: it never
-- changes); it reads the grants, and keeps its links and its peers' directories.
GRANT SELECT, INSERT ON relay_identity TO relay_app;
GRANT SELECT ON relay_peers TO relay_app;
GRANT SELECT, INSERT, UPDATE ON relay_links TO relay_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON relay_remote_units TO relay_app;
