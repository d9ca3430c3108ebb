//! A library that observes its functions and installs nothing: the application that uses it decides.
//! Until an application installs mvi (or another `metrics` recorder), an observed call records nothing
//! and allocates nothing; once it has, the same calls are in its `/metrics`. This file plays both parts.
//!
//! ```sh
//! cargo run --example library
//! curl -s http://127.0.0.1:9464/metrics | grep function_calls_total
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

mod geo {
    //! The library: `#[mvi::observe]` on its API, and no `install`.

    /// The great-circle distance between two (latitude, longitude) points, in kilometres.
    #[mvi::observe]
    pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
        let (a, b) = (from.0.to_radians(), to.0.to_radians());
        let (dlat, dlon) = (b - a, (to.1 - from.1).to_radians());
        let h = (dlat / 2.0).sin().powi(2) + a.cos() * b.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * 6371.0 * h.sqrt().asin()
    }
}

/// The application's allocator: the system's, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PARIS: (f64, f64) = (48.8566, 2.3522);
const BERLIN: (f64, f64) = (52.52, 13.405);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Nothing installed yet, and one thread: every allocation of the process is counted.
    let before = ALLOCATIONS.load(Relaxed);
    for _ in 0..1000 {
        std::hint::black_box(geo::distance_km(PARIS, BERLIN));
    }
    let allocations = ALLOCATIONS.load(Relaxed) - before;
    eprintln!("before install: 1000 calls, {allocations} allocations, nothing recorded");

    tokio::runtime::Runtime::new()?.block_on(async {
        let telemetry = mvi::Telemetry::builder().install()?; // the application decides
        let km = (0..3).map(|_| geo::distance_km(PARIS, BERLIN)).sum::<f64>() / 3.0;
        let admin = telemetry.admin_addr().expect("the admin server is on");
        eprintln!("after install: 3 calls ({km:.0} km); scrape http://{admin}/metrics");
        mvi::shutdown_signal().await;
        telemetry.shutdown().await;
        Ok(())
    })
}
