//! [`PerKey`]: one shared value per key, made on first use — the process's circuit breakers per
//! host, rate limiters per provider × tenant, retry budgets per provider, token slots per
//! connection.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use hashbrown::HashMap;

/// One `Arc<V>` per key; the first maker for a key wins and later callers share its value.
#[derive(Debug)]
pub(crate) struct PerKey<K, V> {
    values: Mutex<HashMap<K, Arc<V>>>,
}

impl<K, V> Default for PerKey<K, V> {
    fn default() -> Self {
        Self { values: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq, V> PerKey<K, V> {
    /// The value for `key`, made by `make` if there is none yet. Looks up by a borrowed key, so
    /// a hit allocates nothing.
    pub(crate) fn get_or_make<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> Arc<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(value) = values.get(key) {
            return Arc::clone(value);
        }
        let value = Arc::new(make());
        values.insert(key.to_owned(), Arc::clone(&value));
        value
    }
}
