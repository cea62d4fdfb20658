//! Resolution across files: which definition an occurrence refers to.
//!
//! A [`Workspace`] holds the [`FileUsages`] of every file and a name index
//! over their occurrences. A query starts from a definition (a [`Symbol`])
//! and keeps those occurrences of its name that resolve to it:
//!
//! - a plain name through its local binding, else the file's top-level
//!   bindings, else its glob imports; imports are followed to the module
//!   they name (Python packages and relative imports, Rust `crate`, `self`,
//!   `super` and `mod` declarations), aliases included;
//! - `recv.name` and `Type::name` by typing the receiver ([`Ty`]): `self`
//!   is the enclosing class or `impl` type; a name is typed by its
//!   annotation, its assigned value or the return type of the call that
//!   made it; members are looked up along base classes, trait impls and
//!   `Deref` targets;
//! - a receiver that cannot be typed counts only when the name is
//!   distinctive: one definition in the workspace and not the name of a
//!   builtin or standard library method (`copy`, `find`, `get`, ...).
//!
//! Everything here is pure and synchronous; the engine keeps the workspace
//! up to date as files change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{DefKind, Expr, ExprId, FileUsages, Name, OccId, RefKind, Role};
use crate::Language;

/// A file in the workspace.
pub type FileId = u32;

/// A definition: the file and the occurrence of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    pub file: FileId,
    pub occ: OccId,
}

/// How deep resolution follows imports, assignments and types.
const MAX_DEPTH: u32 = 12;

/// What an expression evaluates to, as far as resolution can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ty {
    /// A value of a workspace class, struct, enum or trait.
    Instance(Symbol),
    /// The class (or type) itself: `Foo.method`, `Foo::new`.
    Class(Symbol),
    /// A workspace function or method, to be called.
    Callable(Symbol),
    /// A workspace module.
    Module(FileId),
    /// A builtin or external value: its members are not ours.
    Foreign,
    Unknown,
}

/// What a name resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    Def(Symbol),
    Module(FileId),
    Foreign,
    Unknown,
}

struct FileEntry {
    path: String,
    lang: Language,
    usages: Arc<FileUsages>,
    /// Top-level bindings (definitions and imports) by name.
    top: HashMap<Name, Vec<OccId>>,
    /// Which import an occurrence belongs to.
    import_of: HashMap<OccId, usize>,
    /// The module path of the file: `pkg.nodes`, `crate::builder`
    /// (with its crate root directory as a prefix for Rust).
    module: String,
}

/// The occurrences of every file of a workspace, and resolution over them.
#[derive(Default)]
pub struct Workspace {
    files: Vec<Option<FileEntry>>,
    by_path: HashMap<String, FileId>,
    /// Module paths (and, for Python, their suffixes) → file.
    modules: HashMap<String, FileId>,
    /// Occurrences by name.
    names: HashMap<Name, Vec<(FileId, OccId)>>,
}

/// The answer to a usages query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usages {
    pub definitions: Vec<Symbol>,
    pub references: Vec<Symbol>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Adds or replaces the occurrences of a file (`path` relative to the
    /// workspace root, `/`-separated).
    pub fn set_file(&mut self, path: &str, lang: Language, usages: Arc<FileUsages>) {
        self.remove_file(path);
        let id = match self.files.iter().position(Option::is_none) {
            Some(free) => free as FileId,
            None => {
                self.files.push(None);
                (self.files.len() - 1) as FileId
            }
        };
        let mut top: HashMap<Name, Vec<OccId>> = HashMap::new();
        let mut import_of = HashMap::new();
        for (i, import) in usages.imports.iter().enumerate() {
            for &occ in &import.occurrences {
                import_of.insert(occ, i);
            }
        }
        for (i, occ) in usages.occurrences.iter().enumerate() {
            let i = i as OccId;
            if occ.names_index_only() {
                continue;
            }
            let binds = match occ.role {
                Role::Definition(DefKind::Parameter) => false,
                Role::Definition(_) => {
                    occ.top_level && occ.receiver().is_none() && occ.local().is_none()
                }
                Role::Reference(RefKind::Import) => {
                    // The occurrence an import binds: the alias, else the
                    // imported name (Python `import a.b` binds `a`).
                    import_of.get(&i).is_some_and(|&k| {
                        let import = &usages.imports[k];
                        import.top_level
                            && import.local_name == occ.name
                            && import.occurrences.last() == Some(&i)
                            || import.top_level
                                && import.name.is_none()
                                && import.occurrences.first() == Some(&i)
                                && import.local_name == occ.name
                    })
                }
                Role::Reference(_) => false,
            };
            if binds {
                top.entry(occ.name.clone()).or_default().push(i);
            }
        }
        if let Some(default) = usages.default_export {
            top.entry(super::intern("default"))
                .or_default()
                .push(default);
        }
        for (i, occ) in usages.occurrences.iter().enumerate() {
            self.names
                .entry(occ.name.clone())
                .or_default()
                .push((id, i as OccId));
        }
        let module = module_path(path, lang);
        match lang {
            Language::Python => {
                // `a.b.c` answers to `a.b.c`, and (unless taken) `b.c` and
                // `c`: a workspace may hold a package under `src/` or `Lib/`.
                self.modules.insert(format!("py:{module}"), id);
                let mut rest = module.as_str();
                while let Some((_, tail)) = rest.split_once('.') {
                    self.modules.entry(format!("py:{tail}")).or_insert(id);
                    rest = tail;
                }
            }
            Language::Rust => {
                self.modules.insert(format!("rs:{module}"), id);
            }
            // TypeScript and JavaScript: `./net/client` names
            // `net/client.ts` (or `.js`, ...) and `net/client/index.ts`.
            Language::TypeScript | Language::Tsx | Language::JavaScript => {
                self.modules.insert(format!("js:{module}"), id);
                if let Some(dir) = module.strip_suffix("/index") {
                    self.modules.entry(format!("js:{dir}")).or_insert(id);
                } else if module == "index" {
                    self.modules.entry("js:".to_owned()).or_insert(id);
                }
            }
            // Other languages have no modules dowse follows.
            _ => {}
        }
        self.by_path.insert(path.to_owned(), id);
        self.files[id as usize] = Some(FileEntry {
            path: path.to_owned(),
            lang,
            usages,
            top,
            import_of,
            module,
        });
    }

    pub fn remove_file(&mut self, path: &str) {
        let Some(id) = self.by_path.remove(path) else {
            return;
        };
        let Some(entry) = self.files[id as usize].take() else {
            return;
        };
        let mut seen = HashSet::new();
        for occ in &entry.usages.occurrences {
            if seen.insert(occ.name.as_str())
                && let Some(list) = self.names.get_mut(&occ.name)
            {
                list.retain(|(f, _)| *f != id);
                if list.is_empty() {
                    self.names.remove(&occ.name);
                }
            }
        }
        self.modules.retain(|_, f| *f != id);
    }

    /// Gives back the growth slack of the name index after many files were
    /// set at once (the first build of a workspace).
    pub fn shrink(&mut self) {
        for list in self.names.values_mut() {
            list.shrink_to_fit();
        }
        self.names.shrink_to_fit();
    }

    pub fn file_count(&self) -> usize {
        self.by_path.len()
    }

    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn path(&self, file: FileId) -> &str {
        &self.entry(file).path
    }

    pub fn usages_of(&self, file: FileId) -> &FileUsages {
        &self.entry(file).usages
    }

    fn entry(&self, file: FileId) -> &FileEntry {
        self.files[file as usize].as_ref().expect("live file id")
    }

    fn occ(&self, s: Symbol) -> &super::Occurrence {
        self.entry(s.file).usages.occurrence(s.occ)
    }

    /// The definitions a symbol query names: `name`, `Owner.name` or
    /// `Owner::name`.
    pub fn definitions_named(&self, query: &str) -> Vec<Symbol> {
        let (owner, name) = match query.rsplit_once("::").or_else(|| query.rsplit_once('.')) {
            Some((owner, name)) => (Some(owner.rsplit([':', '.']).next().unwrap_or(owner)), name),
            None => (None, query),
        };
        let mut out = Vec::new();
        for &(file, occ) in self.names.get(name).map(Vec::as_slice).unwrap_or_default() {
            let s = Symbol { file, occ };
            let o = self.occ(s);
            let Role::Definition(kind) = o.role else {
                continue;
            };
            if matches!(kind, DefKind::Import | DefKind::Parameter) || o.local().is_some() {
                continue;
            }
            match owner {
                Some(owner) => {
                    if self.owner_name(s).as_deref() == Some(owner) {
                        out.push(s);
                    }
                }
                // Unqualified: top-level items and members, not locals.
                None => {
                    if o.top_level
                        || o.owner().is_some() && o.function().is_none_or(|f| Some(f) != o.owner())
                    {
                        out.push(s);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The symbol at a byte offset of a file: the definition there, or the
    /// one the reference there resolves to.
    pub fn symbol_at(&self, file: FileId, offset: usize) -> Option<Symbol> {
        let usages = &self.entry(file).usages;
        let occ = usages.at(offset)?;
        let s = Symbol { file, occ };
        match self.resolve_occurrence(s, 0) {
            Target::Def(def) => Some(def),
            _ => matches!(usages.occurrence(occ).role, Role::Definition(_)).then_some(s),
        }
    }

    /// The name of the class, struct or impl type a definition belongs to.
    fn owner_name(&self, s: Symbol) -> Option<String> {
        let owner = self.occ(s).owner()?;
        Some(self.entry(s.file).usages.occurrence(owner).name.to_string())
    }

    /// Every occurrence that refers to `target`.
    pub fn usages(&self, target: Symbol) -> Usages {
        let mut out = Usages {
            definitions: vec![target],
            references: Vec::new(),
        };
        let name = &self.occ(target).name;
        let target_kind = match self.occ(target).role {
            Role::Definition(kind) => kind,
            Role::Reference(_) => DefKind::Variable,
        };
        let lang = self.entry(target.file).lang;
        let distinctive = self.is_distinctive(lang, name);
        let mut cache = Cache::default();
        // In TypeScript and JavaScript a method is one with the methods it
        // overrides and that override it, as their compiler's find
        // references has it; javac (and Python's and Rust's tools) keep
        // each declaration apart: measured on gson, linking them there
        // costs Java's method precision (.69 against javac's answers).
        let overrides = target_kind == DefKind::Method && lang.is_javascript();
        let root = overrides.then(|| self.override_root(target, 0, &mut cache));
        // Names to scan: the symbol's own, then the aliases it is imported
        // under (`from m import f as g`: `g(...)` uses `f`).
        let mut names = vec![name.clone()];
        // A module's default export is imported under any name.
        if let Some(default) = self.entry(target.file).usages.default_export
            && self.resolve_cached(
                Symbol {
                    file: target.file,
                    occ: default,
                },
                &mut cache,
            ) == Target::Def(target)
        {
            for entry in self.files.iter().flatten() {
                for import in &entry.usages.imports {
                    if import.name.as_deref() == Some("default")
                        && !names.iter().any(|n| *n == import.local_name)
                    {
                        names.push(super::intern(&import.local_name));
                    }
                }
            }
        }
        let mut scanned = 0;
        while scanned < names.len() {
            let scan = names[scanned].clone();
            scanned += 1;
            for &(file, occ) in self
                .names
                .get(scan.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let s = Symbol { file, occ };
                if s == target {
                    continue;
                }
                let o = self.occ(s);
                if self.entry(file).lang != self.entry(target.file).lang {
                    continue;
                }
                match o.role {
                    // `f(name=...)` names a parameter of whatever `f` is.
                    Role::Reference(RefKind::KeywordArgument) => continue,
                    // `import d from "./m"` binds a name of its own to the
                    // module's default export, `const { f } = require("./m")`
                    // binds `f`: references to what they import.
                    Role::Definition(DefKind::Import | DefKind::Variable)
                        if self.imports_by_name(s) => {}
                    Role::Definition(DefKind::Import) => continue,
                    Role::Definition(kind) if o.local().is_none() && o.receiver().is_none() => {
                        // An override's (or the overridden) declaration.
                        if kind == DefKind::Method
                            && root.is_some()
                            && root == Some(self.override_root(s, 0, &mut cache))
                        {
                            out.references.push(s);
                        }
                        continue;
                    }
                    _ => {}
                }
                let resolved = self.resolve_cached(s, &mut cache);
                let hit = match resolved {
                    Target::Def(def) => {
                        def == target
                            || self.same_symbol(def, target)
                            || root.is_some()
                                && root == Some(self.override_root(def, 0, &mut cache))
                    }
                    Target::Unknown => {
                        // An untyped receiver: a distinctive member name counts.
                        scanned == 1
                            && (o.receiver().is_some() && self.is_member_like(target_kind)
                                || o.in_macro)
                            && distinctive
                    }
                    // A name inside a macro means what its expansion makes of it.
                    Target::Foreign => scanned == 1 && o.in_macro && distinctive,
                    Target::Module(_) => false,
                };
                if !hit {
                    continue;
                }
                out.references.push(s);
                if let Some(&k) = self.entry(file).import_of.get(&occ) {
                    let alias = &self.entry(file).usages.imports[k].local_name;
                    if alias != "*" && !names.iter().any(|n| n == alias) {
                        names.push(super::intern(alias));
                    }
                }
            }
        }
        out.references.sort();
        out
    }

    /// Two definitions of one symbol: a Python name bound in several
    /// places of a module (`try: import x` / `except: def x`) counts once,
    /// and so do a TypeScript method's overload signatures.
    fn same_symbol(&self, a: Symbol, b: Symbol) -> bool {
        a.file == b.file && {
            let (x, y) = (self.occ(a), self.occ(b));
            let overload = x.role == Role::Definition(DefKind::Method)
                && y.role == x.role
                && x.owner().is_some()
                && x.owner() == y.owner()
                && self.entry(a.file).lang.is_javascript();
            x.name == y.name
                && (overload
                    || x.top_level
                        && y.top_level
                        && x.receiver().is_none()
                        && y.receiver().is_none())
        }
    }

    /// A definition that is an import of the module's default export or of
    /// the name it has itself.
    fn imports_by_name(&self, s: Symbol) -> bool {
        let entry = self.entry(s.file);
        let js = entry.lang.is_javascript();
        js && entry.import_of.get(&s.occ).is_some_and(|&k| {
            let name = entry.usages.imports[k].name.as_deref();
            name == Some("default") || name == Some(self.occ(s).name.as_str())
        })
    }

    fn is_member_like(&self, kind: DefKind) -> bool {
        matches!(
            kind,
            DefKind::Method
                | DefKind::Field
                | DefKind::Function
                | DefKind::Constant
                | DefKind::Variant
        )
    }

    /// One definition of a method or function of this name in the whole
    /// workspace, and not the name of a common builtin method.
    fn is_distinctive(&self, lang: Language, name: &str) -> bool {
        if lang.spec().common_methods.contains(&name) || name.starts_with("__") {
            return false;
        }
        let defs = self.names.get(name).map(Vec::as_slice).unwrap_or_default();
        let count = defs
            .iter()
            .filter(|&&(file, occ)| {
                let o = self.occ(Symbol { file, occ });
                matches!(
                    o.role,
                    Role::Definition(DefKind::Method | DefKind::Function | DefKind::Field)
                ) && o.local().is_none()
                    && o.receiver().is_none()
            })
            .count();
        count <= 1
    }

    fn resolve_cached(&self, s: Symbol, cache: &mut Cache) -> Target {
        if let Some(t) = cache.resolved.get(&s) {
            return *t;
        }
        let t = self.resolve_occurrence_with(s, 0, cache);
        cache.resolved.insert(s, t);
        t
    }

    fn resolve_occurrence(&self, s: Symbol, depth: u32) -> Target {
        self.resolve_occurrence_with(s, depth, &mut Cache::default())
    }

    /// What an occurrence refers to.
    fn resolve_occurrence_with(&self, s: Symbol, depth: u32, cache: &mut Cache) -> Target {
        if depth > MAX_DEPTH {
            return Target::Unknown;
        }
        let entry = self.entry(s.file);
        let o = entry.usages.occurrence(s.occ);
        // A name in an import statement.
        if let Some(&k) = entry.import_of.get(&s.occ) {
            let import = &entry.usages.imports[k];
            return self.import_part(s.file, import, s.occ, depth, cache);
        }
        if let Some(receiver) = o.receiver() {
            let ty = self.type_of(s.file, receiver, o.owner(), depth + 1, cache);
            return self.member(ty, &o.name, depth + 1, cache);
        }
        match o.role {
            Role::Definition(_) => match o.local() {
                Some(first) => self.resolve_binding(
                    Symbol {
                        file: s.file,
                        occ: first,
                    },
                    depth + 1,
                    cache,
                ),
                None => Target::Def(s),
            },
            Role::Reference(_) => match o.local() {
                Some(binding) => self.resolve_binding(
                    Symbol {
                        file: s.file,
                        occ: binding,
                    },
                    depth + 1,
                    cache,
                ),
                None => self.global(s.file, &o.name, depth + 1, cache),
            },
        }
    }

    /// What the name of an import statement refers to: the imported name
    /// (or its alias) → the definition it imports; a module segment → the
    /// module.
    fn import_part(
        &self,
        file: FileId,
        import: &super::Import,
        occ: OccId,
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        let o = self.entry(file).usages.occurrence(occ);
        let module = self.module_target(file, &import.module, depth, cache);
        let is_last = import.occurrences.last() == Some(&occ);
        let is_name = match &import.name {
            Some(name) => {
                *name == o.name
                    && (is_last
                        || import.occurrences.len() > 1
                            && import.occurrences[import.occurrences.len() - 2] == occ)
            }
            None => false,
        };
        if is_name || (is_last && import.name.is_some()) {
            let name = import.name.as_deref().unwrap_or(&o.name);
            return match module {
                Target::Module(m) => self.module_member(m, name, depth + 1, cache),
                other => other,
            };
        }
        // A segment of the module path: the module up to that segment.
        let index = import.module.iter().position(|seg| *seg == o.name);
        match index {
            Some(i) => self.module_target(file, &import.module[..=i], depth, cache),
            None => module,
        }
    }

    /// A binding occurrence: an import, a definition, or a second assignment.
    fn resolve_binding(&self, b: Symbol, depth: u32, cache: &mut Cache) -> Target {
        if depth > MAX_DEPTH {
            return Target::Unknown;
        }
        let entry = self.entry(b.file);
        if let Some(&k) = entry.import_of.get(&b.occ) {
            let import = &entry.usages.imports[k];
            return match &import.name {
                Some(name) => match self.module_target(b.file, &import.module, depth, cache) {
                    Target::Module(m) => self.module_member(m, name, depth + 1, cache),
                    other => other,
                },
                None => self.module_target(b.file, &import.module, depth, cache),
            };
        }
        let o = entry.usages.occurrence(b.occ);
        match (o.role, o.local()) {
            (_, Some(first)) if first != b.occ => self.resolve_binding(
                Symbol {
                    file: b.file,
                    occ: first,
                },
                depth + 1,
                cache,
            ),
            // `mod x;` binds the module in file `x.rs` / `x/mod.rs`.
            (Role::Definition(DefKind::Module), _) => match self.submodule(b.file, &o.name) {
                Some(sub) => Target::Module(sub),
                None => Target::Def(b),
            },
            (Role::Definition(_), _) => Target::Def(b),
            (Role::Reference(_), _) => self.global(b.file, &o.name, depth + 1, cache),
        }
    }

    /// A name not bound locally: the file's top-level bindings, then its
    /// glob imports.
    fn global(&self, file: FileId, name: &str, depth: u32, cache: &mut Cache) -> Target {
        if depth > MAX_DEPTH {
            return Target::Unknown;
        }
        let entry = self.entry(file);
        if name == "self" || name == "Self" {
            return Target::Unknown;
        }
        if let Some(bindings) = entry.top.get(name) {
            // A definition wins over an import of the same name (`try:
            // import x` / `except ImportError: def x`).
            let def = bindings
                .iter()
                .find(|&&b| matches!(entry.usages.occurrence(b).role, Role::Definition(k) if k != DefKind::Import));
            let first = def.or(bindings.first()).copied();
            if let Some(b) = first {
                return self.resolve_binding(Symbol { file, occ: b }, depth + 1, cache);
            }
        }
        for import in entry.usages.imports.iter().filter(|i| i.glob) {
            if let Target::Module(m) = self.module_target(file, &import.module, depth + 1, cache)
                && m != file
            {
                let t = self.module_member(m, name, depth + 1, cache);
                if matches!(t, Target::Def(_) | Target::Module(_)) {
                    return t;
                }
            }
        }
        if !matches!(entry.lang, Language::Python | Language::Rust) {
            return self.only_top_level_definition(file, name);
        }
        // Rust: a module declared in the crate root (`mod x;`) is not a
        // binding of the file; a name not found is external or builtin.
        Target::Foreign
    }

    /// Beyond Python and Rust, whose imports resolve every name: a name not
    /// bound in its file is the one top-level definition of that name in
    /// another file of the language (a Go package's function used from
    /// another file of the package, a CommonJS `require`d function); with
    /// none or several, it is external.
    fn only_top_level_definition(&self, file: FileId, name: &str) -> Target {
        let lang = self.entry(file).lang;
        let mut found = None;
        for &(other, occ) in self.names.get(name).map(Vec::as_slice).unwrap_or_default() {
            if other == file || self.entry(other).lang != lang {
                continue;
            }
            let s = Symbol { file: other, occ };
            let o = self.occ(s);
            let definition = matches!(o.role, Role::Definition(k) if !matches!(k, DefKind::Import | DefKind::Parameter));
            if definition && o.top_level && o.local().is_none() && o.receiver().is_none() {
                match found {
                    // Overloads (TypeScript's signatures before a body) are
                    // one function: the first stands for them.
                    Some(first) if self.same_symbol(first, s) => {}
                    Some(_) => return Target::Foreign,
                    None => found = Some(s),
                }
            }
        }
        found.map_or(Target::Foreign, Target::Def)
    }

    /// A name defined or imported at the top level of a module, or a
    /// submodule of a package.
    fn module_member(&self, module: FileId, name: &str, depth: u32, cache: &mut Cache) -> Target {
        if depth > MAX_DEPTH {
            return Target::Unknown;
        }
        let key = (module, name.to_owned());
        if let Some(t) = cache.members.get(&key) {
            return *t;
        }
        cache.members.insert(key.clone(), Target::Unknown);
        let entry = self.entry(module);
        let mut t = Target::Foreign;
        if let Some(bindings) = entry.top.get(name) {
            let b = bindings[0];
            let o = entry.usages.occurrence(b);
            t = if matches!(o.role, Role::Definition(DefKind::Module)) {
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
                    let found = self.module_member(m, name, depth + 1, cache);
                    if matches!(found, Target::Def(_) | Target::Module(_)) {
                        t = found;
                        break;
                    }
                }
            }
        }
        cache.members.insert(key, t);
        t
    }

    fn submodule(&self, module: FileId, name: &str) -> Option<FileId> {
        let entry = self.entry(module);
        let key = match entry.lang {
            Language::Python => format!("py:{}.{name}", entry.module),
            Language::Rust => format!("rs:{}::{name}", entry.module),
            _ => return None,
        };
        self.modules.get(&key).copied()
    }

    /// The module a path names, from `file`.
    fn module_target(
        &self,
        file: FileId,
        path: &[String],
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        if depth > MAX_DEPTH || path.is_empty() {
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
                    match self.module_member(m, first, depth + 1, cache) {
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
                    module = match self.module_member(m, seg, depth + 1, cache) {
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

    fn rust_module(&self, crate_root: &str, path: &[String]) -> Option<FileId> {
        let key = if path.is_empty() {
            format!("rs:{crate_root}")
        } else {
            format!("rs:{crate_root}::{}", path.join("::"))
        };
        self.modules.get(&key).copied()
    }

    /// The type of a receiver expression.
    fn type_of(
        &self,
        file: FileId,
        expr: ExprId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Ty {
        if depth > MAX_DEPTH {
            return Ty::Unknown;
        }
        let usages = &self.entry(file).usages;
        match usages.expr(expr) {
            Expr::SelfValue => match owner {
                Some(owner) => match self.owner_type(Symbol { file, occ: owner }, depth + 1, cache)
                {
                    Some(class) => Ty::Instance(class),
                    None => Ty::Unknown,
                },
                None => Ty::Unknown,
            },
            Expr::SuperValue => {
                let class =
                    owner.and_then(|o| self.owner_type(Symbol { file, occ: o }, depth + 1, cache));
                match class.and_then(|c| self.bases(c).into_iter().next()) {
                    Some(base) => {
                        let class_owner = class.and_then(|c| self.occ(c).owner());
                        match self.type_of(file, base, class_owner, depth + 1, cache) {
                            Ty::Class(b) | Ty::Instance(b) => Ty::Instance(b),
                            ty => ty,
                        }
                    }
                    None => Ty::Unknown,
                }
            }
            Expr::Name(name, local) => {
                let target = match local {
                    Some(b) => self.resolve_binding(Symbol { file, occ: *b }, depth + 1, cache),
                    None if name == "self" => {
                        return self.type_of_self(file, owner, depth, cache);
                    }
                    None => self.global(file, name, depth + 1, cache),
                };
                self.type_of_target(target, depth + 1, cache)
            }
            Expr::Attr(inner, name) => {
                let ty = self.type_of(file, *inner, owner, depth + 1, cache);
                let member = self.member(ty, name, depth + 1, cache);
                self.type_of_target(member, depth + 1, cache)
            }
            Expr::Call(callee) => match self.type_of(file, *callee, owner, depth + 1, cache) {
                Ty::Class(class) => Ty::Instance(class),
                Ty::Callable(f) => self.return_type(f, depth + 1, cache),
                ty => match usages.expr(*callee) {
                    // `xs.iter().filter(..)`, `x.clone()`: the elements (or
                    // the value) of `xs` stay what they were; a declared
                    // `Vec<Arg>` was read as `Arg`.
                    Expr::Attr(inner, method)
                        if self
                            .entry(file)
                            .lang
                            .spec()
                            .passthrough
                            .contains(&method.as_str()) =>
                    {
                        match self.type_of(file, *inner, owner, depth + 1, cache) {
                            Ty::Instance(class) => Ty::Instance(class),
                            _ => ty,
                        }
                    }
                    _ if ty == Ty::Foreign => Ty::Foreign,
                    _ => Ty::Unknown,
                },
            },
            Expr::Element(inner) | Expr::Unwrap(inner) => {
                match self.type_of(file, *inner, owner, depth + 1, cache) {
                    // A declared `Vec<Foo>` was already read as `Foo`.
                    Ty::Instance(class) => Ty::Instance(class),
                    _ => Ty::Unknown,
                }
            }
            Expr::Path(segments) => {
                let target = self.path_target(file, segments, owner, depth + 1, cache);
                self.type_of_target(target, depth + 1, cache)
            }
            Expr::Require(spec) => {
                match self.module_target(file, std::slice::from_ref(spec), depth + 1, cache) {
                    Target::Module(m) => Ty::Module(m),
                    _ => Ty::Foreign,
                }
            }
            Expr::Literal(_) => Ty::Foreign,
            Expr::Unknown => Ty::Unknown,
        }
    }

    fn type_of_self(
        &self,
        file: FileId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Ty {
        match owner.and_then(|o| self.owner_type(Symbol { file, occ: o }, depth + 1, cache)) {
            Some(class) => Ty::Instance(class),
            None => Ty::Unknown,
        }
    }

    /// `a::b::C`, `Self::new`, `C::new`, `module::func`.
    fn path_target(
        &self,
        file: FileId,
        segments: &[String],
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        let Some((first, rest)) = segments.split_first() else {
            return Target::Unknown;
        };
        let mut current = match first.as_str() {
            "Self" => match owner
                .and_then(|o| self.owner_type(Symbol { file, occ: o }, depth + 1, cache))
            {
                Some(class) => Target::Def(class),
                None => Target::Unknown,
            },
            "crate" | "self" | "super" => {
                // The longest module prefix.
                let mut n = 1;
                while n < segments.len() && matches!(segments[n].as_str(), "super") {
                    n += 1;
                }
                let t = self.module_target(file, &segments[..n], depth + 1, cache);
                return self.walk_path(t, &segments[n..], depth + 1, cache);
            }
            name => self.global(file, name, depth + 1, cache),
        };
        if current == Target::Foreign {
            // `module::x` with `module` declared by `mod` in the crate.
            if let Target::Module(m) = self.module_target(file, &segments[..1], depth + 1, cache) {
                current = Target::Module(m);
            }
        }
        self.walk_path(current, rest, depth + 1, cache)
    }

    fn walk_path(
        &self,
        mut current: Target,
        rest: &[String],
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        for seg in rest {
            current = match current {
                Target::Module(m) => self.module_member(m, seg, depth + 1, cache),
                Target::Def(_) => {
                    let ty = self.type_of_target(current, depth + 1, cache);
                    self.member(ty, seg, depth + 1, cache)
                }
                other => return other,
            };
        }
        current
    }

    /// The type a resolved name has as a value.
    fn type_of_target(&self, target: Target, depth: u32, cache: &mut Cache) -> Ty {
        if depth > MAX_DEPTH {
            return Ty::Unknown;
        }
        match target {
            Target::Module(m) => Ty::Module(m),
            Target::Foreign => Ty::Foreign,
            Target::Unknown => Ty::Unknown,
            Target::Def(def) => {
                if let Some(t) = cache.types.get(&def) {
                    return *t;
                }
                cache.types.insert(def, Ty::Unknown);
                let t = self.type_of_def(def, depth, cache);
                cache.types.insert(def, t);
                t
            }
        }
    }

    fn type_of_def(&self, def: Symbol, depth: u32, cache: &mut Cache) -> Ty {
        let usages = &self.entry(def.file).usages;
        let o = usages.occurrence(def.occ);
        let Role::Definition(kind) = o.role else {
            return Ty::Unknown;
        };
        let facts = usages.facts.get(&def.occ);
        if kind == DefKind::Type
            && let Some(aliased) = facts.and_then(|f| f.declared.as_deref())
            && let Ty::Instance(class) =
                self.parse_type(def.file, aliased, o.owner(), depth + 1, cache)
        {
            // `type Error = error::Error<F>`: the alias is the type.
            return Ty::Class(class);
        }
        if kind.is_type() {
            return Ty::Class(def);
        }
        match kind {
            DefKind::Function | DefKind::Method => return Ty::Callable(def),
            DefKind::Module => return Ty::Unknown,
            DefKind::Variant => return Ty::Unknown,
            _ => {}
        }
        if let Some(declared) = facts.and_then(|f| f.declared.as_deref()) {
            let ty = self.parse_type(def.file, declared, o.owner(), depth + 1, cache);
            if ty != Ty::Unknown {
                return ty;
            }
        }
        if let Some(value) = facts.and_then(|f| f.value) {
            return self.type_of(def.file, value, o.owner(), depth + 1, cache);
        }
        // A field assigned in a method: `self.x = Foo()`.
        if let Some(owner) = o.owner()
            && kind == DefKind::Field
        {
            for (class, name, facts) in &usages.attributes {
                if *class == owner && *name == o.name {
                    if let Some(declared) = facts.declared.as_deref() {
                        return self.parse_type(def.file, declared, Some(owner), depth + 1, cache);
                    }
                    if let Some(value) = facts.value {
                        return self.type_of(def.file, value, Some(owner), depth + 1, cache);
                    }
                }
            }
        }
        Ty::Unknown
    }

    fn return_type(&self, f: Symbol, depth: u32, cache: &mut Cache) -> Ty {
        let usages = &self.entry(f.file).usages;
        let o = usages.occurrence(f.occ);
        match usages
            .facts
            .get(&f.occ)
            .and_then(|facts| facts.returns.as_deref())
        {
            Some(returns) => self.parse_type(f.file, returns, o.owner(), depth + 1, cache),
            None => Ty::Unknown,
        }
    }

    /// A type as written (`Optional["Environment"]`, `&mut Vec<Arg>`,
    /// `Result<Self, Error>`): the first name in it that is not a wrapper.
    fn parse_type(
        &self,
        file: FileId,
        text: &str,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Ty {
        const WRAPPERS: &[&str] = &[
            "Option",
            "Optional",
            "Vec",
            "VecDeque",
            "Result",
            "Box",
            "Rc",
            "Arc",
            "RefCell",
            "Cell",
            "Cow",
            "Mutex",
            "RwLock",
            "List",
            "Sequence",
            "Iterable",
            "Iterator",
            "Union",
            "Type",
            "type",
            "t",
            "typing",
            "te",
            "mut",
            "dyn",
            "impl",
            "const",
            "Final",
            "ClassVar",
            "Annotated",
            "MutableSequence",
            "Collection",
            "Generator",
            "AsyncIterator",
            "AsyncGenerator",
            "Awaitable",
            "Coroutine",
            "std",
            "core",
            "alloc",
            "rc",
            "sync",
            "cell",
            "borrow",
            "boxed",
            "vec",
            "collections",
            "crate",
            "super",
            "self",
        ];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'\'' {
                // A lifetime.
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // A path: `nodes.Template`, `crate::x::Foo`.
                let mut path = vec![&text[start..i]];
                loop {
                    let rest = &text[i..];
                    let sep = if rest.starts_with("::") {
                        2
                    } else if rest.starts_with('.') && self.entry(file).lang == Language::Python {
                        1
                    } else {
                        break;
                    };
                    let seg_start = i + sep;
                    let mut j = seg_start;
                    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
                    {
                        j += 1;
                    }
                    if j == seg_start {
                        break;
                    }
                    path.push(&text[seg_start..j]);
                    i = j;
                }
                if path.len() == 1 && WRAPPERS.contains(&path[0])
                    || WRAPPERS.contains(&path[path.len() - 1])
                {
                    continue;
                }
                if path.len() > 1 && matches!(path[0], "std" | "core" | "alloc" | "typing" | "t") {
                    continue;
                }
                if path == ["Self"] {
                    return self.type_of_self(file, owner, depth, cache);
                }
                let target = if path.len() == 1 {
                    self.global(file, path[0], depth + 1, cache)
                } else {
                    let segments: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
                    self.path_target(file, &segments, owner, depth + 1, cache)
                };
                return match target {
                    Target::Def(def) if self.occ(def).role.is_type_def() => {
                        match self.type_of_target(Target::Def(def), depth + 1, cache) {
                            Ty::Class(class) => Ty::Instance(class),
                            _ => Ty::Instance(def),
                        }
                    }
                    Target::Def(def) => {
                        match self.type_of_target(Target::Def(def), depth + 1, cache) {
                            Ty::Class(class) => Ty::Instance(class),
                            _ => Ty::Unknown,
                        }
                    }
                    Target::Foreign => Ty::Foreign,
                    _ => Ty::Unknown,
                };
            }
            i += 1;
        }
        Ty::Unknown
    }

    /// The type an owner occurrence stands for: a Python class definition,
    /// a Rust struct/enum/trait definition, or the self type of an `impl`.
    fn owner_type(&self, owner: Symbol, depth: u32, cache: &mut Cache) -> Option<Symbol> {
        if let Some(t) = cache.owners.get(&owner) {
            return *t;
        }
        let o = self.occ(owner);
        let t = match o.role {
            Role::Definition(kind) if kind.is_type() => Some(owner),
            Role::Definition(_) => None,
            Role::Reference(_) => match self.resolve_occurrence_with(owner, depth + 1, cache) {
                Target::Def(def) if self.occ(def).role.is_type_def() => Some(def),
                _ => None,
            },
        };
        cache.owners.insert(owner, t);
        t
    }

    /// `ty.name`: the member it resolves to.
    fn member(&self, ty: Ty, name: &str, depth: u32, cache: &mut Cache) -> Target {
        match ty {
            Ty::Module(m) => self.module_member(m, name, depth + 1, cache),
            Ty::Instance(class) | Ty::Class(class) => {
                self.class_member(class, name, depth + 1, cache, &mut Vec::new())
            }
            Ty::Callable(_) | Ty::Foreign => Target::Foreign,
            Ty::Unknown => Target::Unknown,
        }
    }

    /// A member of a class: its own, then its bases' (Python), its trait
    /// impls' and its `Deref` target's (Rust).
    fn class_member(
        &self,
        class: Symbol,
        name: &str,
        depth: u32,
        cache: &mut Cache,
        seen: &mut Vec<Symbol>,
    ) -> Target {
        if depth > MAX_DEPTH || seen.contains(&class) {
            return Target::Unknown;
        }
        seen.push(class);
        let lang = self.entry(class.file).lang;
        let candidates = self.names.get(name).map(Vec::as_slice).unwrap_or_default();
        let mut trait_methods = Vec::new();
        for &(file, occ) in candidates {
            let s = Symbol { file, occ };
            let o = self.occ(s);
            let Role::Definition(kind) = o.role else {
                continue;
            };
            if kind == DefKind::Parameter || kind == DefKind::Import || o.local().is_some() {
                continue;
            }
            let Some(owner) = o.owner() else { continue };
            // Locals of a method are not members.
            if kind == DefKind::Variable && o.function().is_some() {
                continue;
            }
            let owner_sym = Symbol { file, occ: owner };
            if lang == Language::Python && file != class.file {
                continue;
            }
            match self.owner_type(owner_sym, depth + 1, cache) {
                Some(t) if t == class => return Target::Def(s),
                Some(t)
                    if lang == Language::Rust
                        && self.occ(t).role == Role::Definition(DefKind::Trait) =>
                {
                    trait_methods.push((t, s));
                }
                _ => {}
            }
        }
        // Python: `self.x = ...` in a method defines attribute `x`.
        if lang == Language::Python {
            let usages = &self.entry(class.file).usages;
            for (i, o) in usages.occurrences.iter().enumerate() {
                if o.name == name
                    && o.owner() == Some(class.occ)
                    && o.role == Role::Definition(DefKind::Field)
                    && o.receiver().is_some()
                {
                    return Target::Def(Symbol {
                        file: class.file,
                        occ: i as OccId,
                    });
                }
            }
        }
        // Along the bases (Python's, and every class-based language's
        // `extends` / `implements`); Rust's traits follow below.
        if lang != Language::Rust {
            let bases = self.bases(class);
            let class_owner = self.occ(class).owner();
            for base in bases {
                match self.type_of(class.file, base, class_owner, depth + 1, cache) {
                    Ty::Class(b) | Ty::Instance(b) => {
                        let t = self.class_member(b, name, depth + 1, cache, seen);
                        if t != Target::Unknown && t != Target::Foreign {
                            return t;
                        }
                    }
                    _ => return Target::Unknown,
                }
            }
            return Target::Foreign;
        }
        // Rust: a trait's methods, when the type implements it.
        let impls = self.impls_of(class, depth + 1, cache);
        for (t, s) in &trait_methods {
            let trait_name = &self.occ(*t).name;
            if impls.iter().any(|(_, imp)| {
                imp.trait_name
                    .as_deref()
                    .is_some_and(|n| last_ident(n) == trait_name.as_str())
            }) {
                return Target::Def(*s);
            }
        }
        for (file, imp) in &impls {
            if let Some(target) = &imp.deref_target
                && let Ty::Instance(inner) = self.parse_type(*file, target, None, depth + 1, cache)
            {
                let t = self.class_member(inner, name, depth + 1, cache, seen);
                if let Target::Def(_) = t {
                    return t;
                }
            }
        }
        if !trait_methods.is_empty() {
            // A trait method on a type whose impl we did not see (a derive,
            // a blanket impl).
            return Target::Unknown;
        }
        Target::Foreign
    }

    /// The base expressions of a class (what it extends or implements).
    fn bases(&self, class: Symbol) -> Vec<ExprId> {
        self.entry(class.file)
            .usages
            .facts
            .get(&class.occ)
            .map(|f| f.bases.clone())
            .unwrap_or_default()
    }

    /// The method a method overrides, up to the first declaration:
    /// `Base.render` for `Derived.render` when `Derived extends Base` and
    /// `Base` declares (or inherits) `render`, an interface's method for the
    /// class method that implements it. A method that overrides nothing is
    /// its own root. Two methods with one root are one method to a caller
    /// who holds the base type, as a type checker's find references has it.
    fn override_root(&self, def: Symbol, depth: u32, cache: &mut Cache) -> Symbol {
        if let Some(root) = cache.roots.get(&def) {
            return *root;
        }
        cache.roots.insert(def, def);
        let o = self.occ(def);
        let mut root = def;
        if o.role == Role::Definition(DefKind::Method)
            && depth <= MAX_DEPTH
            && let Some(owner) = o.owner()
            && let Some(class) = self.owner_type(
                Symbol {
                    file: def.file,
                    occ: owner,
                },
                depth + 1,
                cache,
            )
        {
            let class_owner = self.occ(class).owner();
            for base in self.bases(class) {
                let base = match self.type_of(class.file, base, class_owner, depth + 1, cache) {
                    Ty::Class(b) | Ty::Instance(b) => b,
                    _ => continue,
                };
                let inherited = self.class_member(base, &o.name, depth + 1, cache, &mut Vec::new());
                if let Target::Def(parent) = inherited
                    && self.occ(parent).role == Role::Definition(DefKind::Method)
                {
                    root = self.override_root(parent, depth + 1, cache);
                    break;
                }
            }
        }
        cache.roots.insert(def, root);
        root
    }

    /// The `impl` blocks of a Rust type, in any file.
    fn impls_of(
        &self,
        class: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Vec<(FileId, super::ImplBlock)> {
        let name = self.occ(class).name.clone();
        let mut out = Vec::new();
        for (id, entry) in self.files.iter().enumerate() {
            let Some(entry) = entry else { continue };
            if entry.lang != Language::Rust {
                continue;
            }
            for imp in &entry.usages.impls {
                if last_ident(&imp.self_type) != name {
                    continue;
                }
                if let Ty::Instance(t) =
                    self.parse_type(id as FileId, &imp.self_type, None, depth + 1, cache)
                    && t == class
                {
                    out.push((id as FileId, imp.clone()));
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct Cache {
    resolved: HashMap<Symbol, Target>,
    members: HashMap<(FileId, String), Target>,
    types: HashMap<Symbol, Ty>,
    owners: HashMap<Symbol, Option<Symbol>>,
    roots: HashMap<Symbol, Symbol>,
}

/// The last identifier of a type or path as written: `Foo` in
/// `crate::x::Foo<T>`.
fn last_ident(text: &str) -> &str {
    let head = text.split('<').next().unwrap_or(text).trim();
    let head = head
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim();
    head.rsplit("::").next().unwrap_or(head)
}

/// The module path of a file: Python `pkg/sub/mod.py` → `pkg.sub.mod`
/// (`__init__.py` names its package); Rust `crate-dir/src/a/b.rs` →
/// `crate-dir/src::a::b` (`mod.rs`, `lib.rs`, `main.rs` name their
/// directory).
fn module_path(path: &str, lang: Language) -> String {
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
fn js_stem(path: &str) -> &str {
    const EXTENSIONS: &[&str] = &[
        ".d.ts", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs",
    ];
    EXTENSIONS
        .iter()
        .find_map(|ext| path.strip_suffix(ext))
        .unwrap_or(path)
}

impl Role {
    fn is_type_def(self) -> bool {
        matches!(self, Role::Definition(kind) if kind.is_type())
    }
}

impl super::Occurrence {
    /// Occurrences that are only indexed by name, never bindings.
    fn names_index_only(&self) -> bool {
        matches!(self.role, Role::Reference(RefKind::KeywordArgument))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
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
        assert_eq!(last_ident("&mut crate::x::Foo<'a, T>"), "Foo");
    }
}
