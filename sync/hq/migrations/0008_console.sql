-- depends: 0007_token_reversal
-- The HQ console (/console/): franchise managers scoped to one franchise, each staff member's language, signed-in
-- sessions (the cookie holds a random id; only its hash is kept here) and alerts acknowledged with a note.
ALTER TABLE staff_users DROP CONSTRAINT staff_users_role_check;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check
    CHECK (role IN ('hq_admin', 'auditor', 'compliance', 'franchise_manager'));
ALTER TABLE staff_users ADD COLUMN franchise_id bigint REFERENCES franchises (id);
ALTER TABLE staff_users ADD CONSTRAINT staff_users_scope_check
    CHECK ((role = 'franchise_manager') = (franchise_id IS NOT NULL));
ALTER TABLE staff_users ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('ka', 'en', 'ru'));

CREATE TABLE console_sessions (
    id_hash     bytea PRIMARY KEY,            -- SHA-256 of the random session id in the cookie
    username    text NOT NULL REFERENCES staff_users (username),
    role        text NOT NULL,                -- the role signed in with: a change of role ends the session
    csrf        text NOT NULL,                -- the session's CSRF token (every form and htmx request sends it)
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX console_sessions_user ON console_sessions (username) WHERE ended_at IS NULL;

ALTER TABLE alerts ADD COLUMN acknowledged_by text;
ALTER TABLE alerts ADD COLUMN note text;
CREATE INDEX alerts_open ON alerts (created_at DESC) WHERE acknowledged_at IS NULL;

-- What each terminal last said it runs (its User-Agent with fresh blocks), shown in the console.
ALTER TABLE terminals ADD COLUMN software text;
