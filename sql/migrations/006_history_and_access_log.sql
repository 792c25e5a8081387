-- The HTTP history API (GET /v1/alerts): columns derived from the hashed body for the
-- flight and text filters, indexes for the filters, and the auditors' access log.

-- The body is UTF-8 JSON (the database encoding is UTF-8), so decoding it is immutable.
CREATE FUNCTION relay_body(p_body bytea) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT convert_from(p_body, 'UTF8')::jsonb
$$;

ALTER TABLE relay_events
    ADD COLUMN flight_number text GENERATED ALWAYS AS (relay_body(body_json) -> 'flight' ->> 'number') STORED,
    ADD COLUMN summary text GENERATED ALWAYS AS (relay_body(body_json) ->> 'summary') STORED;

CREATE INDEX relay_events_alerts_by_seq ON relay_events (seq DESC) WHERE kind = 'alert';
CREATE INDEX relay_events_received ON relay_events (received_at) WHERE kind = 'alert';
CREATE INDEX relay_events_origin ON relay_events (origin_unit, seq DESC) WHERE kind = 'alert';
CREATE INDEX relay_events_flight ON relay_events (flight_number, seq DESC) WHERE kind = 'alert';
CREATE INDEX relay_events_airports ON relay_events USING gin (airports) WHERE kind = 'alert';
CREATE INDEX relay_events_countries ON relay_events USING gin (countries) WHERE kind = 'alert';
CREATE INDEX relay_events_commodities ON relay_events USING gin (commodities) WHERE kind = 'alert';

-- Text search in summaries uses trigram indexes when the extension may be created here.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX relay_events_summary ON relay_events USING gin (summary gin_trgm_ops)'
            ' WHERE kind = ''alert''';
EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available: q= searches will scan';
END;
$$;

-- Every request of a unit with role audit, and every export (protocol.md "HTTP API").
CREATE TABLE relay_access_log (
    entry_id    bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    unit_id     text NOT NULL,
    method      text NOT NULL,
    path        text NOT NULL,
    query       jsonb NOT NULL,
    rows        integer,
    status      integer NOT NULL
);
CREATE INDEX relay_access_log_unit ON relay_access_log (unit_id, entry_id DESC);

GRANT SELECT, INSERT ON relay_access_log TO relay_app;
GRANT USAGE ON SEQUENCE relay_access_log_entry_id_seq TO relay_app;
