//! The manifest: what a committed index is made of, and how to tell that it
//! is still that.
//!
//! `manifest.json` records the format version, the generation, the model
//! whose vectors the index holds, and the length and blake3 of every file the
//! committed index relies on: the tantivy `meta.json`, each file of each
//! committed segment, and the file table. It is written atomically after
//! each commit. On open, every stamp is checked; any difference is
//! corruption (or a crash between a commit and its manifest, which the
//! caller tells apart). The embedding cache is not stamped: it is
//! append-only and checks each record itself.
//!
//! Backups are hard links of a verified commit's files (segment files never
//! change once written), rotated.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lexical::LexicalIndex;
use crate::store::{self, IndexDir, atomic_write, sync_dir};

/// Bumped when the layout or the meaning of any index file changes.
/// 2: one `content` text per chunk (path, enclosing names, code), the
/// definition lines of parts. 3: each chunk stores its content key (what
/// its embedding views are made from); the embedding cache's key is derived
/// from it, so a change of what is embedded needs no bump here any more.
/// 4: each chunk stores whether it is test code by its language's markers.
pub const FORMAT: u32 = 4;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStamp {
    pub id: String,
    pub dimensions: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub len: u64,
    pub blake3: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    #[serde(default)]
    pub model: Option<ModelStamp>,
    /// Paths relative to the index directory, `/`-separated.
    pub files: BTreeMap<String, FileStamp>,
}

impl Manifest {
    /// The manifest of `dir`; `Ok(None)` when there is none.
    pub fn load(dir: &IndexDir) -> io::Result<Option<Manifest>> {
        match store::read(&dir.manifest()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn save(&self, dir: &IndexDir) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        atomic_write(&dir.manifest(), &bytes)
    }

    /// Checks every stamp against the files; the first difference, said.
    /// A key that is not one of the index's own files, or a file that is
    /// not a regular file (a link), is a difference too.
    pub fn verify(&self, root: &Path) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "index format {} (this dowse writes {FORMAT})",
                self.format
            ));
        }
        for (rel, stamp) in &self.files {
            check_key(rel)?;
            let path = root.join(rel);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("`{rel}`: {e}"))?;
            if !meta.is_file() {
                return Err(format!("`{rel}` is not a regular file"));
            }
            if meta.len() != stamp.len {
                return Err(format!(
                    "`{rel}` is {} bytes, the manifest says {}",
                    meta.len(),
                    stamp.len
                ));
            }
            let hash = hash_file(&path).map_err(|e| format!("`{rel}`: {e}"))?;
            if hash != stamp.blake3 {
                return Err(format!("`{rel}` does not match its checksum"));
            }
        }
        Ok(())
    }
}

/// Whether `rel` names one of the files a manifest may stamp: the file
/// table, or a file directly in `lexical/` (tantivy's meta files and
/// segment files). Anything else (an absolute path, `..`, a folder) comes
/// from a damaged or planted manifest and is refused before it is used.
pub fn check_key(rel: &str) -> Result<(), String> {
    let lexical_file = rel.strip_prefix("lexical/").is_some_and(|name| {
        !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.contains('\\')
            && !name.contains('\0')
    });
    if rel == "files.json" || lexical_file {
        Ok(())
    } else {
        Err(format!("`{rel}` is not a file of a dowse index"))
    }
}

/// Stamps what the committed index relies on. Segment files never change
/// once written, so their stamps are remembered in `known` by name.
pub fn stamp(
    dir: &IndexDir,
    lexical: &LexicalIndex,
    known: &mut HashMap<String, FileStamp>,
) -> io::Result<BTreeMap<String, FileStamp>> {
    let mut files = BTreeMap::new();
    let mut segment_files: Vec<PathBuf> = lexical.segment_files().map_err(io::Error::other)?;
    segment_files.sort();
    for file in segment_files {
        let rel = format!("lexical/{}", file.to_string_lossy());
        let stamp = match known.get(&rel) {
            Some(stamp) => stamp.clone(),
            None => match stamp_file(&dir.root().join(&rel)) {
                Ok(stamp) => {
                    known.insert(rel.clone(), stamp.clone());
                    stamp
                }
                // A component this segment does not have (no positions,
                // no deletes).
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            },
        };
        files.insert(rel, stamp);
    }
    // Forget segments merged away.
    known.retain(|rel, _| files.contains_key(rel));
    files.insert(
        "lexical/meta.json".to_owned(),
        stamp_file(&dir.lexical().join("meta.json"))?,
    );
    let managed = dir.lexical().join(".managed.json");
    if managed.exists() {
        files.insert("lexical/.managed.json".to_owned(), stamp_file(&managed)?);
    }
    if dir.files().exists() {
        files.insert("files.json".to_owned(), stamp_file(&dir.files())?);
    }
    Ok(files)
}

fn stamp_file(path: &Path) -> io::Result<FileStamp> {
    Ok(FileStamp {
        len: std::fs::symlink_metadata(path)?.len(),
        blake3: hash_file(path)?,
    })
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(store::no_follow().read(true).open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Backs up the verified commit `manifest` describes: hard links of its
/// files (copies where links fail) under `backups/<generation>`, keeping the
/// newest `keep`.
pub fn backup(dir: &IndexDir, manifest: &Manifest, keep: usize) -> io::Result<()> {
    if keep == 0 {
        return Ok(());
    }
    let target = dir.backups().join(format!("{:012}", manifest.generation));
    if target.exists() {
        return Ok(());
    }
    let tmp = dir
        .backups()
        .join(format!(".{:012}.tmp", manifest.generation));
    dir.remove_dir_all(&tmp)?;
    std::fs::create_dir_all(tmp.join("lexical"))?;
    for rel in manifest.files.keys() {
        check_key(rel).map_err(io::Error::other)?;
        let from = dir.root().join(rel);
        let to = tmp.join(rel);
        // meta.json and files.json are rewritten in place by later commits:
        // copy them; segment files are immutable: link them.
        if rel.ends_with(".json") || std::fs::hard_link(&from, &to).is_err() {
            copy_no_follow(&from, &to)?;
        }
    }
    let bytes = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
    store::create_new(&tmp.join("manifest.json"))?.write_all(&bytes)?;
    std::fs::rename(&tmp, &target)?;
    sync_dir(&dir.backups())?;
    let mut all = list_backups(dir);
    while all.len() > keep {
        let oldest = all.remove(0);
        let _ = dir.remove_dir_all(&oldest);
    }
    Ok(())
}

/// Copies a file of the index directory into a new file, following no link
/// at either end.
fn copy_no_follow(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = store::no_follow().read(true).open(from)?;
    let mut target = store::create_new(to)?;
    io::copy(&mut source, &mut target)?;
    Ok(())
}

/// Backups, oldest first: the folders in `backups/` (a link there, or
/// `backups` itself a link, is not a backup).
pub fn list_backups(dir: &IndexDir) -> Vec<PathBuf> {
    let is_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    if !is_dir(&dir.backups()) {
        return Vec::new();
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.backups())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.'))
                        && is_dir(p)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Replaces the index's lexical files, file table and manifest with those
/// of `backup`, if the backup verifies. Returns its generation.
pub fn restore(dir: &IndexDir, backup: &Path) -> Result<u64, String> {
    let bytes = store::read(&backup.join("manifest.json"))
        .map_err(|e| format!("{}: {e}", backup.display()))?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", backup.display()))?;
    // Every key is checked (one of the index's own files, no `..`) and
    // every file is a regular file before anything is removed or copied.
    manifest.verify(backup)?;
    discard(dir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir.lexical()).map_err(|e| e.to_string())?;
    let copy = |from: &Path, to: &Path| -> Result<(), String> {
        if std::fs::hard_link(from, to).is_err() {
            copy_no_follow(from, to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
        Ok(())
    };
    for rel in manifest.files.keys() {
        let (from, to) = (backup.join(rel), dir.root().join(rel));
        if rel.ends_with(".json") {
            copy_no_follow(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        } else {
            copy(&from, &to)?;
        }
    }
    manifest.save(dir).map_err(|e| e.to_string())?;
    Ok(manifest.generation)
}

/// Removes the lexical index, the file table and the manifest (not the
/// embedding cache, nor the backups): what remains is an empty index that
/// the next update fills.
pub fn discard(dir: &IndexDir) -> io::Result<()> {
    dir.remove_dir_all(&dir.lexical())?;
    for file in [dir.files(), dir.manifest()] {
        dir.remove_file(&file)?;
    }
    sync_dir(dir.root())
}
