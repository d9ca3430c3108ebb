//! Shards: what keeps threads on many cores from writing one cache line.
//!
//! Each thread that records is given a shard index at its first record, and keeps it until it ends:
//! the index with the fewest live threads, so the worker threads of a runtime, started together,
//! spread over distinct shards. There are as many shards as the machine has cores, rounded up to a
//! power of two and at most [`MAX_SHARDS`]. A series keeps one block of [`Line`]s per shard, made the
//! first time a thread of that shard records into it (see [`Sharded`]), so a series that few threads
//! record into costs little memory; a scrape sums the blocks.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

/// The most shards a series is split into, whatever the number of cores.
pub(crate) const MAX_SHARDS: usize = 64;

/// Words of one [`Line`].
pub(crate) const LINE_WORDS: usize = 16;

/// A value alone on 128 bytes: a cache line, and the pair of lines that x86's adjacent-line
/// prefetcher moves together, so no two shards ever share either.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// 128 bytes of counters.
pub(crate) type Line = Padded<[AtomicU64; LINE_WORDS]>;

/// The number of shards: the machine's cores rounded up to a power of two, at most [`MAX_SHARDS`].
#[inline]
pub(crate) fn count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .next_power_of_two()
            .min(MAX_SHARDS)
    })
}

/// Threads alive on each shard.
static LIVE: [AtomicUsize; MAX_SHARDS] = [const { AtomicUsize::new(0) }; MAX_SHARDS];

thread_local! {
    /// This thread's shard, `usize::MAX` until its first record.
    static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Gives the shard back when the thread ends.
    static LEAVE: Leave = const { Leave(Cell::new(usize::MAX)) };
}

struct Leave(Cell<usize>);

impl Drop for Leave {
    fn drop(&mut self) {
        if let Some(live) = LIVE.get(self.0.get()) {
            live.fetch_sub(1, Relaxed);
        }
    }
}

/// This thread's shard, below [`count`].
#[inline]
pub(crate) fn index() -> usize {
    let index = INDEX.with(Cell::get);
    if index != usize::MAX {
        return index;
    }
    assign()
}

#[cold]
#[inline(never)]
fn assign() -> usize {
    // One thread at a time, so threads that start together (a runtime's workers) get distinct shards.
    static ASSIGNING: Mutex<()> = Mutex::new(());
    let _one = ASSIGNING.lock().unwrap_or_else(|e| e.into_inner());
    let index = LIVE[..count()]
        .iter()
        .enumerate()
        .min_by_key(|(_, live)| live.load(Relaxed))
        .map_or(0, |(i, _)| i);
    LIVE[index].fetch_add(1, Relaxed);
    INDEX.with(|i| i.set(index));
    // A thread that is ending (a record from another thread-local's destructor) keeps the shard.
    let _ = LEAVE.try_with(|leave| leave.0.set(index));
    index
}

/// `words` counters per shard, each shard's in lines of its own, made at the first record of a thread
/// of that shard.
#[derive(Debug)]
pub(crate) struct Sharded {
    words: usize,
    shards: Box<[OnceLock<Box<[Line]>>]>,
}

impl Sharded {
    pub(crate) fn new(words: usize) -> Self {
        Sharded {
            words,
            shards: (0..count()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// This thread's block.
    #[inline]
    pub(crate) fn local(&self) -> Block<'_> {
        let shard = &self.shards[index() & (self.shards.len() - 1)];
        Block(shard.get_or_init(|| {
            (0..self.words.div_ceil(LINE_WORDS))
                .map(|_| Line::default())
                .collect()
        }))
    }

    /// The sum of word `i` over every shard. Writers are not stopped: words recorded while it reads
    /// may be counted or not, each whole.
    pub(crate) fn sum(&self, i: usize) -> u64 {
        self.blocks().map(|b| b.word(i).load(Relaxed)).sum()
    }

    /// The blocks made so far.
    pub(crate) fn blocks(&self) -> impl Iterator<Item = Block<'_>> {
        self.shards.iter().filter_map(|s| s.get()).map(|b| Block(b))
    }

    /// Bytes this series holds: the table of shards, and the blocks made so far.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        let block = self.words.div_ceil(LINE_WORDS) * size_of::<Line>();
        size_of_val(&*self.shards) + self.blocks().count() * block
    }
}

/// One shard's words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block<'a>(&'a [Line]);

impl Block<'_> {
    #[inline]
    pub(crate) fn word(&self, i: usize) -> &AtomicU64 {
        &self.0[i / LINE_WORDS].0[i % LINE_WORDS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_shard() {
        let n = count();
        assert!(n.is_power_of_two() && n <= MAX_SHARDS);
        let mine = index();
        assert!(mine < n);
        assert_eq!(index(), mine, "a thread keeps its shard");
        let other = std::thread::spawn(index).join().unwrap();
        assert!(other < n);
    }

    #[test]
    fn sums_cover_every_shard() {
        let s = Sharded::new(20);
        assert_eq!(s.bytes(), count() * size_of::<OnceLock<Box<[Line]>>>());
        s.local().word(19).fetch_add(2, Relaxed);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| s.local().word(19).fetch_add(3, Relaxed));
            }
        });
        assert_eq!(s.sum(19), 14);
        assert_eq!(s.sum(0), 0);
        assert!(s.bytes() >= count() * 16 + 256);
    }
}
