//! The index directory: where a workspace's index lives, and how files in it
//! are written so that a crash never leaves a half-written one.
//!
//! The directory is dowse's alone. Nothing in it is followed: every file
//! dowse opens there is opened with `O_NOFOLLOW`, temporary files are
//! created exclusively, a symbolic link or a foreign file type found there
//! (a FIFO, a device) is corruption, removed without being followed
//! ([`IndexDir::scrub`]), and deletions are checked to stay inside the
//! canonical directory ([`IndexDir::remove_dir_all`]). A repository that
//! ships an index-shaped folder, or a user who keeps the index inside a
//! checkout, never makes dowse write or delete outside it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Options that open a file only if its last component is not a symbolic
/// link (`O_NOFOLLOW`: the open fails with `ELOOP` instead).
pub fn no_follow() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.custom_flags(libc::O_NOFOLLOW);
    options
}

/// Reads a whole file of the index directory, refusing a symbolic link.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut no_follow().read(true).open(path)?, &mut bytes)?;
    Ok(bytes)
}

/// Creates `path` for writing, new (`O_EXCL`, which never follows a link):
/// a leftover of a crashed process, or anything planted there, is removed
/// first (unlinked, not followed).
pub fn create_new(path: &Path) -> io::Result<File> {
    let create = || no_follow().write(true).create_new(true).open(path);
    match create() {
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            create()
        }
        other => other,
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. Readers see
/// the old content or the new, never a mix; after a crash, the same. A
/// rename replaces a symbolic link at `path` rather than writing through it.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, tmp) = beside(path, &format!("{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = create_new(&tmp)?;
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

/// The directory of `path` (`.` for a bare name) and a hidden file in it
/// named after `path` and `tag` (`.NAME.TAG`): where a new version of
/// `path` is written before it is renamed over it.
pub fn beside<'a>(path: &'a Path, tag: &str) -> (&'a Path, PathBuf) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    (dir, dir.join(format!(".{name}.{tag}")))
}

/// Makes a rename or a new file in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
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

    /// Opens the index directory at `path` (relative paths are taken from
    /// the current directory), creating it private to the user, and returns
    /// it by its canonical path. Refused: a path that is not a directory,
    /// and a directory of another user or writable by others, where files
    /// could be planted for dowse to trust.
    pub fn open(path: &Path) -> io::Result<IndexDir> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        let path = std::path::absolute(path)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)?;
        let root = path.canonicalize()?;
        let meta = fs::symlink_metadata(&root)?;
        // SAFETY of the call: geteuid has no preconditions.
        #[allow(unsafe_code)]
        let uid = unsafe { libc::geteuid() };
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                root.display()
            )));
        }
        if meta.uid() != uid || meta.mode() & 0o022 != 0 {
            return Err(io::Error::other(format!(
                "{} belongs to another user or others may write in it: dowse keeps its index \
                 only in a directory of yours that others cannot write (chmod go-w, or choose \
                 another index_dir)",
                root.display()
            )));
        }
        Ok(IndexDir { root })
    }

    /// Removes every symbolic link and every file that is neither a regular
    /// file nor a directory (a FIFO, a socket, a device) from the index
    /// directory's own files, `lexical/` and `backups/`, without following
    /// any: dowse never writes such things, so they are corruption or a
    /// trap. Returns what was removed (relative paths); the integrity check
    /// that follows then finds what is missing and recovers.
    pub fn scrub(&self) -> Vec<String> {
        let mut removed = Vec::new();
        scrub_dir(&self.root, &self.root, &mut removed, &|rel: &str| {
            // Further roots' indexes live under `roots/`: each is scrubbed
            // by its own engine; the folder itself must still be a folder.
            rel.starts_with("roots/")
        });
        removed
    }

    /// Removes the directory `path` and everything under it, only if it is
    /// inside the canonical index directory (never through a link: the
    /// standard library's `remove_dir_all` does not follow them).
    pub fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.check_inside(path)?;
        match fs::remove_dir_all(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Removes the file `path` (a link itself, never its target), only if
    /// it is inside the canonical index directory.
    pub fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.check_inside(path)?;
        match fs::remove_file(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// `path`'s directory, resolved, must be the index directory or below
    /// it, and `path` must not climb out with `..`.
    fn check_inside(&self, path: &Path) -> io::Result<()> {
        let outside = || {
            io::Error::other(format!(
                "refusing to remove {}: it is not inside the index directory {}",
                path.display(),
                self.root.display()
            ))
        };
        if path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(outside());
        }
        let parent = path.parent().ok_or_else(outside)?;
        let parent = match parent.canonicalize() {
            Ok(parent) => parent,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err),
        };
        if parent.starts_with(&self.root) {
            Ok(())
        } else {
            Err(outside())
        }
    }

    /// Bytes on disk under the directory, each inode counted once.
    pub fn disk_bytes(&self) -> u64 {
        dir_bytes(&self.root, &mut std::collections::HashSet::new())
    }
}

fn scrub_dir(root: &Path, dir: &Path, removed: &mut Vec<String>, skip: &dyn Fn(&str) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        // `file_type` of a directory entry does not follow links.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !skip(&format!("{rel}/")) {
                scrub_dir(root, &path, removed, skip);
            }
        } else if !kind.is_file() {
            tracing::warn!(
                "{} in the index directory is not a regular file (a symbolic link or a special \
                 file): removed, not followed",
                path.display()
            );
            if fs::remove_file(&path).is_ok() {
                removed.push(rel);
            }
        }
    }
}

fn dir_bytes(dir: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
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
    fn index_keys_differ_per_workspace() {
        let a = index_key(Path::new("/tmp/one/project"));
        let b = index_key(Path::new("/tmp/two/project"));
        assert_ne!(a, b);
        assert!(a.starts_with("project-"), "{a}");
    }
}
