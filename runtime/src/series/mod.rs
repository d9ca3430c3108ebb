//! Where every series lives: one store for every kind of call site, and the exposition.
//!
//! | file | holds |
//! |---|---|
//! | `native.rs` | the series mvi keeps in plain atomics: counters, gauges and fixed-bucket histograms |
//! | `exemplar.rs` | the trace of a recent sample per counter and per bucket, written at most once per 100 ms |
//! | `shard.rs` | each thread's shard, and the per-shard blocks counters and histograms are split into, so cores do not share cache lines |
//! | `buckets.rs` | the default buckets and the one rule set for bucket bounds |
//! | `store.rs` | the store: every series by key, the per-metric cap on label sets and its overflow, a series' shape; it is also the global `metrics` recorder |
//! | `label_sets.rs` | the capped cache of label sets a call site keeps in front of the store |
//! | `render.rs` | the exposition: Prometheus text 0.0.4, or OpenMetrics 1.0 with exemplars |
//!
//! Gauges read at scrape time are read by `crate::declared` and rendered here, as they are read.

mod buckets;
mod exemplar;
mod label_sets;
mod native;
mod render;
pub(crate) mod shard;
mod store;

pub use buckets::DEFAULT_BUCKETS;
pub(crate) use buckets::check as check_buckets;
pub(crate) use exemplar::{clock, current as in_trace_now, in_trace};
pub use label_sets::OVERFLOW_VALUE;
pub(crate) use label_sets::{LabelSets, Recent};
pub(crate) use native::{FixedHistogram, NativeCounter};
pub use render::ExpositionFormat;
pub(crate) use store::{Limits, OVERFLOW_METRIC, ReadFamily, SHAPE_CONFLICT_METRIC, Store};
