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
    pub(crate) buffers: HashMap<PathBuf, BufferEdit>,
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
    edits: Mutex<Edits>,
}

impl Pending {
    /// Records a buffer edit; true when the writer must be woken (nothing
    /// was pending: otherwise a wake-up is on its way already).
    pub(crate) fn buffer(&self, path: PathBuf, edit: BufferEdit) -> bool {
        let mut edits = self.edits.lock().expect("edits lock");
        let wake = edits.is_empty();
        edits.buffers.insert(path, edit);
        wake
    }

    /// Records files changed on disk (none named: anything may have).
    pub(crate) fn files(&self, paths: Vec<PathBuf>) -> bool {
        let mut edits = self.edits.lock().expect("edits lock");
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
        std::mem::take(&mut *self.edits.lock().expect("edits lock"))
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
        match &taken.buffers[&a] {
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
}
