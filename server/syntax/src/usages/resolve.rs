//! Resolution across files: which definition an occurrence refers to.
//!
//! A [`Workspace`] holds the [`FileUsages`] of every file, the names each
//! file has, and an index of definitions by name. A query starts from a
//! definition (a [`Symbol`]) and keeps those occurrences of its name that
//! resolve to it:
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

use std::collections::HashMap;
use std::sync::Arc;

use super::{DefKind, Expr, ExprId, FileUsages, Name, OccId, RefKind, Role};
use crate::Language;

mod modules;
mod names;
mod types;

use modules::module_path;

/// A file in the workspace.
pub type FileId = u32;

/// A definition: the file and the occurrence of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    pub file: FileId,
    pub occ: OccId,
}

/// How deep resolution follows imports, assignments and types within one
/// step (see [`Cache`]).
const MAX_DEPTH: u32 = 12;

/// How many steps may wait on one another (each a few stack frames deep):
/// a repository's chain of a thousand aliases must not overflow a thread's
/// stack.
const MAX_NESTING: u32 = 64;

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
    top: TopBindings,
    /// Which import an occurrence belongs to.
    import_of: ImportOf,
    /// The module path of the file: `pkg.nodes`, `crate::builder`
    /// (with its crate root directory as a prefix for Rust).
    module: String,
    /// The names the file's occurrences have, each once, sorted by
    /// address: the files a search for a name's references reads.
    names: Box<[Name]>,
}

/// A file's top-level bindings: (name, occurrence) pairs sorted by name,
/// each name's in the file's order, found by binary search. A hash map of
/// vectors in each of a workspace's files cost several times the pairs.
struct TopBindings(Box<[(Name, OccId)]>);

impl TopBindings {
    fn new(mut pairs: Vec<(Name, OccId)>) -> TopBindings {
        // Stable: a name's bindings stay in the order they were found.
        pairs.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        TopBindings(pairs.into_boxed_slice())
    }

    /// The occurrences that bind `name` at the top level, in the file's
    /// order (none when nothing does).
    fn get(&self, name: &str) -> impl Iterator<Item = OccId> + Clone + '_ {
        let start = self.0.partition_point(|(n, _)| n.as_str() < name);
        let len = self.0[start..].partition_point(|(n, _)| n.as_str() == name);
        self.0[start..start + len].iter().map(|&(_, occ)| occ)
    }
}

/// Which import each import occurrence of a file belongs to: (occurrence,
/// index into the file's imports) pairs sorted by occurrence.
struct ImportOf(Box<[(OccId, usize)]>);

impl ImportOf {
    /// An occurrence listed by several imports belongs to the last.
    fn new(imports: &[super::Import]) -> ImportOf {
        let mut pairs: Vec<(OccId, usize)> = imports
            .iter()
            .enumerate()
            .rev()
            .flat_map(|(i, import)| import.occurrences.iter().map(move |&occ| (occ, i)))
            .collect();
        // Stable, so the last import's pair comes first and is the one kept.
        pairs.sort_by_key(|&(occ, _)| occ);
        pairs.dedup_by_key(|&mut (occ, _)| occ);
        ImportOf(pairs.into_boxed_slice())
    }

    fn get(&self, occ: &OccId) -> Option<&usize> {
        let i = self.0.binary_search_by_key(occ, |&(o, _)| o).ok()?;
        Some(&self.0[i].1)
    }
}

/// The occurrences of every file of a workspace, and resolution over them.
#[derive(Default)]
pub struct Workspace {
    files: Vec<Option<FileEntry>>,
    by_path: HashMap<String, FileId>,
    /// Module paths (and, for Python, their suffixes) → file.
    modules: HashMap<String, FileId>,
    /// Definitions by name. References are found through the files'
    /// `names`: an index of every occurrence (the CPython standard library
    /// has 2.5 million) took 20 MB of the language server's memory, and
    /// only a usages search reads references by name.
    definitions: HashMap<Name, Vec<(FileId, OccId)>>,
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
        let mut top: Vec<(Name, OccId)> = Vec::new();
        let import_of = ImportOf::new(&usages.imports);
        for (i, occ) in usages.occurrences.iter().enumerate() {
            let i = i as OccId;
            if occ.names_index_only() {
                continue;
            }
            let binds = match occ.role() {
                Role::Definition(DefKind::Parameter) => false,
                // JavaScript's `obj.m = function m () {..}` at the top of a
                // module binds neither `m` there.
                Role::Definition(DefKind::Method)
                    if lang.is_javascript() && occ.owner().is_some() =>
                {
                    false
                }
                Role::Definition(_) if usages.is_method_function(i) => false,
                Role::Definition(_) => {
                    occ.top_level() && occ.receiver().is_none() && occ.local().is_none()
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
                top.push((occ.name.clone(), i));
            }
        }
        if let Some(default) = usages.default_export {
            top.push((super::intern("default"), default));
        }
        let mut names = Vec::with_capacity(usages.occurrences.len());
        for (i, occ) in usages.occurrences.iter().enumerate() {
            if let Role::Definition(_) = occ.role() {
                self.definitions
                    .entry(occ.name.clone())
                    .or_default()
                    .push((id, i as OccId));
            }
            names.push(occ.name.clone());
        }
        names.sort_unstable_by_key(Name::address);
        names.dedup_by_key(|n| n.address());
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
            top: TopBindings::new(top),
            import_of,
            module,
            names: names.into_boxed_slice(),
        });
    }

    pub fn remove_file(&mut self, path: &str) {
        let Some(id) = self.by_path.remove(path) else {
            return;
        };
        let Some(entry) = self.files[id as usize].take() else {
            return;
        };
        for name in &entry.names {
            if let Some(list) = self.definitions.get_mut(name) {
                list.retain(|(f, _)| *f != id);
                if list.is_empty() {
                    self.definitions.remove(name);
                }
            }
        }
        self.modules.retain(|_, f| *f != id);
    }

    /// Gives back the growth slack of the definition index after many
    /// files were set at once (the first build of a workspace).
    pub fn shrink(&mut self) {
        for list in self.definitions.values_mut() {
            list.shrink_to_fit();
        }
        self.definitions.shrink_to_fit();
    }

    /// Every occurrence of `name`, by file and in the file's order.
    fn occurrences_named<'a>(&'a self, name: &'a Name) -> impl Iterator<Item = Symbol> + 'a {
        let address = name.address();
        self.files
            .iter()
            .enumerate()
            .filter_map(move |(file, entry)| {
                let entry = entry.as_ref()?;
                entry
                    .names
                    .binary_search_by_key(&address, Name::address)
                    .is_ok()
                    .then_some((file as FileId, entry))
            })
            .flat_map(move |(file, entry)| {
                entry
                    .usages
                    .occurrences
                    .iter()
                    .enumerate()
                    .filter(move |(_, o)| o.name.address() == address)
                    .map(move |(occ, _)| Symbol {
                        file,
                        occ: occ as OccId,
                    })
            })
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
        for &(file, occ) in self
            .definitions
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let s = Symbol { file, occ };
            let o = self.occ(s);
            let Role::Definition(kind) = o.role() else {
                continue;
            };
            if matches!(kind, DefKind::Import | DefKind::Parameter)
                || o.local().is_some()
                || self.is_constructor(s)
                || self.entry(file).usages.is_method_function(occ)
                || self.is_require(s)
                    && matches!(self.resolve_occurrence(s, 0), Target::Def(d) if d != s)
            {
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
                    if o.top_level() || o.owner().is_some() && !o.function_is_owner() {
                        out.push(s);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The name of the occurrence at a byte offset of a file, whether or
    /// not [`Workspace::symbol_at`] finds what it refers to.
    pub fn name_at(&self, file: FileId, offset: usize) -> Option<&str> {
        let usages = &self.entry(file).usages;
        Some(usages.occurrence(usages.at(offset)?).name.as_str())
    }

    /// The symbol at a byte offset of a file: the definition there, or the
    /// one the reference there resolves to.
    pub fn symbol_at(&self, file: FileId, offset: usize) -> Option<Symbol> {
        let usages = &self.entry(file).usages;
        let occ = usages.at(offset)?;
        let s = Symbol { file, occ };
        match self.resolve_occurrence(s, 0) {
            Target::Def(def) => Some(def),
            _ => matches!(usages.occurrence(occ).role(), Role::Definition(_)).then_some(s),
        }
    }

    /// A Java or C# constructor: a method named as the class it is in.
    /// Find usages reads it as its class (the class's references do not
    /// list it, javac's do not either).
    pub(super) fn is_constructor(&self, s: Symbol) -> bool {
        self.constructor_class(s).is_some()
    }

    /// The class a Java or C# constructor stands for ([`Workspace::is_constructor`]).
    pub(super) fn constructor_class(&self, s: Symbol) -> Option<Symbol> {
        let o = self.occ(s);
        if !matches!(self.entry(s.file).lang, Language::Java | Language::CSharp)
            || o.role() != Role::Definition(DefKind::Method)
        {
            return None;
        }
        let owner = o.owner()?;
        (self.entry(s.file).usages.occurrence(owner).name == o.name).then_some(Symbol {
            file: s.file,
            occ: owner,
        })
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
        let target_kind = match self.occ(target).role() {
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
            // `module.exports = X`: `const R = require("./m")` names it
            // too (the scan keeps the requires of this module).
            if self.entry(target.file).usages.module_value.is_some() {
                for entry in self.files.iter().flatten() {
                    if !entry.lang.is_javascript() {
                        continue;
                    }
                    for (occ, _) in entry.usages.facts.iter() {
                        let name = &entry.usages.occurrence(*occ).name;
                        if entry.usages.required(*occ).is_some() && !names.contains(name) {
                            names.push(name.clone());
                        }
                    }
                }
            }
        }
        let mut scanned = 0;
        while scanned < names.len() {
            let scan = names[scanned].clone();
            scanned += 1;
            for s in self.occurrences_named(&scan) {
                let Symbol { file, occ } = s;
                if s == target {
                    continue;
                }
                let o = self.occ(s);
                if self.entry(file).lang != self.entry(target.file).lang {
                    continue;
                }
                match o.role() {
                    // `f(name=...)` names a parameter of whatever `f` is.
                    Role::Reference(RefKind::KeywordArgument) => continue,
                    // `import d from "./m"` binds a name of its own to the
                    // module's default export, `const { f } = require("./m")`
                    // binds `f`: references to what they import.
                    Role::Definition(DefKind::Import | DefKind::Variable)
                        if self.imports_by_name(s) || self.is_require(s) => {}
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
                            || self.member_of_union(s, target, &mut cache)
                    }
                    Target::Unknown => {
                        // An untyped receiver: a distinctive member name
                        // counts. In JavaScript a function's name read off
                        // an untyped object without a call (`opts.mergeParams`
                        // beside `function mergeParams`) is the object's own
                        // property, not the function.
                        let property_read = target_kind == DefKind::Function
                            && o.role() == Role::Reference(RefKind::Attribute)
                            && self.entry(file).lang.is_javascript();
                        scanned == 1
                            && (o.receiver().is_some()
                                && self.is_member_like(target_kind)
                                && !property_read
                                || o.in_macro())
                            && distinctive
                            || self.member_of_union(s, target, &mut cache)
                    }
                    // A name inside a macro means what its expansion makes of it.
                    Target::Foreign => scanned == 1 && o.in_macro() && distinctive,
                    Target::Module(_) => false,
                };
                if !hit {
                    continue;
                }
                if matches!(o.role(), Role::Definition(_)) && self.entry(file).lang == Language::Cpp
                {
                    // `Shape::area` defined outside the class that declares it.
                    out.definitions.push(s);
                    continue;
                }
                out.references.push(s);
                if let Some(&k) = self.entry(file).import_of.get(&occ) {
                    let alias = &self.entry(file).usages.imports[k].local_name;
                    if alias != "*" && !names.iter().any(|n| n == alias) {
                        names.push(super::intern(alias));
                    }
                }
                // `const R = require("./m")`: `R` is a name of its own.
                if self.is_require(s) && !names.contains(&o.name) {
                    names.push(o.name.clone());
                }
            }
        }
        out.references.sort();
        out
    }

    /// Whether `s`, a member read from a receiver declared as a union
    /// (`h: A | B`, then `h.run()`), is `target` through a member of the
    /// union other than the first, which resolution follows.
    fn member_of_union(&self, s: Symbol, target: Symbol, cache: &mut Cache) -> bool {
        let o = self.occ(s);
        let Some(receiver) = o.receiver() else {
            return false;
        };
        self.union_alternatives(s.file, receiver, o.owner(), cache)
            .into_iter()
            .any(|ty| match self.member(ty, &o.name, 1, cache) {
                Target::Def(def) => def == target || self.same_symbol(def, target),
                _ => false,
            })
    }

    /// Two definitions of one symbol: a Python name bound in several
    /// places of a module (`try: import x` / `except: def x`) counts once,
    /// and so do the methods of one name in one class of TypeScript (its
    /// overload signatures) and Python (`@overload` stubs, a property's
    /// getter, setter and deleter: one attribute of the class, as jedi
    /// links them). Java's, C#'s and C++'s overloads stay apart, as their
    /// compilers keep them: two methods of one name count once only when
    /// they take the same number of arguments (a C++ declaration and its
    /// definition).
    fn same_symbol(&self, a: Symbol, b: Symbol) -> bool {
        a.file == b.file && {
            let (x, y) = (self.occ(a), self.occ(b));
            let lang = self.entry(a.file).lang;
            let usages = &self.entry(a.file).usages;
            if lang.spec().overloads_by_arity && usages.arity(a.occ) != usages.arity(b.occ) {
                return false;
            }
            let overload = x.role() == Role::Definition(DefKind::Method)
                && y.role() == x.role()
                && x.owner().is_some()
                && x.owner() == y.owner()
                && (lang.is_javascript() || lang == Language::Python);
            // Members of two classes are two symbols even where a class's
            // body is no scope of its own (C++'s, whose members are at the
            // top of their file).
            x.name == y.name
                && (overload
                    || x.top_level()
                        && y.top_level()
                        && x.owner() == y.owner()
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

    /// A definition whose value is `require("./m")` (JavaScript and
    /// TypeScript): it binds what the module is.
    fn is_require(&self, s: Symbol) -> bool {
        self.entry(s.file).usages.required(s.occ).is_some()
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
        let defs = self
            .definitions
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let count = defs
            .iter()
            .filter(|&&(file, occ)| {
                let o = self.occ(Symbol { file, occ });
                !self.entry(file).usages.is_method_function(occ)
                    && matches!(
                        o.role(),
                        Role::Definition(DefKind::Method | DefKind::Function | DefKind::Field)
                    )
                    && o.local().is_none()
                    && o.receiver().is_none()
            })
            .count();
        count <= 1
    }
}

/// What one query has worked out, so that no step is done twice.
///
/// A definition's type and a module's member are steps: each is worked
/// out once, with a depth budget of its own, so that its answer is the same
/// whichever path reached it first. A step cut short (by [`MAX_DEPTH`] or
/// [`MAX_NESTING`], or by reaching a step still in progress: a cycle)
/// answers `Unknown` for *this* path only and is never kept, or a query's
/// answers would depend on the order it meets occurrences in (the order
/// files were added: on set D, `Token.test` in Jinja had 3 or 13
/// references from run to run).
#[derive(Default)]
struct Cache {
    /// How many steps were cut short so far: a step is kept only when this
    /// did not move while it ran.
    cut: u64,
    /// Steps under way, one inside another.
    nesting: u32,
    resolved: HashMap<Symbol, Target>,
    /// `None` while in progress.
    members: HashMap<(FileId, String), Option<Target>>,
    /// `None` while in progress.
    types: HashMap<Symbol, Option<Ty>>,
    owners: HashMap<Symbol, Option<Symbol>>,
    /// `None` while in progress.
    roots: HashMap<Symbol, Option<Symbol>>,
}

impl Cache {
    /// Whether a path is `depth` steps past [`MAX_DEPTH`]; such a path stops
    /// there, and counts as cut.
    fn too_deep(&mut self, depth: u32) -> bool {
        let too_deep = depth > MAX_DEPTH;
        self.cut += u64::from(too_deep);
        too_deep
    }

    /// Works out the step `key` of `table` once: a cycle (the step is in
    /// progress) or nesting past [`MAX_NESTING`] answers `cut_short` and
    /// counts as cut; the answer is kept only when nothing was cut while
    /// `work` ran.
    fn step<K: std::hash::Hash + Eq + Clone, V: Copy>(
        &mut self,
        table: fn(&mut Cache) -> &mut HashMap<K, Option<V>>,
        key: K,
        cut_short: V,
        work: impl FnOnce(&mut Cache) -> V,
    ) -> V {
        match table(self).get(&key) {
            Some(Some(done)) => return *done,
            Some(None) => {
                self.cut += 1;
                return cut_short;
            }
            None => {}
        }
        if self.nesting >= MAX_NESTING {
            self.cut += 1;
            return cut_short;
        }
        table(self).insert(key.clone(), None);
        let cut = self.cut;
        self.nesting += 1;
        let answer = work(self);
        self.nesting -= 1;
        if self.cut == cut {
            table(self).insert(key, Some(answer));
        } else {
            table(self).remove(&key);
        }
        answer
    }
}

impl Role {
    fn is_type_def(self) -> bool {
        matches!(self, Role::Definition(kind) if kind.is_type())
    }
}

impl super::Occurrence {
    /// Occurrences that are only indexed by name, never bindings.
    fn names_index_only(&self) -> bool {
        matches!(self.role(), Role::Reference(RefKind::KeywordArgument))
    }
}
