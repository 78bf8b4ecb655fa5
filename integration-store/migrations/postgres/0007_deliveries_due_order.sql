-- Due deliveries are claimed in the order of this index (when due, then id), so a claim reads
-- only the rows it takes, however long the queue: ordered by id alone, every claim sorted the
-- whole backlog.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status IN ('queued', 'retrying', 'processing');
