//! The workspace walker: which files on disk belong to the index, and the
//! same rules for one path (an editor's buffer).
//!
//! It honours `.gitignore` (inside a git repository or not), `.ignore`, the
//! workspace's `.dowseignore`, skips hidden files and directories (`.git/`
//! always), and applies the include/exclude globs. It follows symbolic links
//! but never out of the workspace, survives symlink loops and unreadable
//! entries, and reports every file it skipped with the reason, because "why
//! is this file not found?" is the first question users ask of a code search
//! tool. Content checks (binary, not UTF-8) happen when a file is read, not
//! here.
//!
//! A workspace is untrusted (SECURITY.md): `include` only ever narrows the
//! set. Its globs never bring back an ignored, hidden or secret-looking file;
//! only an entry of the *user's* `include` that names a path literally
//! (`certs/dev.pem`, `.github/workflows/ci.yml`) admits that one secret or
//! hidden path, and `.git/` is never walked at all.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use ignore::WalkState;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::overrides::{Override, OverrideBuilder};

mod secrets;

pub use secrets::looks_secret;

/// The name of dowse's own ignore file, with `.gitignore` syntax.
pub const IGNORE_FILE: &str = ".dowseignore";

/// Ignore files a directory may hold, strongest first (as the `ignore`
/// crate ranks them: a custom file over `.ignore` over `.gitignore`).
const IGNORE_FILES: [&str; 3] = [IGNORE_FILE, ".ignore", ".gitignore"];

/// What the walker needs to know.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Globs from the user's own settings a file must match (all files when
    /// empty). An entry without glob characters names a path literally and
    /// also admits that path when it is hidden or looks like a secret.
    pub include: Vec<String>,
    /// Globs from the workspace's `dowse.toml` a file must match as well:
    /// they narrow, never admit.
    pub workspace_include: Vec<String>,
    /// Globs of files and directories to leave out.
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    /// Directories never to descend into (the index directory, when it lives
    /// inside the workspace): canonical paths.
    pub skip_dirs: Vec<PathBuf>,
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> WalkOptions {
        WalkOptions {
            max_file_size: 1024 * 1024,
            include: Vec::new(),
            workspace_include: Vec::new(),
            exclude: Vec::new(),
            follow_symlinks: true,
            skip_dirs: Vec::new(),
            threads: 2,
        }
    }
}

/// A file the walker found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedFile {
    /// Relative to the workspace root, `/`-separated.
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

/// Why a file was not indexed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    TooLarge {
        size: u64,
        limit: u64,
    },
    Binary,
    NotUtf8,
    PathNotUtf8,
    SymlinkLoop,
    OutsideWorkspace,
    /// A key, certificate, credential store or environment file: left out
    /// unless the user's own `include` names it, since agents read the
    /// index.
    Secret,
    /// A hidden file or directory, or inside `.git/`.
    Hidden,
    /// Left out by `.gitignore`, `.ignore` or `.dowseignore`.
    Ignored,
    /// Matches an `exclude` glob, or no `include` glob.
    Excluded,
    /// dowse failed on the file (a bug): the reason, so that one file never
    /// stops the rest.
    Failed(String),
    Unreadable(String),
}

impl SkipReason {
    /// A short category name for summaries.
    pub fn category(&self) -> &'static str {
        match self {
            SkipReason::TooLarge { .. } => "too large",
            SkipReason::Binary => "binary",
            SkipReason::NotUtf8 => "not UTF-8",
            SkipReason::PathNotUtf8 => "path not UTF-8",
            SkipReason::SymlinkLoop => "symlink loop",
            SkipReason::OutsideWorkspace => "outside the workspace",
            SkipReason::Secret => "looks like a secret",
            SkipReason::Hidden => "hidden",
            SkipReason::Ignored => "ignored",
            SkipReason::Excluded => "excluded",
            SkipReason::Failed(_) => "failed",
            SkipReason::Unreadable(_) => "unreadable",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size, limit } => {
                write!(f, "larger than max_file_size ({size} > {limit} bytes)")
            }
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::NotUtf8 => f.write_str("not valid UTF-8"),
            SkipReason::PathNotUtf8 => f.write_str("path is not valid UTF-8"),
            SkipReason::SymlinkLoop => f.write_str("symbolic link loop"),
            SkipReason::OutsideWorkspace => {
                f.write_str("outside the workspace (or a symbolic link that leads out of it)")
            }
            SkipReason::Secret => f.write_str(
                "looks like a secret (a key, certificate, credential store or environment file); \
                 name its path in `include` in your own settings to index it",
            ),
            SkipReason::Hidden => f.write_str(
                "hidden (a dot file or directory); name its path in `include` in your own \
                 settings to index it (`.git/` never is)",
            ),
            SkipReason::Ignored => f.write_str("left out by .gitignore, .ignore or .dowseignore"),
            SkipReason::Excluded => f.write_str("left out by the include and exclude settings"),
            SkipReason::Failed(err) => write!(f, "dowse failed on it (a bug): {err}"),
            SkipReason::Unreadable(err) => write!(f, "unreadable: {err}"),
        }
    }
}

/// A file (or directory) left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

#[derive(Debug, Default)]
pub struct WalkOutput {
    /// Sorted by path.
    pub files: Vec<WalkedFile>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid glob `{glob}`: {reason}")]
    BadGlob { glob: String, reason: String },
}

/// The include and exclude settings of one workspace, compiled: what the
/// walk and a single buffer are both checked against.
pub struct Filters {
    root: PathBuf,
    /// Excludes, as negated overrides: a match leaves the path out.
    exclude: Override,
    /// The user's includes (whitelist overrides), when there are any.
    include: Option<Override>,
    /// The workspace's own includes, which only narrow.
    workspace_include: Option<Override>,
    /// The user's include entries that name a path literally.
    literal: Vec<String>,
    skip_dirs: Vec<PathBuf>,
}

impl Filters {
    /// Compiles `options`' globs for the workspace at `root` (canonical).
    pub fn new(root: &Path, options: &WalkOptions) -> Result<Filters, WalkError> {
        let bad_glob = |glob: &str, err: ignore::Error| WalkError::BadGlob {
            glob: glob.to_owned(),
            reason: err.to_string(),
        };
        let whitelist = |globs: &[String]| -> Result<Option<Override>, WalkError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut builder = OverrideBuilder::new(root);
            for glob in globs {
                builder.add(glob).map_err(|e| bad_glob(glob, e))?;
            }
            builder.build().map(Some).map_err(|e| bad_glob("(all)", e))
        };
        let mut exclude = OverrideBuilder::new(root);
        for glob in &options.exclude {
            exclude
                .add(&format!("!{glob}"))
                .map_err(|e| bad_glob(glob, e))?;
        }
        Ok(Filters {
            root: root.to_path_buf(),
            exclude: exclude.build().map_err(|e| bad_glob("(all)", e))?,
            include: whitelist(&options.include)?,
            workspace_include: whitelist(&options.workspace_include)?,
            literal: options
                .include
                .iter()
                .filter_map(|glob| literal_path(glob))
                .collect(),
            skip_dirs: options.skip_dirs.clone(),
        })
    }

    /// Whether the include and exclude globs keep the file `rel`.
    fn selects(&self, rel: &str) -> bool {
        let path = self.root.join(rel);
        !self.exclude.matched(&path, false).is_ignore()
            && [&self.include, &self.workspace_include]
                .into_iter()
                .flatten()
                .all(|o| o.matched(&path, false).is_whitelist())
    }

    /// Whether an exclude glob leaves out the directory `rel`.
    fn excludes_dir(&self, rel: &str) -> bool {
        self.exclude.matched(self.root.join(rel), true).is_ignore()
    }

    /// Whether the user's include names the file `rel` literally.
    fn names(&self, rel: &str) -> bool {
        self.literal.iter().any(|l| l == rel)
    }

    /// The walk's verdict on one file that is not on the walk's list (an
    /// editor's buffer): `Ok` when the walk would index a file of `size`
    /// bytes at `rel`, else why not. Ignore files are read from disk, as
    /// the walk reads them.
    pub fn check(&self, rel: &str, size: u64, max_file_size: u64) -> Result<(), SkipReason> {
        if rel.is_empty()
            || rel
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(SkipReason::OutsideWorkspace);
        }
        let abs = self.root.join(rel);
        // A link anywhere on the way that leads out, as the walk refuses it.
        let resolved = abs.canonicalize().ok().or_else(|| {
            let parent = abs.parent()?.canonicalize().ok()?;
            Some(parent.join(abs.file_name()?))
        });
        match resolved {
            Some(resolved)
                if resolved.starts_with(&self.root)
                    && !self.skip_dirs.iter().any(|d| resolved.starts_with(d)) => {}
            _ => return Err(SkipReason::OutsideWorkspace),
        }
        if self.skip_dirs.iter().any(|d| abs.starts_with(d)) {
            return Err(SkipReason::OutsideWorkspace);
        }
        let parts: Vec<&str> = rel.split('/').collect();
        for depth in 1..=parts.len() {
            let prefix = parts[..depth].join("/");
            let is_dir = depth < parts.len();
            let name = parts[depth - 1];
            if name.starts_with('.') && !admits_hidden(&self.literal, &prefix) {
                return Err(SkipReason::Hidden);
            }
            if is_dir && self.excludes_dir(&prefix) {
                return Err(SkipReason::Excluded);
            }
            if ignored_by_files(&self.root, &parts[..depth], is_dir) {
                return Err(SkipReason::Ignored);
            }
        }
        if !self.selects(rel) {
            return Err(SkipReason::Excluded);
        }
        if looks_secret(rel) && !self.names(rel) {
            return Err(SkipReason::Secret);
        }
        if size > max_file_size {
            return Err(SkipReason::TooLarge {
                size,
                limit: max_file_size,
            });
        }
        Ok(())
    }
}

/// The path an include entry names, when it is a path and not a pattern:
/// no glob characters, relative, without `..`.
fn literal_path(entry: &str) -> Option<String> {
    let trimmed = entry
        .trim()
        .trim_start_matches("./")
        .trim_start_matches('/');
    let trimmed = trimmed.trim_end_matches('/');
    let plain = !trimmed.is_empty()
        && !trimmed.contains(['*', '?', '[', ']', '{', '}', '!', '\\'])
        && !trimmed
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    plain.then(|| trimmed.to_owned())
}

/// Whether a hidden file or directory `rel` is on the way to, or inside, a
/// path the user's include names literally (`literal`). `.git` never is.
fn admits_hidden(literal: &[String], rel: &str) -> bool {
    if rel.split('/').any(|part| part == ".git") {
        return false;
    }
    literal.iter().any(|l| {
        l == rel
            || l.strip_prefix(rel)
                .is_some_and(|rest| rest.starts_with('/'))
            || rel
                .strip_prefix(l.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Whether the ignore files of `parts`' ancestor directories leave out the
/// path `parts` (a directory when `is_dir`), the deepest file deciding, as
/// the walk decides.
fn ignored_by_files(root: &Path, parts: &[&str], is_dir: bool) -> bool {
    let path = root.join(parts.join("/"));
    for depth in (0..parts.len()).rev() {
        let dir = root.join(parts[..depth].join("/"));
        for name in IGNORE_FILES {
            let file = dir.join(name);
            if !file.is_file() {
                continue;
            }
            let mut builder = GitignoreBuilder::new(&dir);
            builder.add(&file);
            let Ok(rules) = builder.build() else {
                continue;
            };
            let matched = rules.matched(&path, is_dir);
            if matched.is_ignore() {
                return true;
            }
            if matched.is_whitelist() {
                return false;
            }
        }
    }
    git_exclude(root).is_some_and(|rules| rules.matched(&path, is_dir).is_ignore())
}

/// The repository's own `.git/info/exclude`, which the walk honours too.
fn git_exclude(root: &Path) -> Option<Gitignore> {
    let file = root.join(".git/info/exclude");
    if !file.is_file() {
        return None;
    }
    let mut builder = GitignoreBuilder::new(root);
    builder.add(file);
    builder.build().ok()
}

/// Walks `root` (canonical) and returns the files to index.
pub fn walk(root: &Path, options: &WalkOptions) -> Result<WalkOutput, WalkError> {
    let filters = Filters::new(root, options)?;
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        // Hidden entries are the filter's below: a literal include may
        // admit one, and nothing may admit `.git`.
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(false)
        .follow_links(options.follow_symlinks)
        .add_custom_ignore_filename(IGNORE_FILE)
        .overrides(filters.exclude.clone())
        .threads(options.threads.max(1));
    {
        let root = root.to_path_buf();
        let skip_dirs = options.skip_dirs.clone();
        let literal = filters.literal.clone();
        builder.filter_entry(move |entry| {
            if entry.depth() == 0 {
                return true;
            }
            if skip_dirs.iter().any(|d| entry.path() == d) {
                return false;
            }
            // By the name's bytes: a name that is not UTF-8 is not hidden
            // for that, and its file is reported as skipped below.
            let hidden = entry.file_name().as_encoded_bytes().starts_with(b".");
            !hidden
                || relative(&root, entry.path()).is_some_and(|rel| admits_hidden(&literal, &rel))
        });
    }

    let out = Mutex::new(WalkOutput::default());
    builder.build_parallel().run(|| {
        let out = &out;
        let filters = &filters;
        Box::new(move |entry| {
            let visit = visit(root, options, filters, entry);
            let mut out = out.lock().expect("walker lock");
            match visit {
                Visit::File(file) => out.files.push(file),
                Visit::Skip(skipped) => out.skipped.push(skipped),
                Visit::SkipDir(skipped) => {
                    out.skipped.push(skipped);
                    return WalkState::Skip;
                }
                Visit::Nothing => {}
            }
            WalkState::Continue
        })
    });
    let mut out = out.into_inner().expect("walker lock");
    out.files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

enum Visit {
    File(WalkedFile),
    Skip(Skipped),
    /// A directory not to descend into.
    SkipDir(Skipped),
    Nothing,
}

fn visit(
    root: &Path,
    options: &WalkOptions,
    filters: &Filters,
    entry: Result<ignore::DirEntry, ignore::Error>,
) -> Visit {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => return Visit::Skip(skipped_by_error(root, &err)),
    };
    let path = entry.path();
    let Some(file_type) = entry.file_type() else {
        return Visit::Nothing;
    };
    if file_type.is_dir() {
        // A followed link to a directory elsewhere would bring everything
        // under it in (a link to /etc: password files, TLS keys). Links
        // are checked where they are met, so nothing below one that leads
        // out is ever read.
        if entry.path_is_symlink() && entry.depth() > 0 {
            let rel = relative(root, path).unwrap_or_else(|| path.to_string_lossy().into_owned());
            match path.canonicalize() {
                Ok(target) if target.starts_with(root) => {}
                Ok(_) => {
                    return Visit::SkipDir(Skipped {
                        path: rel,
                        reason: SkipReason::OutsideWorkspace,
                    });
                }
                Err(err) => {
                    return Visit::SkipDir(Skipped {
                        path: rel,
                        reason: SkipReason::Unreadable(err.to_string()),
                    });
                }
            }
        }
        return Visit::Nothing;
    }
    if !file_type.is_file() {
        return Visit::Nothing;
    }
    let rel = relative(root, path);
    let Some(rel_path) = rel else {
        return Visit::Skip(Skipped {
            path: path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned(),
            reason: SkipReason::PathNotUtf8,
        });
    };
    if entry.path_is_symlink() {
        match path.canonicalize() {
            Ok(target) if target.starts_with(root) => {}
            Ok(_) => return skip(rel_path, SkipReason::OutsideWorkspace),
            Err(err) => return skip(rel_path, SkipReason::Unreadable(err.to_string())),
        }
    }
    if !filters.selects(&rel_path) {
        return Visit::Nothing;
    }
    if looks_secret(&rel_path) && !filters.names(&rel_path) {
        return skip(rel_path, SkipReason::Secret);
    }
    let meta = match entry.metadata() {
        Ok(meta) => meta,
        Err(err) => return skip(rel_path, SkipReason::Unreadable(err.to_string())),
    };
    if meta.len() > options.max_file_size {
        return skip(
            rel_path,
            SkipReason::TooLarge {
                size: meta.len(),
                limit: options.max_file_size,
            },
        );
    }
    Visit::File(WalkedFile {
        rel_path,
        abs_path: path.to_path_buf(),
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
    })
}

fn skip(path: String, reason: SkipReason) -> Visit {
    Visit::Skip(Skipped { path, reason })
}

/// Modification time in nanoseconds since the epoch (0 when unknown).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

/// `path` relative to `root` with `/` separators, `None` when not UTF-8.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/"))
}

fn skipped_by_error(root: &Path, err: &ignore::Error) -> Skipped {
    let mut path = None;
    let mut current = err;
    let reason = loop {
        match current {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| p.clone());
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err
            }
            ignore::Error::Loop { child, .. } => {
                path.get_or_insert_with(|| child.clone());
                break SkipReason::SymlinkLoop;
            }
            other => break SkipReason::Unreadable(other.to_string()),
        }
    };
    let path = path
        .as_deref()
        .map(|p| relative(root, p).unwrap_or_else(|| p.to_string_lossy().into_owned()))
        .unwrap_or_default();
    Skipped { path, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, content: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn summary(out: &WalkOutput) -> (Vec<&str>, Vec<String>) {
        (
            out.files.iter().map(|f| f.rel_path.as_str()).collect(),
            out.skipped
                .iter()
                .map(|s| format!("{}: {}", s.path, s.reason.category()))
                .collect(),
        )
    }

    #[test]
    fn honours_ignore_files_hidden_dirs_and_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "src/main.rs", b"fn main() {}");
        write(&root, "src/gen/out.rs", b"fn gen() {}");
        write(&root, "notes.txt", b"notes");
        write(&root, "big.py", &vec![b'x'; 2000]);
        write(&root, ".hidden/secret.py", b"x = 1");
        write(&root, "vendor/lib.py", b"y = 2");
        write(&root, "build/out.py", b"z = 3");
        write(&root, ".gitignore", b"build/\n");
        write(&root, ".dowseignore", b"vendor/\n");
        write(&root, "src/.ignore", b"gen/\n");
        let options = WalkOptions {
            max_file_size: 1000,
            ..WalkOptions::default()
        };
        let out = walk(&root, &options).unwrap();
        let (files, skipped) = summary(&out);
        assert_eq!(files, ["notes.txt", "src/main.rs"]);
        assert_eq!(skipped, ["big.py: too large"]);
    }

    #[test]
    fn include_and_exclude_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "a.py", b"a");
        write(&root, "b.rs", b"b");
        write(&root, "tests/c.py", b"c");
        let options = WalkOptions {
            include: vec!["*.py".into()],
            exclude: vec!["tests/".into()],
            ..WalkOptions::default()
        };
        let out = walk(&root, &options).unwrap();
        assert_eq!(summary(&out).0, ["a.py"]);
        let bad = WalkOptions {
            include: vec!["a[".into()],
            ..WalkOptions::default()
        };
        assert!(matches!(walk(&root, &bad), Err(WalkError::BadGlob { .. })));
    }

    /// A name that is not UTF-8 (Linux allows any bytes but `/` and NUL)
    /// is reported as skipped, not dropped without a word; one that starts
    /// with a dot is hidden all the same.
    #[test]
    fn a_file_name_that_is_not_utf8_is_reported() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "ok.py", b"x = 1");
        fs::write(root.join(OsStr::from_bytes(b"bad\xffname.py")), b"y = 2").unwrap();
        fs::create_dir(root.join(OsStr::from_bytes(b".hid\xff"))).unwrap();
        fs::write(root.join(OsStr::from_bytes(b".hid\xff/in.py")), b"z = 3").unwrap();
        let out = walk(&root, &WalkOptions::default()).unwrap();
        let (files, skipped) = summary(&out);
        assert_eq!(files, ["ok.py"]);
        assert_eq!(skipped, ["bad\u{FFFD}name.py: path not UTF-8"]);
    }

    #[test]
    fn survives_symlink_loops_and_stays_in_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "pkg/mod.py", b"x = 1");
        write(outside.path(), "secret.py", b"password = 1");
        std::os::unix::fs::symlink(&root, root.join("pkg/loop")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.py"), root.join("leak.py")).unwrap();
        std::os::unix::fs::symlink(root.join("pkg/mod.py"), root.join("alias.py")).unwrap();
        let out = walk(&root, &WalkOptions::default()).unwrap();
        let (files, skipped) = summary(&out);
        assert_eq!(files, ["alias.py", "pkg/mod.py"]);
        assert_eq!(
            skipped,
            ["leak.py: outside the workspace", "pkg/loop: symlink loop"]
        );
    }

    /// A link to a directory outside the workspace (here standing in for
    /// /etc) brings nothing in, however deep its files.
    #[test]
    fn directory_links_out_of_the_workspace_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "app.py", b"x = 1");
        write(&root, "lib/inner.py", b"y = 2");
        write(outside.path(), "passwd", b"root:x:0:0");
        write(
            outside.path(),
            "ssl/private/server.txt",
            b"BEGIN PRIVATE KEY",
        );
        std::os::unix::fs::symlink(outside.path(), root.join("etc")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("ssl"), root.join("lib/ssl")).unwrap();
        // A link to a directory inside the workspace is followed.
        std::os::unix::fs::symlink(root.join("lib"), root.join("lib-alias")).unwrap();
        let out = walk(&root, &WalkOptions::default()).unwrap();
        let (files, skipped) = summary(&out);
        assert_eq!(files, ["app.py", "lib-alias/inner.py", "lib/inner.py"]);
        assert_eq!(
            skipped,
            [
                "etc: outside the workspace",
                "lib-alias/ssl: outside the workspace",
                "lib/ssl: outside the workspace"
            ]
        );
    }

    #[test]
    fn files_that_look_like_secrets_are_left_out_unless_included() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "app.py", b"x = 1");
        write(&root, "certs/server.pem", b"-----BEGIN CERTIFICATE-----");
        write(&root, "certs/server.key", b"-----BEGIN PRIVATE KEY-----");
        write(
            &root,
            "deploy/id_rsa",
            b"-----BEGIN OPENSSH PRIVATE KEY-----",
        );
        write(&root, "store.p12", b"pkcs12");
        write(&root, "keys.rs", b"fn keys() {}");
        let out = walk(&root, &WalkOptions::default()).unwrap();
        let (files, skipped) = summary(&out);
        assert_eq!(files, ["app.py", "keys.rs"]);
        assert_eq!(
            skipped,
            [
                "certs/server.key: looks like a secret",
                "certs/server.pem: looks like a secret",
                "deploy/id_rsa: looks like a secret",
                "store.p12: looks like a secret",
            ]
        );
        // Named explicitly, a file is indexed.
        let options = WalkOptions {
            include: vec!["*.py".into(), "certs/server.pem".into()],
            ..WalkOptions::default()
        };
        let out = walk(&root, &options).unwrap();
        assert_eq!(summary(&out).0, ["app.py", "certs/server.pem"]);
        assert!(looks_secret(".env.production"));
        assert!(looks_secret("config/.netrc"));
        assert!(!looks_secret("src/environment.py"));
    }

    #[test]
    fn unreadable_directories_are_reported_not_fatal() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "ok.py", b"x = 1");
        write(&root, "locked/inner.py", b"y = 2");
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        let readable = fs::read_dir(root.join("locked")).is_ok(); // root ignores permissions
        let out = walk(&root, &WalkOptions::default()).unwrap();
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        let (files, skipped) = summary(&out);
        if readable {
            assert_eq!(files, ["locked/inner.py", "ok.py"]);
        } else {
            assert_eq!(files, ["ok.py"]);
            assert_eq!(skipped, ["locked: unreadable"]);
        }
    }
}
