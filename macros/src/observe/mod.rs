//! `#[observe]`: parse (`attr.rs`), validate (`attr.rs` with the shared `names.rs` and `buckets.rs`), expand
//! (`expand.rs`).

mod attr;
mod expand;

pub(crate) use attr::{path_key, skip_value, unknown_key};
pub(crate) use expand::observe;
