-- The integrations SDK's stores. Times are Unix microseconds (UTC); ids and JSON are TEXT.

CREATE SEQUENCE fencing_tokens;

CREATE TABLE configs (
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    domain TEXT NOT NULL,
    provider TEXT NOT NULL,
    settings TEXT NOT NULL,
    sealed_secrets TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_account_id TEXT,
    last_sync_at BIGINT,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection)
);

CREATE TABLE checkpoints (
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    stream TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    run_id TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection, stream)
);

CREATE TABLE sync_runs (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    connection TEXT NOT NULL,
    stream TEXT NOT NULL,
    run TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE leases (
    tenant TEXT NOT NULL,
    lease_key TEXT NOT NULL,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, lease_key)
);

CREATE TABLE refresh_locks (
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection)
);

CREATE TABLE tokens (
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    sealed TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection)
);

CREATE TABLE claims (
    tenant TEXT NOT NULL,
    namespace TEXT NOT NULL,
    claim_key TEXT NOT NULL,
    token BIGINT NOT NULL,
    completed BIGINT NOT NULL,
    until BIGINT NOT NULL,
    outcome TEXT,
    completed_at BIGINT,
    PRIMARY KEY (tenant, namespace, claim_key)
);

CREATE TABLE records (
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    stream TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    data TEXT NOT NULL,
    remote_data TEXT,
    hash TEXT NOT NULL,
    modified_at BIGINT,
    deleted BIGINT NOT NULL,
    seen_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection, stream, remote_id)
);

-- One row per tenant: appending a change takes this row's lock until commit, so a tenant's
-- sequence numbers become visible in order and a reader never skips a change.
CREATE TABLE change_counters (tenant TEXT PRIMARY KEY NOT NULL, seq BIGINT NOT NULL);

CREATE TABLE changes (
    tenant TEXT NOT NULL,
    seq BIGINT NOT NULL,
    connection TEXT NOT NULL,
    stream TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    previous TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (tenant, seq)
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    connection TEXT NOT NULL,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    rejection TEXT,
    outcome TEXT,
    completed_at BIGINT
);
-- The deduplication point: one delivery per event and connection (rejections aside).
CREATE UNIQUE INDEX deliveries_event ON deliveries (tenant, connection, provider, event_id) WHERE status <> 'rejected';
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('queued', 'retrying', 'processing');
CREATE INDEX deliveries_tenant ON deliveries (tenant, id);

CREATE TABLE audit_events (
    tenant TEXT NOT NULL,
    at BIGINT NOT NULL,
    connection TEXT,
    provider TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant, at);
