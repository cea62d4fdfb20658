//! `mcp.json`: how `dowse mcp` finds the endpoint of the language server
//! that owns a workspace. It holds the URL, the bearer token and the pid,
//! lives in the workspace's index directory with mode 0600 (the token is a
//! secret), and is removed when the server exits.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file's name in an index directory.
pub const FILE: &str = "mcp.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub url: String,
    pub token: String,
    pub pid: u32,
}

/// Writes `discovery` into `index_dir` atomically (a temporary file with
/// mode 0600, renamed), so a reader never sees half a file.
pub fn write(index_dir: &Path, discovery: &Discovery) -> std::io::Result<PathBuf> {
    let path = index_dir.join(FILE);
    let tmp = index_dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(&serde_json::to_vec_pretty(discovery).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// What `index_dir` says, if anything readable.
pub fn read(index_dir: &Path) -> Option<Discovery> {
    serde_json::from_slice(&std::fs::read(index_dir.join(FILE)).ok()?).ok()
}

/// Removes the file if this process wrote it (another server may have
/// replaced it since).
pub fn remove(index_dir: &Path) {
    if read(index_dir).is_some_and(|d| d.pid == std::process::id()) {
        let _ = std::fs::remove_file(index_dir.join(FILE));
    }
}

/// Whether a process with this pid exists (on Linux, by `/proc`; elsewhere
/// assumed, and the endpoint check decides).
pub fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_private_read_back_and_removed_only_by_its_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mine = Discovery {
            url: "http://127.0.0.1:4000/mcp".into(),
            token: "t".into(),
            pid: std::process::id(),
        };
        let path = write(dir.path(), &mine).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(dir.path()), Some(mine.clone()));
        assert!(alive(mine.pid));
        let theirs = Discovery {
            pid: mine.pid + 1,
            ..mine
        };
        write(dir.path(), &theirs).unwrap();
        remove(dir.path());
        assert_eq!(read(dir.path()), Some(theirs), "not ours: left alone");
    }
}
