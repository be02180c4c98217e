-- Accounts and access: users with a role and scopes, browser sessions, API tokens, the journal
-- of login attempts (for slow-down and lock-out) and the append-only audit log.
-- Secrets are never stored: passwords as argon2id hashes, session cookies and API tokens as
-- SHA-256 digests of high-entropy random values.

CREATE TABLE app_user (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    password_hash text,                  -- argon2id; NULL: no password login (tokens only)
    role          text NOT NULL CHECK (role IN ('admin', 'ars', 'carrier', 'observer')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    last_login_at timestamptz,
    CHECK (disabled = (disabled_at IS NOT NULL))
);
CREATE UNIQUE INDEX app_user_email ON app_user (email);

-- Regions an agency user (ars) or a task-force member (observer) works on.
-- No foreign key to `region`: the reference geography is reloaded as a whole by geodata.
CREATE TABLE user_region (
    user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    region  text NOT NULL CHECK (region ~ '^[0-9]{2}$'),
    PRIMARY KEY (user_id, region)
);

-- CPTS a carrier belongs to. `cpts_id` has no foreign key yet: the cpts table does not exist
-- before the perimeter migration, which adds `REFERENCES cpts (id)` to this column.
CREATE TABLE user_cpts (
    user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    cpts_id bigint NOT NULL,
    PRIMARY KEY (user_id, cpts_id)
);
CREATE INDEX user_cpts_cpts ON user_cpts (cpts_id);

-- Browser sessions: the cookie holds a random value, the table its SHA-256 digest.
CREATE TABLE user_session (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    secret_hash  bytea NOT NULL UNIQUE,
    csrf_token   text NOT NULL,          -- sent back in X-CSRF-Token on every write
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,   -- absolute end; the idle limit is applied on use
    ip           inet,
    user_agent   text
);
CREATE INDEX user_session_user ON user_session (user_id);
CREATE INDEX user_session_expires ON user_session (expires_at);

-- Personal API tokens for scripts (Authorization: Bearer). Revoked tokens are kept, listed.
CREATE TABLE api_token (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    secret_hash  bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,          -- the first characters, to recognise a token
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    last_used_ip inet,
    revoked_at   timestamptz
);
CREATE INDEX api_token_user ON api_token (user_id);

-- Every login attempt, kept to slow down and lock out guessing, per account and per address.
-- `outcome`: failure, success, or reset (an administrator unlocked the account).
-- Attempts on unknown e-mail addresses are counted too, so that a lock-out reveals nothing.
CREATE TABLE login_attempt (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    email        text NOT NULL,
    user_id      bigint REFERENCES app_user (id) ON DELETE SET NULL,
    ip           inet,
    outcome      text NOT NULL CHECK (outcome IN ('failure', 'success', 'reset'))
);
CREATE INDEX login_attempt_email ON login_attempt (email, attempted_at DESC);
CREATE INDEX login_attempt_ip ON login_attempt (ip, attempted_at DESC) WHERE outcome = 'failure';

-- The audit log: who did what, when, from where. Append-only, enforced below.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id    bigint REFERENCES app_user (id),
    actor_email text,                    -- kept as it was when the action happened
    via         text NOT NULL CHECK (via IN ('session', 'token', 'cli', 'anonymous')),
    action      text NOT NULL,           -- e.g. user.create, token.revoke, session.login
    entity      text NOT NULL,           -- e.g. user, api_token, session, cpts
    entity_id   text,
    summary     text NOT NULL,           -- one French sentence for people
    changes     jsonb NOT NULL DEFAULT '{}',  -- field -> {"before": …, "after": …}, never secrets
    regions     text[] NOT NULL DEFAULT '{}', -- regions concerned: who among agencies may read it
    ip          inet,
    origin      text                     -- user agent, or "cli user@host"
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id);
CREATE INDEX audit_log_regions ON audit_log USING gin (regions);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
