//! What to embed first. Search by meaning is most useful where the user is
//! looking, so the chunks still without a vector are embedded in this
//! order: files open in an editor, then the files around them (the same
//! directory, and the modules they import), then files modified recently
//! (newest first), then the rest (by path).
//!
//! Imports are found by reading the open files' import lines, not by
//! parsing: a Python `import a.b` or `from .c import d`, a Rust `mod x;` or
//! `use crate::a::b` is resolved to the indexed files whose paths end as the
//! module would be named. A miss costs only order, never correctness.

use std::collections::{HashMap, HashSet};

/// Priority classes, lowest first.
pub(crate) const OPEN: u8 = 0;
const NEAR: u8 = 1;
const REST: u8 = 2;

/// The order of the embedding backlog.
#[derive(Clone, Debug, Default)]
pub struct Focus {
    open: HashSet<String>,
    near: HashSet<String>,
    near_dirs: HashSet<String>,
    /// Modification times (nanoseconds) of the indexed files.
    mtimes: HashMap<String, i128>,
}

impl Focus {
    /// `open`: the open files with their text; `files`: every indexed file
    /// with its modification time.
    pub fn new(open: &[(String, String)], files: HashMap<String, i128>) -> Focus {
        let mut focus = Focus {
            mtimes: files,
            ..Focus::default()
        };
        for (path, text) in open {
            focus.open.insert(path.clone());
            focus.near_dirs.insert(dir_of(path).to_owned());
            for near in imported(path, text, &focus.mtimes) {
                focus.near.insert(near);
            }
        }
        focus
    }

    /// Sorts before: lower is embedded sooner.
    pub fn rank(&self, path: &str) -> (u8, std::cmp::Reverse<i128>) {
        let mtime = std::cmp::Reverse(self.mtimes.get(path).copied().unwrap_or(0));
        let class = if self.open.contains(path) {
            OPEN
        } else if self.near.contains(path) || self.near_dirs.contains(dir_of(path)) {
            NEAR
        } else {
            REST
        };
        (class, mtime)
    }
}

fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The indexed files `text` (the file at `path`) imports.
fn imported(path: &str, text: &str, known: &HashMap<String, i128>) -> Vec<String> {
    let dir = dir_of(path);
    let mut wanted: Vec<String> = Vec::new();
    if path.ends_with(".py") {
        for line in text.lines() {
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("from ") {
                let module = rest.split_whitespace().next().unwrap_or("");
                let names = rest.split_once(" import ").map_or("", |(_, n)| n);
                python_module(dir, module, names, &mut wanted);
            } else if let Some(rest) = line.strip_prefix("import ") {
                for module in rest.split(',') {
                    let module = module.split_whitespace().next().unwrap_or("");
                    python_module(dir, module, "", &mut wanted);
                }
            }
        }
    } else if path.ends_with(".rs") {
        // `foo.rs` keeps its modules in `foo/`; `mod.rs`, `lib.rs` and
        // `main.rs` beside themselves.
        let stem = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".rs");
        let own = if matches!(stem, "mod" | "lib" | "main") {
            dir.to_owned()
        } else {
            join(dir, stem)
        };
        for line in text.lines() {
            let line = line
                .trim_start()
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ");
            if let Some(name) = line.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                wanted.push(format!("{}.rs", join(&own, name.trim())));
                wanted.push(format!("{}/mod.rs", join(&own, name.trim())));
            } else if let Some(rest) = line.strip_prefix("use ") {
                let parts: Vec<&str> = rest
                    .split("::")
                    .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
                    .take_while(|p| !p.is_empty())
                    .collect();
                match parts.first().copied() {
                    Some("crate") => rust_path(&parts[1..], &mut wanted),
                    Some("super") => {
                        let parent = dir_of(&own);
                        if let Some(name) = parts.get(1) {
                            wanted.push(format!("{}.rs", join(parent, name)));
                        }
                    }
                    Some("self") => {
                        if let Some(name) = parts.get(1) {
                            wanted.push(format!("{}.rs", join(&own, name)));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    for want in wanted {
        // Exact, or a suffix at a directory boundary (`a/b.py` matches
        // `src/a/b.py`: the package root is not known).
        if known.contains_key(&want) {
            out.push(want);
            continue;
        }
        let suffix = format!("/{want}");
        out.extend(known.keys().filter(|k| k.ends_with(&suffix)).cloned());
    }
    out.sort();
    out.dedup();
    out
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The files a Python `from module import names` / `import module` may
/// name, relative to the workspace (or to a package root, matched later).
fn python_module(dir: &str, module: &str, names: &str, out: &mut Vec<String>) {
    let dots = module.chars().take_while(|c| *c == '.').count();
    let rest = &module[dots..];
    let base = if dots > 0 {
        // `.` is this package, `..` its parent.
        let mut base = dir.to_owned();
        for _ in 1..dots {
            base = dir_of(&base).to_owned();
        }
        base
    } else {
        String::new()
    };
    let path = if rest.is_empty() {
        base.clone()
    } else {
        join(&base, &rest.replace('.', "/"))
    };
    if !rest.is_empty() {
        out.push(format!("{path}.py"));
        out.push(format!("{path}/__init__.py"));
    }
    // `from pkg import mod`: the names may be modules too.
    for name in names.split(',') {
        let name = name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '(' || c == ')');
        if !name.is_empty() && name != "*" && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            out.push(format!("{}.py", join(&path, name)));
        }
    }
}

fn rust_path(parts: &[&str], out: &mut Vec<String>) {
    // `crate::a::b::C`: `a/b.rs`, `a/b/mod.rs` or `a.rs` (matched as
    // suffixes, under any `src/`).
    for len in (1..=parts.len().min(3)).rev() {
        let path = parts[..len].join("/");
        out.push(format!("src/{path}.rs"));
        out.push(format!("src/{path}/mod.rs"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(paths: &[&str]) -> HashMap<String, i128> {
        paths
            .iter()
            .enumerate()
            .map(|(i, p)| ((*p).to_owned(), i as i128))
            .collect()
    }

    #[test]
    fn python_imports_resolve_to_indexed_files() {
        let files = known(&[
            "src/net/client.py",
            "src/net/retry.py",
            "src/util/duration.py",
            "src/util/__init__.py",
            "src/other.py",
        ]);
        let text = "import os\nfrom .client import StorageClient\nfrom ..util import duration\nimport util.duration as d\n";
        let found = imported("src/net/uploader.py", text, &files);
        assert_eq!(
            found,
            [
                "src/net/client.py",
                "src/util/__init__.py",
                "src/util/duration.py"
            ]
        );
    }

    #[test]
    fn rust_modules_and_crate_paths_resolve() {
        let files = known(&[
            "crates/a/src/lib.rs",
            "crates/a/src/parse.rs",
            "crates/a/src/net/mod.rs",
            "crates/a/src/net/tcp.rs",
            "crates/a/src/util.rs",
        ]);
        let lib = "pub mod parse;\nmod net;\nuse crate::util::Thing;\n";
        assert_eq!(
            imported("crates/a/src/lib.rs", lib, &files),
            [
                "crates/a/src/net/mod.rs",
                "crates/a/src/parse.rs",
                "crates/a/src/util.rs"
            ]
        );
        assert_eq!(
            imported("crates/a/src/net/mod.rs", "mod tcp;\n", &files),
            ["crates/a/src/net/tcp.rs"]
        );
    }

    #[test]
    fn open_then_near_then_recent_then_the_rest() {
        let files = known(&["a/old.py", "a/x.py", "b/y.py", "c/lib.py", "d/new.py"]);
        let focus = Focus::new(
            &[("a/x.py".to_owned(), "from c import lib\n".to_owned())],
            files,
        );
        let mut paths = vec!["d/new.py", "b/y.py", "c/lib.py", "a/old.py", "a/x.py"];
        paths.sort_by_key(|p| focus.rank(p));
        // Open; near (same directory, imported; newest first); the rest, newest first.
        assert_eq!(
            paths,
            ["a/x.py", "c/lib.py", "a/old.py", "d/new.py", "b/y.py"]
        );
    }
}
