//! The workspace's roots: opening one (its layered settings, its own index
//! directory beside the first root's, its name), closing one, and finding
//! the root that holds a path.

use std::path::Path;
use std::sync::Arc;

use dowse_engine::{Config, Engine, EngineError, EngineWriter};

use crate::{Root, Shared};

impl Shared {
    /// Opens `path` as a root and returns its index's writer (nothing when
    /// it is a root already): the caller is, or hands it to, the writer
    /// thread.
    pub(crate) fn open_root(&self, path: &Path) -> Result<Option<EngineWriter>, EngineError> {
        let canonical = path
            .canonicalize()
            .map_err(|_| EngineError::NoWorkspace(path.to_path_buf()))?;
        if self.roots().iter().any(|r| r.path == canonical) {
            return Ok(None);
        }
        let (mut config, errors) = Config::layered(&canonical, &self.sources);
        for error in errors {
            self.report_error(error.to_string());
        }
        let existing = self.roots();
        // An index directory given for the workspace is the first root's;
        // other roots get one of their own beside it.
        if !existing.is_empty()
            && let Some(dir) = &config.index_dir
        {
            let key = dowse_engine::index_key(&canonical);
            config.index_dir = Some(dir.join("roots").join(key));
        }
        let engine = Engine::open_with(&canonical, config, self.model.clone())?;
        for recovery in engine.recoveries() {
            tracing::warn!("recovered the index of {}: {recovery}", canonical.display());
        }
        let base = canonical.file_name().map_or_else(
            || "workspace".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut name = base.clone();
        let mut n = 2;
        while existing.iter().any(|r| r.name == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.ignored
            .write()
            .expect("ignored lock")
            .push(engine.index_dir().root().to_path_buf());
        if let Some(w) = self.watcher.lock().expect("watcher lock").as_mut()
            && let Err(err) = w.watch(&canonical)
        {
            tracing::warn!("cannot watch {}: {err}", canonical.display());
        }
        self.roots.write().expect("roots lock").push(Arc::new(Root {
            name,
            path: canonical,
            engine: engine.reader(),
        }));
        Ok(Some(engine))
    }

    /// Drops the root at `path` (its index stays on disk); true when it was
    /// one.
    pub(crate) fn close_root(&self, path: &Path) -> bool {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let removed: Vec<Arc<Root>> = {
            let mut roots = self.roots.write().expect("roots lock");
            let (gone, kept): (Vec<_>, Vec<_>) = roots.drain(..).partition(|r| r.path == canonical);
            *roots = kept;
            gone
        };
        for root in &removed {
            if let Some(w) = self.watcher.lock().expect("watcher lock").as_mut() {
                w.unwatch(&root.path);
            }
            self.ignored
                .write()
                .expect("ignored lock")
                .retain(|d| d != root.engine.index_dir().root());
        }
        !removed.is_empty()
    }

    /// The innermost root holding `path`, by its path as given, else as
    /// resolved on disk.
    pub(crate) fn locate(&self, path: &Path) -> Option<(Arc<Root>, String)> {
        if let Some(found) = self.locate_exact(path) {
            return Some(found);
        }
        let resolved = path.canonicalize().ok().or_else(|| {
            let parent = path.parent()?.canonicalize().ok()?;
            Some(parent.join(path.file_name()?))
        })?;
        self.locate_exact(&resolved)
    }

    pub(crate) fn locate_exact(&self, path: &Path) -> Option<(Arc<Root>, String)> {
        let roots = self.roots();
        let root = roots
            .iter()
            .filter(|r| path.starts_with(&r.path))
            .max_by_key(|r| r.path.as_os_str().len())?;
        let rel = path.strip_prefix(&root.path).ok()?;
        let parts: Option<Vec<&str>> = rel
            .components()
            .map(|c| match c {
                std::path::Component::Normal(part) => part.to_str(),
                _ => None,
            })
            .collect();
        let rel = parts?.join("/");
        (!rel.is_empty()).then(|| (root.clone(), rel))
    }
}
