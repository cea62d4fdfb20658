//! The host's own watch on the workspace roots, for changes made outside any
//! editor (a `git checkout`, a generator, another tool). Events join the
//! pending changes on disk ([`crate::queue`]), where they coalesce.

use std::path::PathBuf;
use std::sync::Weak;

use notify::Watcher as _;

use crate::Shared;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
}

impl Watcher {
    /// Starts watching nothing yet; events under `ignored` directories (the
    /// index directories) and `.git` are dropped.
    pub(crate) fn start(
        shared: Weak<Shared>,
        ignored: std::sync::Arc<std::sync::RwLock<Vec<PathBuf>>>,
    ) -> notify::Result<Watcher> {
        let handler = move |event: notify::Result<notify::Event>| {
            // The host owns the watcher: a weak handle breaks the cycle.
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let Ok(event) = event else {
                // Lost events (an overflowed queue): reconcile everything.
                shared.files_changed(Vec::new());
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
                shared.files_changed(paths);
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
