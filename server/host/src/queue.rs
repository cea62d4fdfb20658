//! The change queue between the front ends and the writer: bounded, and
//! never dropping an edit.
//!
//! Edits (buffer texts, closes, files changed on disk) coalesce where they
//! are sent: the newest text of a buffer replaces one not yet taken, a
//! close cancels a pending text (and a later text cancels the close), and
//! file events join one set of paths (past [`MAX_PATHS`] distinct paths,
//! "reconcile everything"). So pending edits take memory in proportion to
//! the files involved, never to how fast an editor sends, and the channel
//! to the writer carries only a wake-up for them plus the few control
//! messages (reindex, settle, shutdown...). It is bounded: a sender that
//! finds it full waits (back-pressure); nothing is dropped.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

/// Distinct changed paths kept before a change on disk becomes "anything
/// may have changed" (a `git checkout` of a large tree): a full reconcile
/// costs a walk, a set of a million paths costs memory.
pub(crate) const MAX_PATHS: usize = 10_000;

/// Control messages the channel holds at most; senders wait beyond it.
pub(crate) const CHANNEL_CAPACITY: usize = 1024;

/// A buffer's latest state, not yet taken by the writer.
pub(crate) enum BufferEdit {
    Text(String),
    Close,
}

/// Edits not yet taken by the writer, coalesced.
#[derive(Default)]
pub(crate) struct Edits {
    /// Each buffer's newest edit, with its sequence number.
    pub(crate) buffers: HashMap<PathBuf, (u64, BufferEdit)>,
    pub(crate) files: HashSet<PathBuf>,
    /// Some event could not name its files, or too many changed.
    pub(crate) files_all: bool,
}

impl Edits {
    fn is_empty(&self) -> bool {
        self.buffers.is_empty() && self.files.is_empty() && !self.files_all
    }
}

/// The pending edits, shared by every sender and the writer.
#[derive(Default)]
pub(crate) struct Pending {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    edits: Edits,
    /// The number given to the last buffer edit.
    last_seq: u64,
    /// Buffer edits sent but not yet applied by the writer, by path: the
    /// number of the newest. Reads that must see the editor's latest text
    /// (find usages, similar) settle first while any is left.
    unapplied: HashMap<PathBuf, u64>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("edits lock")
    }

    /// Records a buffer edit; true when the writer must be woken (nothing
    /// was pending: otherwise a wake-up is on its way already).
    pub(crate) fn buffer(&self, path: PathBuf, edit: BufferEdit) -> bool {
        let mut state = self.lock();
        let wake = state.edits.is_empty();
        state.last_seq += 1;
        let seq = state.last_seq;
        state.unapplied.insert(path.clone(), seq);
        state.edits.buffers.insert(path, (seq, edit));
        wake
    }

    /// The writer applied `path`'s edit number `seq` (its text is in the
    /// overlay, or its close is done): the path is settled unless a newer
    /// edit came meanwhile.
    pub(crate) fn applied(&self, path: &std::path::Path, seq: u64) {
        let mut state = self.lock();
        if state.unapplied.get(path) == Some(&seq) {
            state.unapplied.remove(path);
        }
    }

    /// True when every buffer edit sent so far has been applied.
    pub(crate) fn buffers_applied(&self) -> bool {
        self.lock().unapplied.is_empty()
    }

    /// Records files changed on disk (none named: anything may have).
    pub(crate) fn files(&self, paths: Vec<PathBuf>) -> bool {
        let mut state = self.lock();
        let edits = &mut state.edits;
        let wake = edits.is_empty();
        if paths.is_empty() {
            edits.files_all = true;
        }
        edits.files.extend(paths);
        if edits.files.len() > MAX_PATHS {
            edits.files.clear();
            edits.files_all = true;
        }
        wake
    }

    /// Everything pending, for the writer.
    pub(crate) fn take(&self) -> Edits {
        std::mem::take(&mut self.lock().edits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_coalesce_per_path_and_wake_the_writer_once() {
        let pending = Pending::default();
        let a = PathBuf::from("/w/a.py");
        assert!(pending.buffer(a.clone(), BufferEdit::Text("1".to_owned())));
        for i in 0..1000 {
            let text = i.to_string();
            assert!(!pending.buffer(a.clone(), BufferEdit::Text(text)));
        }
        assert!(!pending.files(vec![PathBuf::from("/w/b.py")]));
        let taken = pending.take();
        assert_eq!(taken.buffers.len(), 1);
        match &taken.buffers[&a].1 {
            BufferEdit::Text(text) => assert_eq!(text, "999"),
            BufferEdit::Close => panic!("the newest edit is a text"),
        }
        assert_eq!(taken.files.len(), 1);
        // Taken: the next edit wakes the writer again.
        assert!(
            pending.files(
                (0..=MAX_PATHS)
                    .map(|i| PathBuf::from(format!("/w/{i}")))
                    .collect()
            )
        );
        let taken = pending.take();
        assert!(taken.files_all && taken.files.is_empty());
    }

    #[test]
    fn a_path_is_settled_when_its_newest_edit_is_applied() {
        let pending = Pending::default();
        let a = PathBuf::from("/w/a.py");
        assert!(pending.buffers_applied());
        pending.buffer(a.clone(), BufferEdit::Text("1".to_owned()));
        let (first, _) = pending.take().buffers.remove(&a).unwrap();
        pending.buffer(a.clone(), BufferEdit::Text("2".to_owned()));
        // The writer applies the text it took; a newer one is on its way.
        pending.applied(&a, first);
        assert!(!pending.buffers_applied());
        let (second, _) = pending.take().buffers.remove(&a).unwrap();
        pending.buffer(a.clone(), BufferEdit::Close);
        pending.applied(&a, second);
        assert!(!pending.buffers_applied(), "the close is not applied yet");
        let (close, _) = pending.take().buffers.remove(&a).unwrap();
        pending.applied(&a, close);
        assert!(pending.buffers_applied());
    }
}
