-- Automation runs: the durable queue (leases fenced by tokens from the 'fencing' sequence row)
-- and each run's step records. Times are Unix microseconds (UTC); ids and JSON are TEXT.

CREATE TABLE automation_runs (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    automation TEXT NOT NULL,
    trigger_key TEXT NOT NULL,
    trigger_data TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER,
    error TEXT,
    dispatches INTEGER NOT NULL,
    -- The live lease, while status = 'running'; NULL otherwise.
    holder TEXT,
    lease_token INTEGER,
    lease_expires_at INTEGER,
    -- The deduplication point: one run per trigger.
    UNIQUE (tenant, automation, trigger_key)
);
-- What a claim scans: due queued and waiting runs, and running ones whose lease may have lapsed
-- (also where live leases are counted).
CREATE INDEX automation_runs_due ON automation_runs (due_at, id) WHERE status IN ('queued', 'waiting');
CREATE INDEX automation_runs_leased ON automation_runs (lease_expires_at) WHERE status = 'running';
-- The pending count of enqueue's max_pending.
CREATE INDEX automation_runs_unfinished ON automation_runs (tenant) WHERE status IN ('queued', 'running', 'waiting');
-- Listing, newest first.
CREATE INDEX automation_runs_tenant ON automation_runs (tenant, id);

CREATE TABLE automation_steps (
    run_id TEXT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    tenant TEXT NOT NULL,
    -- The order steps were first saved in; a replacement keeps it.
    ordinal INTEGER NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    PRIMARY KEY (run_id, step)
);
