//! Handing freed memory back to the system.

/// Returns the heap's free pages to the system (glibc's `malloc_trim`; a
/// no-op elsewhere). glibc keeps what a burst of work freed — in the arenas
/// of threads that are done, and under a mapping threshold that grows with
/// every large block freed — resident until the same arena allocates again.
/// Called after such bursts: the CLI's lexical phase before embedding, and
/// an HNSW graph build (instant-distance holds its bottom layer twice at the
/// end of one, 17 MB for the CPython stdlib's 63,783 vectors).
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
