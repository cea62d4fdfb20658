//! The host's own watch on the workspace roots, for changes made outside any
//! editor (a `git checkout`, a generator, another tool). Events become
//! [`Change::Files`] for the writer, which coalesces them.

use std::path::PathBuf;

use crossbeam_channel::Sender;
use notify::Watcher as _;

use crate::writer::Change;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
}

impl Watcher {
    /// Starts watching nothing yet; events under `ignored` directories (the
    /// index directories) and `.git` are dropped.
    pub(crate) fn start(
        inbox: Sender<Change>,
        ignored: std::sync::Arc<std::sync::RwLock<Vec<PathBuf>>>,
    ) -> notify::Result<Watcher> {
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                // Lost events (an overflowed queue): reconcile everything.
                let _ = inbox.send(Change::Files { paths: Vec::new() });
                return;
            };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let ignored = ignored.read().expect("ignored lock");
            let paths: Vec<PathBuf> = event
                .paths
                .into_iter()
                .filter(|p| {
                    !ignored.iter().any(|d| p.starts_with(d))
                        && !p.components().any(|c| c.as_os_str() == ".git")
                })
                .collect();
            if !paths.is_empty() {
                let _ = inbox.send(Change::Files { paths });
            }
        };
        Ok(Watcher {
            inner: notify::recommended_watcher(handler)?,
        })
    }

    pub(crate) fn watch(&mut self, root: &std::path::Path) -> notify::Result<()> {
        self.inner.watch(root, notify::RecursiveMode::Recursive)
    }

    pub(crate) fn unwatch(&mut self, root: &std::path::Path) {
        let _ = self.inner.unwatch(root);
    }
}
