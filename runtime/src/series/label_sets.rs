//! The label sets one call site has seen, in front of the store: a call with a known set is one hash
//! and a lookup that writes nothing shared (no lock, no reference count), so threads on many cores read
//! it without contending; a new set is admitted against its metric's cap, or recorded under
//! `__overflow__` once the cap is reached.
//!
//! The sets are kept in an open-addressing table that only grows: a slot, once set, never changes, so
//! a reader needs no lock. Writers take a mutex; when the table is half full the next one, twice as
//! large, is filled and published, and readers move to it. The tables before it stay, unread, so that
//! a reader still probing one is never left with freed memory; they add up to less than the last one.
//! Entries live as long as the program, as the handles they lead to do; the cap bounds them.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

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

/// Slots of the first table.
const FIRST_TABLE: usize = 8;
/// Tables a site may grow through: the last holds `8 << 27` slots, far past any cap.
const TABLES: usize = 28;

/// One label set's values and what they resolved to.
#[derive(Debug)]
struct Entry<V> {
    hash: u64,
    values: Box<[Box<str>]>,
    value: V,
}

type Table<V> = Box<[OnceLock<&'static Entry<V>>]>;

/// Label sets seen at one call site and what each resolved to (handles the site keeps).
#[derive(Debug)]
pub(crate) struct LabelSets<V: 'static> {
    hasher: RandomState,
    /// Tables of `FIRST_TABLE << i` slots; readers probe the one `current` names.
    tables: [OnceLock<Table<V>>; TABLES],
    current: AtomicUsize,
    /// Held to add a set; the number of sets.
    adding: Mutex<usize>,
    /// What every set past the cap resolves to.
    overflow: OnceLock<V>,
}

impl<V: Copy> LabelSets<V> {
    pub(crate) fn new() -> Self {
        let sets = LabelSets {
            hasher: RandomState::new(),
            tables: [const { OnceLock::new() }; TABLES],
            current: AtomicUsize::new(0),
            adding: Mutex::new(0),
            overflow: OnceLock::new(),
        };
        let _ = sets.tables[0].set(empty(FIRST_TABLE));
        sets
    }

    /// What `values` resolve to: found, or made by `make` when the store admits a new set of `metric`,
    /// or the overflow value (made once, from `__overflow__` values) when it does not.
    #[inline]
    pub(crate) fn get(
        &self,
        store: &Store,
        metric: &str,
        values: &[&str],
        make: impl FnOnce(&[&str]) -> V,
    ) -> V {
        let hash = self.hash(values);
        match self.find(hash, values) {
            Some(found) => found,
            None => self.add(hash, store, metric, values, make),
        }
    }

    /// The values' hash, from one write of them into the hasher when they are short (each value then
    /// `0xff`, a byte no UTF-8 text has, so the encoding is unambiguous): a write per value and
    /// separator costs several times more, on the path of every request.
    #[inline]
    fn hash(&self, values: &[&str]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        // Small, as zeroing it is paid on every call; longer sets go through in more writes.
        let mut buf = [0u8; 64];
        let mut len = 0;
        for value in values {
            match buf.get_mut(len..len + value.len() + 1) {
                Some(room) => {
                    room[..value.len()].copy_from_slice(value.as_bytes());
                    room[value.len()] = 0xff;
                    len += value.len() + 1;
                }
                None => {
                    hasher.write(&buf[..len]);
                    hasher.write(value.as_bytes());
                    hasher.write_u8(0xff);
                    len = 0;
                }
            }
        }
        hasher.write(&buf[..len]);
        hasher.finish()
    }

    /// Probes the current table; writes nothing.
    #[inline]
    fn find(&self, hash: u64, values: &[&str]) -> Option<V> {
        let current = self.current.load(Ordering::Acquire);
        let table = self.tables[current].get()?;
        let mask = table.len() - 1;
        let mut i = hash as usize & mask;
        // The table is at most half full, so the probe ends at an empty slot.
        while let Some(entry) = table[i].get() {
            if entry.hash == hash
                && entry.values.len() == values.len()
                && entry.values.iter().zip(values).all(|(a, b)| &**a == *b)
            {
                return Some(entry.value);
            }
            i = (i + 1) & mask;
        }
        None
    }

    #[cold]
    #[inline(never)]
    fn add(
        &self,
        hash: u64,
        store: &Store,
        metric: &str,
        values: &[&str],
        make: impl FnOnce(&[&str]) -> V,
    ) -> V {
        let mut sets = self.adding.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = self.find(hash, values) {
            return found;
        }
        // Once this site has overflowed it stays full (the metric's count only grows), so hostile
        // values past the cap go straight to the overflow, without asking the store again.
        // The last table is never filled past half: a cap that high is taken as reached.
        let room = (*sets + 1) * 2 <= FIRST_TABLE << (TABLES - 1);
        if self.overflow.get().is_some() || !room || !store.admit(metric) {
            drop(sets);
            store.overflowed(metric);
            return *self
                .overflow
                .get_or_init(|| make(&vec![OVERFLOW_VALUE; values.len()]));
        }
        let entry: &'static Entry<V> = Box::leak(Box::new(Entry {
            hash,
            values: values.iter().map(|v| Box::from(*v)).collect(),
            value: make(values),
        }));
        let mut current = self.current.load(Ordering::Relaxed);
        if (*sets + 1) * 2 > FIRST_TABLE << current {
            // Fill the next table before readers are sent to it.
            let next = empty(FIRST_TABLE << (current + 1));
            let old = self.tables[current]
                .get()
                .into_iter()
                .flat_map(|t| t.iter());
            for e in old.filter_map(|slot| slot.get()) {
                place(&next, e);
            }
            let _ = self.tables[current + 1].set(next);
            current += 1;
            self.current.store(current, Ordering::Release);
        }
        if let Some(table) = self.tables[current].get() {
            place(table, entry);
        }
        *sets += 1;
        entry.value
    }
}

fn empty<V>(slots: usize) -> Table<V> {
    (0..slots).map(|_| OnceLock::new()).collect()
}

/// Puts `entry` in the first empty slot of its probe sequence (under the `adding` mutex).
fn place<V>(table: &Table<V>, entry: &'static Entry<V>) {
    let mask = table.len() - 1;
    let mut i = entry.hash as usize & mask;
    while table[i].set(entry).is_err() {
        i = (i + 1) & mask;
    }
}

/// In front of [`LabelSets`], the label sets a call site records most, one slot per `key % SLOTS` (a
/// status code, say): each slot is set by the first set of its key and only read after, so the usual
/// calls compare a few short values instead of hashing them, and no call writes a shared line.
#[derive(Debug)]
pub(crate) struct Recent<V: 'static> {
    slots: [OnceLock<Kept<V>>; SLOTS],
}

/// A label set kept in a slot of [`Recent`], and what it resolved to.
type Kept<V> = (Box<[Box<str>]>, V);

const SLOTS: usize = 8;

/// Whether two label values are equal, compared here: `==` on `str` calls the C library's `bcmp`,
/// whose call costs more than comparing the few bytes of a method, a status or a route.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .all(|(x, y)| x == y);
    tail && a8.zip(b8).all(|(x, y)| {
        u64::from_ne_bytes(x.try_into().unwrap_or_default())
            == u64::from_ne_bytes(y.try_into().unwrap_or_default())
    })
}

impl<V: Copy> Recent<V> {
    pub(crate) const fn new() -> Self {
        Recent {
            slots: [const { OnceLock::new() }; SLOTS],
        }
    }

    /// What `values` resolve to: from the slot of `key` when it holds them, else from `find` (kept in
    /// the slot if it is still empty).
    #[inline]
    pub(crate) fn get(&self, key: usize, values: &[&str], find: impl FnOnce() -> V) -> V {
        let slot = &self.slots[key % SLOTS];
        if let Some((kept, value)) = slot.get() {
            if kept.len() == values.len() && kept.iter().zip(values).all(|(k, v)| same(k, v)) {
                return *value;
            }
        }
        let value = find();
        if slot.get().is_none() {
            let _ = slot.set((values.iter().map(|v| Box::from(*v)).collect(), value));
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Limits;

    #[test]
    fn values_compare_as_str_does() {
        let texts: Vec<String> = (0..40)
            .flat_map(|n| ["a".repeat(n), format!("{}b", "a".repeat(n)), "é".repeat(n)])
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn recent_slots_keep_the_first_set_of_their_key_and_fall_back_for_others() {
        let recent: Recent<u32> = Recent::new();
        let mut found = 0;
        let mut find = |v| {
            found += 1;
            v
        };
        assert_eq!(recent.get(200, &["GET", "/a", "200"], || find(1)), 1);
        assert_eq!(recent.get(200, &["GET", "/a", "200"], || find(9)), 1); // from the slot
        assert_eq!(recent.get(200, &["GET", "/b", "200"], || find(2)), 2); // same slot, other set
        assert_eq!(recent.get(200, &["GET", "/b", "200"], || find(2)), 2); // not kept: looked up again
        assert_eq!(recent.get(404, &["GET", "/a", "404"], || find(3)), 3);
        assert_eq!(found, 4);
    }

    #[test]
    fn sets_are_found_across_growth_and_capped() {
        let store = Store::new(Limits {
            max_series: 100,
            ..Limits::default()
        });
        let sets: LabelSets<usize> = LabelSets::new();
        let made = std::sync::atomic::AtomicUsize::new(0);
        let values: Vec<String> = (0..150).map(|i| format!("v{i}")).collect();
        let get = |v: &str| {
            sets.get(&store, "m", &[v, "x"], |_| {
                made.fetch_add(1, Ordering::Relaxed) + 1
            })
        };
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for v in &values[..100] {
                        let first = get(v);
                        assert_eq!(get(v), first, "a set keeps what it resolved to");
                    }
                });
            }
        });
        assert_eq!(made.load(Ordering::Relaxed), 100, "each set made once");
        let overflow = get(&values[120]);
        assert_eq!(
            get(&values[149]),
            overflow,
            "past the cap: one overflow value"
        );
        assert_eq!(made.load(Ordering::Relaxed), 101);
        let mut seen: Vec<usize> = values[..100].iter().map(|v| get(v)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 100, "every admitted set is still found");
        assert_eq!(
            sets.get(&store, "m", &["v1"], |_| 0),
            overflow,
            "another length is another set"
        );
    }
}
