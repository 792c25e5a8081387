-- Tokens one at a time (admin.md "Tokens"): each has a public id safe to show and log, a
-- label, an optional expiry and the minute it was last used; a unit can be suspended
-- (revoked_at) and reinstated, and the admin actions are recorded in the access log.

ALTER TABLE relay_tokens
    ADD COLUMN public_id    text,
    ADD COLUMN label        text NOT NULL DEFAULT '',
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;
-- Tokens issued before this migration get a public id too (not a secret: random is enough).
UPDATE relay_tokens SET public_id = 'tok_' || substr(md5(token_id::text || random()::text), 1, 12)
    WHERE public_id IS NULL;
ALTER TABLE relay_tokens
    ALTER COLUMN public_id SET NOT NULL,
    ADD CONSTRAINT relay_tokens_public_id_key UNIQUE (public_id),
    ADD CONSTRAINT relay_tokens_public_id_form CHECK (public_id ~ '^tok_[a-z0-9]{12}$'),
    ADD CONSTRAINT relay_tokens_label_length CHECK (length(label) <= 200);

-- revoked_at of a unit now means "suspended since"; reinstated_at is when it last came back.
ALTER TABLE relay_units ADD COLUMN reinstated_at timestamptz;

-- Who did what to which unit or token: admin actions share the access log with the
-- requests of audit units. actor is the unit (HTTP) or "cli:<system user>" (the relay
-- command); never a token.
ALTER TABLE relay_access_log
    ADD COLUMN action text,
    ADD COLUMN target text;

-- The relay process administers units and tokens over HTTP (role admin) and records when a
-- token was last used; it still may not delete either.
GRANT INSERT ON relay_units TO relay_app;
GRANT UPDATE (roles, name, airport, revoked_at, reinstated_at) ON relay_units TO relay_app;
GRANT INSERT ON relay_tokens TO relay_app;
GRANT UPDATE (revoked_at, last_used_at) ON relay_tokens TO relay_app;
GRANT USAGE ON SEQUENCE relay_tokens_token_id_seq TO relay_app;
