//! The memory store's webhook deliveries: the log, its deduplication index and its queue.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::hash_table::Entry;
use hashbrown::{HashMap, HashTable};

use super::MemoryStore;
use crate::clock::expiry;
use crate::error::Result;
use crate::ids::{DeliveryId, TenantId};
use crate::store::{DeliveryOutcome, DeliveryQuery, DeliveryStatus, DeliveryStore, Recorded, WebhookDelivery, refusal};

/// Every delivery recorded, in arrival order, with its indexes. Recording one is a push and
/// three index inserts, with no key built: the deduplication index holds positions in the log
/// and compares the deliveries themselves.
#[derive(Debug)]
pub(super) struct Deliveries {
    log: Vec<WebhookDelivery>,
    /// Id to position.
    by_id: HashMap<DeliveryId, usize>,
    /// Whether every id recorded was greater than the one before (ids are UUIDv7s made on
    /// arrival, so this is the rule): the log is then in id order, as listing wants it.
    ids_ascending: bool,
    /// Positions of recorded (not rejected) deliveries, by tenant, connection, provider and
    /// event id: the deduplication point.
    by_event: HashTable<usize>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Positions of the deliveries not finished yet (queued, processing or retrying), oldest
    /// first: what a claim scans.
    unfinished: BTreeSet<usize>,
}

impl Default for Deliveries {
    fn default() -> Self {
        Self {
            log: Vec::new(),
            by_id: HashMap::new(),
            ids_ascending: true,
            by_event: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            unfinished: BTreeSet::new(),
        }
    }
}

fn is_unfinished(status: DeliveryStatus) -> bool {
    matches!(status, DeliveryStatus::Queued | DeliveryStatus::Retrying | DeliveryStatus::Processing)
}

fn same_event(a: &WebhookDelivery, b: &WebhookDelivery) -> bool {
    a.event_id == b.event_id && a.connection == b.connection && a.tenant == b.tenant && a.provider == b.provider
}

/// The deduplication index's hash of `d`: tenant, connection, provider and event id.
fn event_hash(hasher: &hashbrown::DefaultHashBuilder, d: &WebhookDelivery) -> u64 {
    hasher.hash_one((&d.tenant, &d.connection, &d.provider, &d.event_id))
}

impl Deliveries {
    fn record(&mut self, delivery: WebhookDelivery) -> Result<Recorded> {
        if self.by_id.contains_key(&delivery.id) {
            return Err(refusal::delivery_exists(delivery.id));
        }
        let at = self.log.len();
        if delivery.status != DeliveryStatus::Rejected {
            let (log, hasher) = (&self.log, &self.hasher);
            let hash = event_hash(hasher, &delivery);
            match self.by_event.entry(hash, |i| same_event(&log[*i], &delivery), |i| event_hash(hasher, &log[*i])) {
                Entry::Occupied(first) => return Ok(Recorded::Duplicate { existing: log[*first.get()].id }),
                Entry::Vacant(slot) => {
                    slot.insert(at);
                }
            }
        }
        self.by_id.insert(delivery.id, at);
        self.ids_ascending &= self.log.last().is_none_or(|last| last.id < delivery.id);
        if is_unfinished(delivery.status) {
            self.unfinished.insert(at);
        }
        self.log.push(delivery);
        Ok(Recorded::New)
    }

    fn get(&self, id: DeliveryId) -> Option<&WebhookDelivery> {
        self.by_id.get(&id).map(|at| &self.log[*at])
    }

    /// `tenant`'s delivery `id`, or a not-found refusal (another tenant's is not found either).
    fn tenant_delivery(&mut self, tenant: &TenantId, id: DeliveryId) -> Result<&mut WebhookDelivery> {
        match self.by_id.get(&id) {
            Some(at) if &self.log[*at].tenant == tenant => Ok(&mut self.log[*at]),
            _ => Err(refusal::no_delivery(tenant, id)),
        }
    }

    /// Keeps the queue index in step after `id`'s status changed.
    fn restatus(&mut self, id: DeliveryId, status: DeliveryStatus) {
        let Some(at) = self.by_id.get(&id).copied() else { return };
        if is_unfinished(status) {
            self.unfinished.insert(at);
        } else {
            self.unfinished.remove(&at);
        }
    }

    /// `tenant`'s deliveries matching `query`, newest (greatest id) first.
    fn list(&self, tenant: &TenantId, query: &DeliveryQuery) -> Vec<WebhookDelivery> {
        let matching = |d: &&WebhookDelivery| &d.tenant == tenant && query.matches(d);
        if self.ids_ascending {
            let end = query.before.map_or(self.log.len(), |before| self.log.partition_point(|d| d.id < before));
            return self.log[..end].iter().rev().filter(matching).take(query.effective_limit()).cloned().collect();
        }
        let mut found: Vec<&WebhookDelivery> = self.log.iter().filter(matching).collect();
        found.sort_unstable_by_key(|d| std::cmp::Reverse(d.id));
        found.into_iter().take(query.effective_limit()).cloned().collect()
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn record_delivery(&self, delivery: WebhookDelivery) -> Result<Recorded> {
        self.lock().deliveries.record(delivery)
    }

    async fn claim_due(&self, limit: usize, lease: Duration) -> Result<Vec<WebhookDelivery>> {
        let now = self.now();
        let mut state = self.lock();
        let deliveries = &mut state.deliveries;
        let mut claimed = Vec::new();
        for at in &deliveries.unfinished {
            if claimed.len() >= limit {
                break;
            }
            let d = &mut deliveries.log[*at];
            if d.next_attempt_at <= now {
                d.status = DeliveryStatus::Processing;
                d.attempts += 1;
                d.next_attempt_at = expiry(now, lease);
                claimed.push(d.clone());
            }
        }
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
        attempt: u32,
        outcome: DeliveryOutcome,
    ) -> Result<()> {
        let now = self.now();
        let mut state = self.lock();
        let d = state.deliveries.tenant_delivery(tenant, id)?;
        if d.status != DeliveryStatus::Processing || d.attempts != attempt {
            return Err(refusal::lapsed_delivery(id, attempt));
        }
        match outcome {
            DeliveryOutcome::Processed(summary) => {
                d.status = DeliveryStatus::Processed;
                d.outcome = Some(summary);
                d.completed_at = Some(now);
            }
            DeliveryOutcome::Retry { error, at } => {
                d.status = DeliveryStatus::Retrying;
                d.last_error = Some(error);
                d.next_attempt_at = at;
            }
            DeliveryOutcome::DeadLetter { error } => {
                d.status = DeliveryStatus::DeadLettered;
                d.last_error = Some(error);
                d.completed_at = Some(now);
            }
        }
        let status = d.status;
        state.deliveries.restatus(id, status);
        Ok(())
    }

    async fn delivery(&self, tenant: &TenantId, id: DeliveryId) -> Result<Option<WebhookDelivery>> {
        Ok(self.lock().deliveries.get(id).filter(|d| &d.tenant == tenant).cloned())
    }

    async fn list_deliveries(&self, tenant: &TenantId, query: &DeliveryQuery) -> Result<Vec<WebhookDelivery>> {
        Ok(self.lock().deliveries.list(tenant, query))
    }

    async fn replay(&self, tenant: &TenantId, id: DeliveryId) -> Result<()> {
        let now = self.now();
        let mut state = self.lock();
        let d = state.deliveries.tenant_delivery(tenant, id)?;
        match d.status {
            DeliveryStatus::Processing | DeliveryStatus::Rejected | DeliveryStatus::Queued => {
                Err(refusal::not_replayable(id, d.status))
            }
            _ => {
                d.status = DeliveryStatus::Queued;
                d.attempts = 0;
                d.next_attempt_at = now;
                d.completed_at = None;
                state.deliveries.restatus(id, DeliveryStatus::Queued);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::{ConnectionId, ProviderId};
    use crate::store::DeliveryHeaders;

    fn delivery(id: u128, event: &str) -> WebhookDelivery {
        let now = Utc::now();
        WebhookDelivery {
            id: DeliveryId::from(uuid::Uuid::from_u128(id)),
            tenant: TenantId::new("t").unwrap(),
            connection: ConnectionId::new("c").unwrap(),
            provider: ProviderId::new("p").unwrap(),
            event_id: event.into(),
            headers: DeliveryHeaders::new(),
            body: bytes::Bytes::new(),
            received_at: now,
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            rejection: None,
            outcome: None,
            completed_at: None,
        }
    }

    fn ids(list: &[WebhookDelivery]) -> Vec<u128> {
        list.iter().map(|d| d.id.as_uuid().as_u128()).collect()
    }

    #[test]
    fn lists_newest_id_first_whatever_the_arrival_order() {
        let tenant = TenantId::new("t").unwrap();
        for arrival in [[1, 2, 3, 4], [3, 1, 4, 2]] {
            let mut d = Deliveries::default();
            for id in arrival {
                assert_eq!(d.record(delivery(id, &format!("e{id}"))).unwrap(), Recorded::New);
            }
            assert_eq!(ids(&d.list(&tenant, &DeliveryQuery::new())), [4, 3, 2, 1], "arrived {arrival:?}");
            let before = DeliveryQuery::new().before(DeliveryId::from(uuid::Uuid::from_u128(3))).limit(1);
            assert_eq!(ids(&d.list(&tenant, &before)), [2], "arrived {arrival:?}");
        }
    }

    #[test]
    fn the_queue_index_follows_each_status() {
        let mut d = Deliveries::default();
        d.record(delivery(1, "a")).unwrap();
        assert_eq!(
            d.record(delivery(2, "a")).unwrap(),
            Recorded::Duplicate { existing: DeliveryId::from(uuid::Uuid::from_u128(1)) }
        );
        let mut rejected = delivery(3, "a");
        rejected.status = DeliveryStatus::Rejected;
        assert_eq!(d.record(rejected).unwrap(), Recorded::New, "a rejection is not a delivery of the event");
        assert_eq!(d.unfinished.iter().copied().collect::<Vec<_>>(), [0]);
        d.restatus(DeliveryId::from(uuid::Uuid::from_u128(1)), DeliveryStatus::Processed);
        assert!(d.unfinished.is_empty());
        d.restatus(DeliveryId::from(uuid::Uuid::from_u128(1)), DeliveryStatus::Queued);
        assert_eq!(d.unfinished.len(), 1);
        assert!(d.record(delivery(1, "b")).is_err(), "an id is recorded once");
    }
}
