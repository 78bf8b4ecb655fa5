-- Sessions of the host's users (integration_sso::session::store::SessionStore), keyed by the
-- SHA-256 digest of their token: the token itself is never stored.

CREATE TABLE sessions (
    id TEXT NOT NULL PRIMARY KEY,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    roles TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked TEXT
);

CREATE INDEX sessions_by_user ON sessions (tenant, subject);
