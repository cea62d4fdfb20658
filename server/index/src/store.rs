//! The index directory: where a workspace's index lives, and how files in it
//! are written so that a crash never leaves a half-written one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. Readers see
/// the old content or the new, never a mix; after a crash, the same.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename or a new file in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The default index directory of a workspace: under the user cache dir
/// (`$XDG_CACHE_HOME/dowse/indexes` or `~/.cache/dowse/indexes` on Linux),
/// named after the workspace and a hash of its canonical path, so two
/// checkouts of one project never share an index.
pub fn default_index_dir(workspace: &Path) -> PathBuf {
    cache_root().join("indexes").join(index_key(workspace))
}

/// A workspace's directory name among indexes: its name and a hash of its
/// canonical path (`dowse-3fa2…`).
pub fn index_key(workspace: &Path) -> String {
    let canonical = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    let hash = blake3::hash(canonical.as_os_str().as_encoded_bytes()).to_hex();
    let name: String = canonical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("root")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}-{}", &hash[..16])
}

/// `$XDG_CACHE_HOME/dowse`, `~/.cache/dowse`, or the platform's equivalent.
pub fn cache_root() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("dowse")
}

/// The layout of one index directory.
#[derive(Clone, Debug)]
pub struct IndexDir {
    root: PathBuf,
}

impl IndexDir {
    pub fn new(root: PathBuf) -> IndexDir {
        IndexDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tantivy index.
    pub fn lexical(&self) -> PathBuf {
        self.root.join("lexical")
    }

    /// The embedding cache (`embeddings.bin`).
    pub fn embeddings(&self) -> PathBuf {
        self.root.join("embeddings.bin")
    }

    /// The manifest (`manifest.json`).
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// Backups of verified commits.
    pub fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// The lock file naming the process that writes the index.
    pub fn lock(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// The file table (`files.json`).
    pub fn files(&self) -> PathBuf {
        self.root.join("files.json")
    }

    pub fn create(&self) -> io::Result<()> {
        fs::create_dir_all(self.lexical())
    }

    /// Bytes on disk under the directory, each inode counted once.
    pub fn disk_bytes(&self) -> u64 {
        dir_bytes(&self.root, &mut std::collections::HashSet::new())
    }
}

fn dir_bytes(dir: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            total += dir_bytes(&entry.path(), seen);
        } else if seen.insert((meta.dev(), meta.ino())) {
            total += meta.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.json"]);
    }

    #[test]
    fn default_dir_differs_per_workspace() {
        let a = default_index_dir(Path::new("/tmp/one/project"));
        let b = default_index_dir(Path::new("/tmp/two/project"));
        assert_ne!(a, b);
        assert!(
            a.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("project-")
        );
    }
}
