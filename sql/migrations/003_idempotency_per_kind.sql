-- Idempotency keys are per unit AND per kind of frame: a receipt id never resolves to an
-- alert published with the same id (and the reverse).

ALTER TABLE relay_idempotency ADD COLUMN event_kind text NOT NULL DEFAULT 'alert'
    CHECK (event_kind IN ('alert', 'receipt'));
UPDATE relay_idempotency k SET event_kind = e.kind FROM relay_events e WHERE e.seq = k.seq;
ALTER TABLE relay_idempotency DROP CONSTRAINT relay_idempotency_pkey;
ALTER TABLE relay_idempotency ADD PRIMARY KEY (unit_id, event_kind, key);
-- relay_append() (sql/functions/relay_append.sql) looks keys up with their kind.
