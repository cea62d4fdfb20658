//! Modules: the file an import names (Python packages and relative
//! imports, Rust `crate`, `self`, `super` and `mod`, JavaScript and
//! TypeScript specifiers) and the names a module defines.

use super::*;

impl Workspace {
    /// A name defined or imported at the top level of a module, or a
    /// submodule of a package.
    pub(super) fn module_member(&self, module: FileId, name: &str, cache: &mut Cache) -> Target {
        let key = (module, name.to_owned());
        cache.step(
            |c| &mut c.members,
            key,
            Target::Unknown,
            |cache| self.module_member_step(module, name, cache),
        )
    }

    /// [`Workspace::module_member`] worked out: a step of its own, with a
    /// depth budget of its own (see `Cache`).
    fn module_member_step(&self, module: FileId, name: &str, cache: &mut Cache) -> Target {
        let depth = 0;
        let entry = self.entry(module);
        let mut t = Target::Foreign;
        if let Some(b) = entry.top.get(name).next() {
            let o = entry.usages.occurrence(b);
            t = if matches!(o.role(), Role::Definition(DefKind::Module)) {
                // `mod x;` → the file of module x, else the inline module.
                match self.submodule(module, name) {
                    Some(sub) => Target::Module(sub),
                    None => Target::Def(Symbol {
                        file: module,
                        occ: b,
                    }),
                }
            } else {
                self.resolve_binding(
                    Symbol {
                        file: module,
                        occ: b,
                    },
                    depth + 1,
                    cache,
                )
            };
        } else if let Some(sub) = self.submodule(module, name) {
            t = Target::Module(sub);
        } else {
            for import in entry
                .usages
                .imports
                .iter()
                .filter(|i| i.glob && i.top_level)
            {
                if let Target::Module(m) =
                    self.module_target(module, &import.module, depth + 1, cache)
                    && m != module
                {
                    let found = self.module_member(m, name, cache);
                    if matches!(found, Target::Def(_) | Target::Module(_)) {
                        t = found;
                        break;
                    }
                }
            }
        }
        t
    }

    pub(super) fn submodule(&self, module: FileId, name: &str) -> Option<FileId> {
        let entry = self.entry(module);
        let key = match entry.lang {
            Language::Python => format!("py:{}.{name}", entry.module),
            Language::Rust => format!("rs:{}::{name}", entry.module),
            _ => return None,
        };
        self.modules.get(&key).copied()
    }

    /// The module a path names, from `file`.
    pub(super) fn module_target(
        &self,
        file: FileId,
        path: &[String],
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        if cache.too_deep(depth) {
            return Target::Unknown;
        }
        if path.is_empty() {
            return Target::Unknown;
        }
        let entry = self.entry(file);
        match entry.lang {
            Language::Python => {
                let dots = path.iter().take_while(|s| *s == ".").count();
                let rest = &path[dots..];
                let name = if dots > 0 {
                    // The package of this file, up `dots - 1` levels.
                    let mut package: Vec<&str> = entry.module.split('.').collect();
                    if !entry.path.ends_with("__init__.py") {
                        package.pop();
                    }
                    for _ in 1..dots {
                        package.pop();
                    }
                    let mut parts: Vec<&str> = package;
                    parts.extend(rest.iter().map(String::as_str));
                    parts.join(".")
                } else {
                    rest.join(".")
                };
                match self.modules.get(&format!("py:{name}")) {
                    Some(&m) => Target::Module(m),
                    None if dots > 0 && rest.is_empty() => Target::Unknown,
                    None => Target::Foreign,
                }
            }
            Language::Rust => {
                let (crate_root, here) =
                    entry.module.split_once("::").unwrap_or((&entry.module, ""));
                let mut current: Vec<String> = if here.is_empty() {
                    Vec::new()
                } else {
                    here.split("::").map(str::to_owned).collect()
                };
                // `mod.rs`, `lib.rs`: the module is the directory.
                let mut segments = path.iter().peekable();
                let mut absolute = false;
                match segments.peek().map(|s| s.as_str()) {
                    Some("crate") => {
                        current.clear();
                        absolute = true;
                        segments.next();
                    }
                    Some("self") => {
                        absolute = true;
                        segments.next();
                    }
                    Some("super") => {
                        absolute = true;
                        while segments.peek().is_some_and(|s| *s == "super") {
                            current.pop();
                            segments.next();
                        }
                    }
                    _ => {}
                }
                let mut module = self.rust_module(crate_root, &current);
                let Some(mut m) = module else {
                    return Target::Unknown;
                };
                if !absolute {
                    // A path may start at a name in scope (`use
                    // command::Command` after `mod command;`, or an imported
                    // module).
                    let first = segments.next().expect("non-empty path");
                    match self.module_member(m, first, cache) {
                        Target::Module(sub) => m = sub,
                        _ => match self.rust_module(crate_root, std::slice::from_ref(first)) {
                            Some(sub) if first != "std" && first != "core" && first != "alloc" => {
                                m = sub
                            }
                            _ => return Target::Foreign,
                        },
                    }
                }
                for seg in segments {
                    module = match self.module_member(m, seg, cache) {
                        Target::Module(sub) => Some(sub),
                        _ => None,
                    };
                    match module {
                        Some(sub) => m = sub,
                        None => return Target::Unknown,
                    }
                }
                Target::Module(m)
            }
            Language::TypeScript | Language::Tsx | Language::JavaScript => {
                // Only relative specifiers name files of the workspace.
                let spec = &path[0];
                if !spec.starts_with('.') {
                    return Target::Foreign;
                }
                let mut parts: Vec<&str> = entry.path.split('/').collect();
                parts.pop();
                for seg in spec.split('/') {
                    match seg {
                        "." | "" => {}
                        ".." => {
                            if parts.pop().is_none() {
                                return Target::Foreign;
                            }
                        }
                        seg => parts.push(seg),
                    }
                }
                let joined = parts.join("/");
                let stem = js_stem(&joined);
                match self
                    .modules
                    .get(&format!("js:{stem}"))
                    .or_else(|| self.modules.get(&format!("js:{joined}")))
                {
                    Some(&m) => Target::Module(m),
                    None => Target::Unknown,
                }
            }
            _ => Target::Unknown,
        }
    }

    pub(super) fn rust_module(&self, crate_root: &str, path: &[String]) -> Option<FileId> {
        let key = if path.is_empty() {
            format!("rs:{crate_root}")
        } else {
            format!("rs:{crate_root}::{}", path.join("::"))
        };
        self.modules.get(&key).copied()
    }
}

/// The module path of a file: Python `pkg/sub/mod.py` → `pkg.sub.mod`
/// (`__init__.py` names its package); Rust `crate-dir/src/a/b.rs` →
/// `crate-dir/src::a::b` (`mod.rs`, `lib.rs`, `main.rs` name their
/// directory).
pub(super) fn module_path(path: &str, lang: Language) -> String {
    match lang {
        Language::Python => {
            let stem = path
                .strip_suffix(".py")
                .or_else(|| path.strip_suffix(".pyi"))
                .unwrap_or(path);
            let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
            stem.replace('/', ".")
        }
        Language::Rust => {
            let stem = path.strip_suffix(".rs").unwrap_or(path);
            // The crate's source root: the nearest `src` directory, else
            // the file's directory.
            let parts: Vec<&str> = stem.split('/').collect();
            let root = parts
                .iter()
                .rposition(|p| *p == "src")
                .map(|i| i + 1)
                .unwrap_or(parts.len() - 1);
            let crate_dir = parts[..root].join("/");
            let mut module: Vec<&str> = parts[root..].to_vec();
            if matches!(module.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
                module.pop();
            }
            if module.is_empty() {
                crate_dir
            } else {
                format!("{crate_dir}::{}", module.join("::"))
            }
        }
        Language::TypeScript | Language::Tsx | Language::JavaScript => js_stem(path).to_owned(),
        _ => path.to_owned(),
    }
}

/// A JavaScript or TypeScript path without its extension: what an import
/// specifier names (`./client` or `./client.js` for `client.ts`).
pub(super) fn js_stem(path: &str) -> &str {
    const EXTENSIONS: &[&str] = &[
        ".d.ts", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs",
    ];
    EXTENSIONS
        .iter()
        .find_map(|ext| path.strip_suffix(ext))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn module_paths() {
        assert_eq!(module_path("pkg/nodes.py", Language::Python), "pkg.nodes");
        assert_eq!(module_path("pkg/__init__.py", Language::Python), "pkg");
        assert_eq!(
            module_path("cli_core/src/builder/command.rs", Language::Rust),
            "cli_core/src::builder::command"
        );
        assert_eq!(
            module_path("cli_core/src/builder/mod.rs", Language::Rust),
            "cli_core/src::builder"
        );
        assert_eq!(
            module_path("cli_core/src/lib.rs", Language::Rust),
            "cli_core/src"
        );
    }
}
