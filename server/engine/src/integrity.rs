//! Integrity on open and after each commit.
//!
//! Before the index is opened, its manifest is checked (every stamped file's
//! length and blake3). A difference is either a crash between a commit and
//! its manifest — the index is then one generation ahead of the manifest and
//! passes tantivy's own checksums, and is kept — or corruption: the newest
//! backup that verifies is restored, else the index is discarded and rebuilt
//! from the workspace (the embedding cache is kept: it checks each record
//! itself, so nothing is embedded twice). Every recovery is logged and
//! reported by health and stats. A query never runs on an index that failed
//! its check.

use dowse_index::files::FileTable;
use dowse_index::lexical::LexicalIndex;
use dowse_index::manifest::{self, FORMAT, Manifest, ModelStamp};
use dowse_index::store::IndexDir;

use crate::{Engine, EngineError, Result, semantic};

/// What the check found and did.
#[derive(Default)]
pub(crate) struct Checked {
    /// Recoveries, said for people.
    pub recoveries: Vec<String>,
    /// The index is sound but its manifest must be written again.
    pub rewrite_manifest: bool,
}

pub(crate) fn check(dir: &IndexDir) -> Checked {
    let mut checked = Checked {
        recoveries: Vec::new(),
        rewrite_manifest: false,
    };
    let has_index = dir.lexical().join("meta.json").exists();
    let problem = match Manifest::load(dir) {
        Ok(None) if !has_index => return checked,
        Ok(None) => match deep_check(dir) {
            // Created, never committed.
            Ok(None) => {
                checked.rewrite_manifest = true;
                return checked;
            }
            Ok(Some(_)) => {
                let said = "the manifest was missing; the index passed tantivy's checksums, so a new manifest was written"
                    .to_owned();
                tracing::warn!("{said}");
                checked.recoveries.push(said);
                checked.rewrite_manifest = true;
                return checked;
            }
            Err(err) => format!("the index has no manifest and fails its checks ({err})"),
        },
        Err(err) => format!("the manifest is unreadable ({err})"),
        Ok(Some(m)) if m.format != FORMAT => {
            // An index written by another version of dowse is not damaged:
            // it is rebuilt in this version's format (keeping the embedding
            // cache, which has a format of its own), with its backups, which
            // are in the old format too. Not a recovery: nothing went wrong.
            tracing::info!(
                "the index was written in format {} and this dowse writes {FORMAT}: rebuilding it",
                m.format
            );
            for backup in manifest::list_backups(dir) {
                let _ = dir.remove_dir_all(&backup);
            }
            if let Err(err) = manifest::discard(dir) {
                checked
                    .recoveries
                    .push(format!("the old index could not be removed ({err})"));
            }
            return checked;
        }
        Ok(Some(m)) => match m.verify(dir.root()) {
            Ok(()) => return checked,
            Err(reason) => match deep_check(dir) {
                // A crash after a commit, before its manifest.
                Ok(Some(generation)) if generation == m.generation + 1 => {
                    tracing::info!(
                        "the last commit (generation {generation}) has no manifest yet; it passes its checks"
                    );
                    checked.rewrite_manifest = true;
                    return checked;
                }
                _ => reason,
            },
        },
    };
    tracing::warn!("index check failed: {problem}");
    for backup in manifest::list_backups(dir).into_iter().rev() {
        match manifest::restore(dir, &backup) {
            Ok(generation) if deep_check(dir).is_ok() => {
                let said = format!("{problem}: restored the backup of generation {generation}");
                tracing::warn!("{said}");
                checked.recoveries.push(said);
                return checked;
            }
            Ok(_) => tracing::warn!("the backup {} does not open", backup.display()),
            Err(err) => tracing::warn!("the backup {} is unusable: {err}", backup.display()),
        }
    }
    let said = match manifest::discard(dir) {
        Ok(()) => {
            format!("{problem}: no usable backup, so the index is rebuilt from the workspace")
        }
        Err(err) => format!("{problem}: the index could not even be removed ({err})"),
    };
    tracing::warn!("{said}");
    checked.recoveries.push(said);
    checked
}

/// Opens the lexical index and checks tantivy's checksums and the file
/// table; the committed generation when all is well.
fn deep_check(dir: &IndexDir) -> std::result::Result<Option<u64>, String> {
    let result = std::panic::catch_unwind(|| -> std::result::Result<Option<u64>, String> {
        let lexical = LexicalIndex::open(&dir.lexical()).map_err(|e| e.to_string())?;
        let damaged = lexical.corrupted_files().map_err(|e| e.to_string())?;
        if !damaged.is_empty() {
            return Err(format!("damaged: {damaged:?}"));
        }
        if dir.files().exists() {
            FileTable::load(&dir.files()).map_err(|e| format!("files.json: {e}"))?;
        }
        lexical.committed_generation().map_err(|e| e.to_string())
    });
    result.unwrap_or_else(|_| Err("opening the index panicked".to_owned()))
}

impl Engine {
    /// Writes the manifest of the current commit.
    pub(crate) fn write_manifest(&self, generation: u64) -> Result<Manifest> {
        let io = |e: std::io::Error| EngineError::io(&self.dir.manifest(), e);
        let files = {
            let mut known = self.stamps.lock().expect("stamps lock");
            manifest::stamp(&self.dir, &self.lexical, &mut known).map_err(io)?
        };
        let model = match self.semantic.get() {
            Some(semantic::SemanticState::Ready(ready)) => {
                let info = ready.model.info();
                Some(ModelStamp {
                    id: info.id.clone(),
                    dimensions: info.dimensions,
                })
            }
            _ => None,
        };
        let manifest = Manifest {
            format: FORMAT,
            generation,
            model,
            files,
        };
        manifest.save(&self.dir).map_err(io)?;
        Ok(manifest)
    }

    /// Backs up the current commit (hard links), keeping the configured
    /// number of backups.
    pub(crate) fn backup(&self, manifest: &Manifest) {
        if let Err(err) = manifest::backup(&self.dir, manifest, self.config.backups) {
            tracing::warn!("backing up the index: {err}");
        }
    }
}
