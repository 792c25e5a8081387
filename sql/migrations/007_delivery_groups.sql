-- Delivery records in groups: one row per alert and second, holding every unit the alert
-- was sent to in that second, instead of one row per (alert, unit). At 200 alerts/s to 100
-- units that is 200 rows a second instead of 20,000, and the relay's commits no longer
-- queue behind a large insert every second (docs/performance.md).
--
-- relay_deliveries becomes a view with the same columns as the table it replaces: each
-- unit once per alert, at its first delivery.

CREATE TABLE relay_delivery_groups (
    seq           bigint NOT NULL,
    delivered_at  timestamptz NOT NULL,
    units         text[] NOT NULL
);
CREATE INDEX relay_delivery_groups_seq ON relay_delivery_groups (seq);

INSERT INTO relay_delivery_groups (seq, delivered_at, units)
    SELECT seq, delivered_at, array_agg(unit_id ORDER BY unit_id)
    FROM relay_deliveries GROUP BY seq, delivered_at;

DROP TABLE relay_deliveries;

CREATE VIEW relay_deliveries AS
    SELECT g.seq, u.unit_id, min(g.delivered_at) AS delivered_at
    FROM relay_delivery_groups AS g, unnest(g.units) AS u(unit_id)
    GROUP BY g.seq, u.unit_id;

GRANT SELECT, INSERT ON relay_delivery_groups TO relay_app;
GRANT SELECT ON relay_deliveries TO relay_app;
