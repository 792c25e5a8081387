-- Which units each alert was sent to, and when (to the second). Written in batches by
-- each relay process (relay/deliveries.py), never one row per recipient on the hot path.
-- A unit counts once per alert (its first delivery), whatever its number of connections.

CREATE TABLE relay_deliveries (
    seq           bigint NOT NULL,
    unit_id       text NOT NULL,
    delivered_at  timestamptz NOT NULL,
    PRIMARY KEY (seq, unit_id)
);
CREATE INDEX relay_deliveries_unit ON relay_deliveries (unit_id, seq);

GRANT SELECT, INSERT ON relay_deliveries TO relay_app;
