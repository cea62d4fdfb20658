//! One writer per index directory: an advisory lock on `lock`, which holds
//! the owner's pid. The kernel releases the lock when its holder exits or
//! dies, so a lock left by a dead process is simply taken over; a second
//! live process sees the lock held, reads the owner's pid, and serves
//! read-only from the last commit.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};

use dowse_index::store::IndexDir;

use crate::{EngineError, Result};

/// The lock (when this process is the writer), or the owner's pid.
pub(crate) fn acquire(dir: &IndexDir) -> Result<(Option<File>, Option<u32>)> {
    let path = dir.lock();
    let open = || {
        dowse_index::store::no_follow()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
    };
    let mut file = match open() {
        // A link where the lock belongs is never followed (it would have
        // the pid written over whatever it points at): it goes, and the
        // lock is made again.
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            tracing::warn!(
                "{} is a symbolic link: removed, not followed",
                path.display()
            );
            dir.remove_file(&path)
                .map_err(|e| EngineError::io(&path, e))?;
            open()
        }
        other => other,
    }
    .map_err(|e| EngineError::io(&path, e))?;
    if !file
        .metadata()
        .map_err(|e| EngineError::io(&path, e))?
        .is_file()
    {
        return Err(EngineError::io(
            &path,
            std::io::Error::other("the lock is not a regular file"),
        ));
    }
    match file.try_lock() {
        Ok(()) => {
            let pid = std::process::id();
            let written = file
                .set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)))
                .and_then(|_| file.write_all(format!("{pid}\n").as_bytes()))
                .and_then(|()| file.sync_all());
            if let Err(err) = written {
                tracing::warn!("cannot record the owner in {}: {err}", path.display());
            }
            Ok((Some(file), None))
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let owner = text.trim().parse().unwrap_or(0);
            tracing::warn!("the index is written by process {owner}; serving read-only");
            Ok((None, Some(owner)))
        }
        Err(TryLockError::Error(err)) => Err(EngineError::io(&path, err)),
    }
}
