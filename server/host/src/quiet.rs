//! Handing memory back when the process goes quiet.
//!
//! A burst of queries (an agent's session over MCP, a user paging through
//! results) leaves the heap's arenas holding what it allocated and freed:
//! glibc keeps free pages of a thread's arena resident until that arena
//! allocates again, and the HTTP and query threads each have one. After
//! the MCP load (64 clients, 32,000 calls) the release gives back 8 MB
//! (353 -> 345 MB): most of what the load adds is live (sessions, caches).
//!
//! A small thread watches the host's activity (reads answered, changes
//! applied) and, once a burst is over and nothing has happened for
//! [`QUIET`], returns the free pages to the system once. When nothing has
//! happened for [`IDLE`] either, it drops the embedding sessions only a busy
//! process needs (the query session's prepacked weights, 42 MB; the
//! helpers) and the model's mapped pages, and trims again: the language
//! server kept all day pays for them only while it is used. Then it waits
//! for the next burst. It never runs during activity, so a query does not
//! pay for it; nothing is done while the process is idle and already
//! released.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::Shared;

/// How long without a read or a change before free memory is handed back:
/// longer than the pause between an agent's calls or a user's keystrokes
/// (the MCP load's clients think for 200 ms; typing pauses are shorter), so
/// that a trim never lands inside a burst and the next call never finds its
/// arena emptied.
const QUIET: Duration = Duration::from_secs(2);

/// How long without a read or a change before the sessions only a busy
/// process needs are dropped: the first query after it loads its session
/// again (about 50 ms), so not within a user's pause to read an answer or
/// an agent's pause between steps, and well within the hours an editor
/// keeps the language server idle.
const IDLE: Duration = Duration::from_secs(60);

/// Starts the watch; it ends with the host (it holds only a weak handle).
pub(crate) fn start(shared: Weak<Shared>) {
    let spawned = std::thread::Builder::new()
        .name("dowse-quiet".into())
        .spawn(move || watch(shared));
    if let Err(err) = spawned {
        tracing::warn!("cannot start the idle memory release: {err}");
    }
}

fn watch(shared: Weak<Shared>) {
    let mut seen = None;
    let mut since = Instant::now();
    let (mut trimmed, mut released) = (true, true);
    loop {
        std::thread::sleep(QUIET);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let now = Some(activity(&shared));
        if now != seen {
            // Busy since the last look: wait for a quiet spell.
            seen = now;
            since = Instant::now();
            (trimmed, released) = (false, false);
        } else if !trimmed {
            dowse_engine::release_free_memory();
            trimmed = true;
        } else if !released && since.elapsed() >= IDLE {
            if shared.model.release_idle() {
                tracing::debug!("idle: the query and helper embedding sessions released");
                dowse_engine::release_free_memory();
            }
            released = true;
        }
    }
}

/// Changes whenever the host answered a read, applied a change or embedded
/// chunks (a first embedding runs for minutes without another change).
fn activity(shared: &Shared) -> (u64, u64, u64, bool) {
    let state = shared.state.borrow();
    (
        shared.reads.load(Ordering::Acquire),
        shared.generation.load(Ordering::Acquire),
        state.vectors,
        state.graphs_building,
    )
}
