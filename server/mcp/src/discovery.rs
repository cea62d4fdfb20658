//! `mcp.json`: how `dowse mcp` finds the endpoint of the language server
//! that owns a workspace. It holds the URL, the bearer token and the pid,
//! lives in the workspace's index directory with mode 0600 (the token is a
//! secret), and is removed when the server exits.
//!
//! The relay hands an agent's whole conversation to whatever the file
//! names, so the file is trusted only as far as it can be checked
//! ([`trusted`]): written by this user and no one else (owner, mode 0600,
//! a folder others cannot write), naming a loopback IP literal, with a live
//! pid of this user whose executable is a dowse; and before the token is
//! sent, the server must prove it knows it ([`proof`]: an HMAC of a fresh
//! nonce and its own URL). A cloned repository can ship a file that looks
//! like this one; it never passes.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

/// The file's name in an index directory.
pub const FILE: &str = "mcp.json";

/// The header a relay sends its nonce in, on `GET /proof`.
pub const NONCE_HEADER: &str = "x-dowse-nonce";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub url: String,
    pub token: String,
    pub pid: u32,
}

/// Writes `discovery` into `index_dir` atomically (a new temporary file
/// with mode 0600, renamed), so a reader never sees half a file.
pub fn write(index_dir: &Path, discovery: &Discovery) -> std::io::Result<PathBuf> {
    let path = index_dir.join(FILE);
    let tmp = index_dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    let open = || {
        std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
    };
    let mut file = match open() {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            open()?
        }
        other => other?,
    };
    file.write_all(&serde_json::to_vec_pretty(discovery).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// What `index_dir` says, if anything readable (not a link).
pub fn read(index_dir: &Path) -> Option<Discovery> {
    let file = open_private(&index_dir.join(FILE)).ok()?;
    serde_json::from_reader(file).ok()
}

/// Opens a file that must be this user's alone: not a link, a regular
/// file, owned by this user, readable by no one else.
fn open_private(path: &Path) -> Result<std::fs::File, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| format!("{} cannot be opened as a plain file: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.uid() != current_uid() {
        return Err(format!("{} belongs to another user", path.display()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} is readable or writable by others (mode {:o}); dowse writes it 0600",
            path.display(),
            meta.mode() & 0o777
        ));
    }
    Ok(file)
}

/// The `mcp.json` of `index_dir` if every check that needs no network
/// passes: the folder is this user's and others cannot write in it, the
/// file is this user's with mode 0600, the URL is `http://` on a loopback
/// IP literal, and the pid is a live process of this user running a dowse
/// executable. Otherwise why not, for stderr.
pub fn trusted(index_dir: &Path) -> Result<Discovery, String> {
    let folder = std::fs::symlink_metadata(index_dir)
        .map_err(|e| format!("{}: {e}", index_dir.display()))?;
    if !folder.is_dir() || folder.uid() != current_uid() || folder.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is not a folder of this user that others cannot write",
            index_dir.display()
        ));
    }
    let path = index_dir.join(FILE);
    let discovery: Discovery = serde_json::from_reader(open_private(&path)?)
        .map_err(|e| format!("{} is not valid: {e}", path.display()))?;
    loopback_url(&discovery.url)?;
    if discovery.pid == std::process::id() {
        return Err("it names this very process".to_owned());
    }
    same_user_dowse(discovery.pid)?;
    Ok(discovery)
}

/// `http://IP:PORT/mcp` with a loopback IP literal (no name to resolve).
fn loopback_url(url: &str) -> Result<(), String> {
    let bad = || format!("the URL `{url}` is not http:// on a loopback IP address");
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let authority = rest.strip_suffix("/mcp").ok_or_else(bad)?;
    let address: std::net::SocketAddr = authority.parse().map_err(|_| bad())?;
    if address.ip().is_loopback() && address.port() != 0 {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Whether `pid` is a live process of this user running a dowse executable
/// (by `/proc`; where there is none, the proof decides alone).
fn same_user_dowse(pid: u32) -> Result<(), String> {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return Ok(());
    }
    let dir = proc.join(pid.to_string());
    let meta = std::fs::metadata(&dir).map_err(|_| format!("process {pid} is not running"))?;
    if meta.uid() != current_uid() {
        return Err(format!("process {pid} belongs to another user"));
    }
    let exe = std::fs::read_link(dir.join("exe"))
        .map_err(|e| format!("the executable of process {pid} cannot be read: {e}"))?;
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A binary replaced on disk since the process started reads
    // "dowse (deleted)".
    let name = name.strip_suffix(" (deleted)").unwrap_or(&name);
    let ours = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    if name == "dowse" || ours.as_deref() == Some(exe.as_path()) {
        Ok(())
    } else {
        Err(format!("process {pid} runs {}, not dowse", exe.display()))
    }
}

/// What a server that knows `token` answers to `nonce` at `url`: an
/// HMAC-SHA256 keyed by the token over the nonce and the server's own URL,
/// so that an answer relayed from another server (another URL) is no proof.
pub fn proof(token: &str, nonce: &str, url: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(b"dowse-mcp-proof-v1\n");
    mac.update(nonce.as_bytes());
    mac.update(b"\n");
    mac.update(url.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether `answer` is the proof for `nonce` at `url` (compared in
/// constant time).
pub fn proof_holds(token: &str, nonce: &str, url: &str, answer: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = proof(token, nonce, url);
    expected.len() == answer.len() && bool::from(expected.as_bytes().ct_eq(answer.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes the file if this process wrote it (another server may have
/// replaced it since).
pub fn remove(index_dir: &Path) {
    if read(index_dir).is_some_and(|d| d.pid == std::process::id()) {
        let _ = std::fs::remove_file(index_dir.join(FILE));
    }
}

fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn private_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    #[test]
    fn written_private_read_back_and_removed_only_by_its_writer() {
        let dir = private_dir();
        let mine = Discovery {
            url: "http://127.0.0.1:4000/mcp".into(),
            token: "t".into(),
            pid: std::process::id(),
        };
        let path = write(dir.path(), &mine).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(dir.path()), Some(mine.clone()));
        let theirs = Discovery {
            pid: mine.pid + 1,
            ..mine
        };
        write(dir.path(), &theirs).unwrap();
        remove(dir.path());
        assert_eq!(read(dir.path()), Some(theirs), "not ours: left alone");
    }

    /// What a repository could ship is refused before anything is sent:
    /// a readable file, a link, a name instead of a loopback address, a
    /// pid that is not a dowse of this user.
    #[test]
    fn only_a_private_file_naming_a_live_dowse_on_loopback_is_trusted() {
        let dir = private_dir();
        let planted = Discovery {
            url: "http://127.0.0.1:4000/mcp".into(),
            token: "t".into(),
            pid: 1,
        };
        write(dir.path(), &planted).unwrap();
        let said = trusted(dir.path()).unwrap_err();
        assert!(said.contains("process 1"), "{said}");

        std::fs::set_permissions(
            dir.path().join(FILE),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let said = trusted(dir.path()).unwrap_err();
        assert!(said.contains("readable or writable by others"), "{said}");

        let elsewhere = private_dir();
        write(elsewhere.path(), &planted).unwrap();
        std::fs::remove_file(dir.path().join(FILE)).unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join(FILE), dir.path().join(FILE)).unwrap();
        let said = trusted(dir.path()).unwrap_err();
        assert!(said.contains("cannot be opened as a plain file"), "{said}");

        for url in [
            "http://localhost:4000/mcp",
            "http://10.0.0.8:4000/mcp",
            "https://127.0.0.1:4000/mcp",
            "http://127.0.0.1:4000/other",
        ] {
            assert!(loopback_url(url).is_err(), "{url}");
        }
        assert!(loopback_url("http://[::1]:4000/mcp").is_ok());
    }

    #[test]
    fn a_proof_binds_the_token_the_nonce_and_the_url() {
        let p = proof("token", "nonce", "http://127.0.0.1:1/mcp");
        assert_eq!(p.len(), 64);
        assert!(proof_holds("token", "nonce", "http://127.0.0.1:1/mcp", &p));
        assert!(!proof_holds("other", "nonce", "http://127.0.0.1:1/mcp", &p));
        assert!(!proof_holds(
            "token",
            "nonce2",
            "http://127.0.0.1:1/mcp",
            &p
        ));
        assert!(!proof_holds("token", "nonce", "http://127.0.0.1:2/mcp", &p));
    }
}
