//! How freed memory goes back to the system.
//!
//! Webhook bodies may be 25 MiB each. glibc's malloc serves an allocation that large by mapping
//! it, and unmaps it when it is freed, but only until the first such free: then it raises its
//! mapping threshold to that size (up to 32 MiB) and serves later large bodies from its
//! per-thread heaps, which keep what is freed. With several threads taking turns at large
//! bodies, each heap kept tens of MiB, and the resident set grew past what the in-flight body
//! budget (`max_inflight_body_bytes`) is there to bound. A fixed threshold keeps every
//! allocation of [`MAPPED_FROM_BYTES`] or more mapped, and returned on free.

/// Allocations at least this large are mapped on their own and unmapped when freed. Far above
/// what a request of an ordinary webhook allocates, so the hot path never pays for a mapping.
const MAPPED_FROM_BYTES: i32 = 1 << 20;

/// Makes large allocations go back to the system when freed; called once at start. Only glibc
/// has the dynamic threshold this undoes.
pub fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; it takes the allocator's lock and
    // is safe to call at any time, from any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM_BYTES);
    }
}
