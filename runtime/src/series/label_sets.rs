//! The label sets one call site has seen, in front of the store: a call with a known set is one hash
//! and one read-locked lookup; a new set is admitted against its metric's cap, or recorded under
//! `__overflow__` once the cap is reached.

use std::hash::{BuildHasher, RandomState};
use std::sync::{OnceLock, RwLock};

use hashbrown::HashTable;

use super::store::Store;

/// The value every label takes once its metric has reached its cap on label sets.
///
/// # Examples
///
/// ```
/// // What a series past its metric's cap is recorded as, in a query:
/// let query = format!(r#"sum(rate(http_requests_total{{route="{}"}}[5m]))"#, mvi::OVERFLOW_VALUE);
/// assert_eq!(query, r#"sum(rate(http_requests_total{route="__overflow__"}[5m]))"#);
/// ```
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// One label set's values and what they resolved to.
type Entry<V> = (Box<[Box<str>]>, V);

/// Label sets seen at one call site and what each resolved to (handles the site keeps).
#[derive(Debug)]
pub(crate) struct LabelSets<V: 'static> {
    hasher: RandomState,
    table: RwLock<HashTable<Entry<V>>>,
    /// What every set past the cap resolves to.
    overflow: OnceLock<V>,
}

impl<V: Copy> LabelSets<V> {
    pub(crate) fn new() -> Self {
        LabelSets {
            hasher: RandomState::new(),
            table: RwLock::new(HashTable::new()),
            overflow: OnceLock::new(),
        }
    }

    /// What `values` resolve to: found, or made by `make` when the store admits a new set of `metric`,
    /// or the overflow value (made once, from `__overflow__` values) when it does not.
    pub(crate) fn get(
        &self,
        store: &Store,
        metric: &str,
        values: &[&str],
        make: impl FnOnce(&[&str]) -> V,
    ) -> V {
        let hash = self.hasher.hash_one(values);
        let eq = |entry: &Entry<V>| {
            entry.0.len() == values.len() && entry.0.iter().zip(values).all(|(a, b)| &**a == *b)
        };
        if let Some((_, v)) = self
            .table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .find(hash, eq)
        {
            return *v;
        }
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = table.find(hash, eq) {
            return *v;
        }
        // Once this site has overflowed it stays full (the metric's count only grows), so hostile
        // values past the cap go straight to the overflow, without asking the store again.
        if self.overflow.get().is_some() || !store.admit(metric) {
            drop(table);
            store.overflowed(metric);
            return *self
                .overflow
                .get_or_init(|| make(&vec![OVERFLOW_VALUE; values.len()]));
        }
        let made = make(values);
        let stored: Box<[Box<str>]> = values.iter().map(|v| Box::from(*v)).collect();
        table.insert_unique(hash, (stored, made), |e| self.hasher.hash_one(&*e.0));
        made
    }
}
