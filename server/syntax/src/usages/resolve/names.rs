//! Resolving one occurrence: a plain name through its local binding, the
//! members of the classes around it (implicit `this`), the file's top-level
//! bindings and its glob imports; an import through the module it names;
//! a receiver's member through the receiver's type.

use super::{Cache, FileId, Symbol, Target, Ty, Workspace};
use crate::Language;
use crate::usages::{Arity, DefKind, Expr, Import, OccId, RefKind, Role};

impl Workspace {
    pub(super) fn resolve_cached(&self, s: Symbol, cache: &mut Cache) -> Target {
        if let Some(t) = cache.resolved.get(&s) {
            return *t;
        }
        let cut = cache.cut;
        let t = self.resolve_occurrence_with(s, 0, cache);
        if cache.cut == cut {
            cache.resolved.insert(s, t);
        }
        t
    }

    pub(super) fn resolve_occurrence(&self, s: Symbol, depth: u32) -> Target {
        self.resolve_occurrence_with(s, depth, &mut Cache::default())
    }

    /// What an occurrence refers to.
    pub(super) fn resolve_occurrence_with(
        &self,
        s: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        if cache.too_deep(depth) {
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
            let target = self.member(ty, &o.name, depth + 1, cache);
            let target = self.of_used_kind(s, target);
            let target = self.overload_for(s, target, depth, cache);
            // C++'s `ns::helper` or `Shape::area` of a class not found: a
            // definition of its own.
            if entry.lang == Language::Cpp
                && matches!(o.role(), Role::Definition(_))
                && !matches!(target, Target::Def(_))
            {
                return Target::Def(s);
            }
            return target;
        }
        // Java's `case STRING:` on a value of an enum: its constant, whatever
        // else is named so around.
        if let Some(constant) = self.case_constant(s, depth + 1, cache) {
            return constant;
        }
        // A name bound in its scope: the binding it stands for (a
        // definition's is the first binding of its name there).
        if let Some(binding) = o.local() {
            let binding = Symbol {
                file: s.file,
                occ: binding,
            };
            let target = self.resolve_binding(binding, depth + 1, cache);
            return match o.role() {
                Role::Reference(_) => {
                    let target = self.of_used_kind(s, target);
                    self.overload_for(s, target, depth, cache)
                }
                Role::Definition(_) => target,
            };
        }
        match o.role() {
            // A constructor stands for its class; `R` of `const R =
            // require("./m")` for what the module is.
            Role::Definition(_) => self
                .required_value(s, depth + 1, cache)
                .unwrap_or_else(|| Target::Def(self.constructor_class(s).unwrap_or(s))),
            Role::Reference(_) => {
                let target = self
                    .member_in_scope(s.file, &o.name, o.owner(), depth + 1, cache)
                    .or_else(|| self.statically_imported(s.file, &o.name, depth + 1, cache))
                    .unwrap_or_else(|| self.global(s.file, &o.name, depth + 1, cache));
                let target = self.of_used_kind(s, target);
                self.overload_for(s, target, depth, cache)
            }
        }
    }

    /// Java keeps a class's fields, methods and nested types apart:
    /// `serializeNulls` is the field, `serializeNulls()` the method, when a
    /// class has both, and a name in a type's place (`TypeAdapter<URL>`) is
    /// never a field or a method. For a `target` of the kind the use `s`
    /// does not take, the member of `target`'s name and owner of a kind it
    /// takes, else nothing of the workspace (a type named as a field is,
    /// there, a type from outside).
    fn of_used_kind(&self, s: Symbol, target: Target) -> Target {
        let Target::Def(def) = target else {
            return target;
        };
        let (Role::Reference(used), Role::Definition(kind)) =
            (self.occ(s).role(), self.occ(def).role())
        else {
            return target;
        };
        if self.entry(s.file).lang != Language::Java {
            return target;
        }
        let takes = |kind: DefKind| match used {
            RefKind::Call => matches!(kind, DefKind::Function | DefKind::Method),
            RefKind::Type => matches!(
                kind,
                DefKind::Class | DefKind::Struct | DefKind::Enum | DefKind::Trait | DefKind::Type
            ),
            RefKind::Name | RefKind::Attribute => {
                !matches!(kind, DefKind::Function | DefKind::Method)
            }
            _ => true,
        };
        if takes(kind) {
            return target;
        }
        match (self.sibling_of_kind(def, takes), used) {
            (Some(d), _) => Target::Def(d),
            (None, RefKind::Type) => Target::Foreign,
            (None, _) => target,
        }
    }

    /// The occurrences named as `def` is, in its file, with its owner
    /// (itself among them): its overloads, or a field and a method of one
    /// name in one class.
    fn siblings(&self, def: Symbol) -> impl Iterator<Item = Symbol> + '_ {
        let o = self.occ(def);
        self.definitions
            .get(o.name.as_str())
            .into_iter()
            .flatten()
            .map(|&(file, occ)| Symbol { file, occ })
            .filter(move |&d| d.file == def.file && self.occ(d).owner() == o.owner())
    }

    /// The definition beside `def` (same file, same owner, same name) of a
    /// kind `takes` accepts: Java's method of a field's name, or its field.
    pub(super) fn sibling_of_kind(
        &self,
        def: Symbol,
        takes: impl Fn(DefKind) -> bool,
    ) -> Option<Symbol> {
        self.siblings(def)
            .find(|&d| matches!(self.occ(d).role(), Role::Definition(k) if takes(k)))
    }

    /// Of the methods of one name in one class (or at the top of one file)
    /// that Java, C# and C++ tell apart by their parameters, the one a call
    /// `s` picks: those taking exactly its number of arguments, or if none
    /// does, those whose rest parameter or defaults accept them (both
    /// compilers prefer the form that needs neither); of several, the one
    /// its arguments' types fit best where they are known
    /// ([`Workspace::by_argument_types`]), else the first. `target` where
    /// the numbers are not known or none fits.
    fn overload_for(&self, s: Symbol, target: Target, depth: u32, cache: &mut Cache) -> Target {
        let Target::Def(def) = target else {
            return target;
        };
        let Some(args) = self.entry(s.file).usages.arity(s.occ) else {
            return target;
        };
        let entry = self.entry(def.file);
        if !entry.lang.spec().overloads_by_arity || entry.usages.arity(def.occ).is_none() {
            return target;
        }
        let role = self.occ(def).role();
        let mut overloads: Vec<(OccId, Arity)> = self
            .siblings(def)
            .filter(|&d| self.occ(d).role() == role)
            .filter_map(|d| Some((d.occ, entry.usages.arity(d.occ)?)))
            .collect();
        overloads.sort_by_key(|&(occ, _)| occ);
        let exact: Vec<OccId> = overloads
            .iter()
            .filter(|(_, a)| a.min == args.min && a.max == args.min)
            .map(|&(occ, _)| occ)
            .collect();
        let accepting: Vec<OccId> = overloads
            .iter()
            .filter(|(_, a)| a.accepts(args.min))
            .map(|&(occ, _)| occ)
            .collect();
        let candidates = if exact.is_empty() { accepting } else { exact };
        let chosen = match candidates.as_slice() {
            [] => None,
            [one] => Some(*one),
            several => Some(
                self.by_argument_types(s, def.file, several, depth, cache)
                    .unwrap_or(several[0]),
            ),
        };
        chosen.map_or(target, |occ| {
            Target::Def(Symbol {
                file: def.file,
                occ,
            })
        })
    }

    /// Of overloads that accept call `s`, the one whose parameter types its
    /// arguments' known types fit most closely (the smallest sum of
    /// distances, the first of equals): an argument of a workspace class
    /// fits a parameter of that class or of one of its bases (the nearer,
    /// the better), never a string, boolean or number parameter, and
    /// loosely any other type from outside (`object`: its bases there are
    /// not known); a variable of a type from outside fits a parameter
    /// written the same exactly, a parameter of a workspace class not at
    /// all if the variable is a string or number, and loosely otherwise;
    /// an argument of unknown type fits anything; a literal is of its
    /// language's type for it (`int`, `String`, `bool`). A C# `ref` or
    /// `out` parameter fits only an argument passed with `ref` or `out`,
    /// and such an argument no other parameter. `None` when no argument's
    /// type is known (and none is passed by reference) or none fits.
    fn by_argument_types(
        &self,
        s: Symbol,
        file: FileId,
        overloads: &[OccId],
        depth: u32,
        cache: &mut Cache,
    ) -> Option<OccId> {
        const LOOSE: u32 = 16;
        let usages = &self.entry(s.file).usages;
        let call = usages.arguments(s.occ);
        let owner = self.occ(s).owner();
        // Each argument's workspace class, else the type its variable was
        // declared with or the workspace method it calls returns, as written
        // (`IComparer<T>`, `double`).
        let known: Vec<(Option<Symbol>, Option<&str>)> = call
            .iter()
            .map(
                |&e| match self.type_of(s.file, e, owner, depth + 1, cache) {
                    Ty::Instance(c) => (Some(c), None),
                    _ => (
                        None,
                        declared_type(usages, e)
                            .or_else(|| self.returned_type(s.file, e, owner, depth + 1, cache)),
                    ),
                },
            )
            .collect();
        // Which arguments are passed with C#'s `ref` or `out`.
        let by_reference: Vec<bool> = call
            .iter()
            .map(|&e| matches!(usages.expr(e), Expr::ByRef(_)))
            .collect();
        if known.iter().all(|k| *k == (None, None)) && !by_reference.contains(&true) {
            return None;
        }
        let mut best: Option<(u32, OccId)> = None;
        for &occ in overloads {
            let params = self.entry(file).usages.parameter_types(occ);
            let candidate_owner = self.entry(file).usages.occurrence(occ).owner();
            let mut total = 0;
            let mut fits = true;
            for ((argument, &passed_by_reference), param) in
                known.iter().zip(&by_reference).zip(params.iter())
            {
                // C#: `ref x` and `out x` go to a `ref` or `out` parameter,
                // any other argument to any other parameter.
                let (taken_by_reference, param) = match param
                    .strip_prefix("ref ")
                    .or_else(|| param.strip_prefix("out "))
                {
                    Some(rest) => (true, rest.trim_start()),
                    None => (false, &**param),
                };
                if taken_by_reference != passed_by_reference {
                    fits = false;
                    break;
                }
                let distance = match *argument {
                    (Some(class), _) => {
                        match self.parse_type(file, param, candidate_owner, depth + 1, cache) {
                            Ty::Instance(p) | Ty::Class(p) => {
                                self.distance_to(class, p, depth, cache)
                            }
                            // A class of ours is no string or number.
                            _ if is_primitive(param) => None,
                            _ => Some(LOOSE),
                        }
                    }
                    // A type from outside: the same text fits exactly, the
                    // same type with other type arguments nearly (`Class`
                    // of `Foo.class` for `Class<T>`); a string, a number or
                    // a class object is no class of ours; any other may
                    // still fit (a base, `object`, a wider number).
                    (None, Some(text)) if same_type_text(text, param) => Some(0),
                    (None, Some(text)) if same_type_text(bare(text), bare(param)) => Some(1),
                    // `int` for `long` or `double` (widening), not for
                    // `short`, `String` or `boolean`.
                    (None, Some(text)) if is_primitive(text) && is_primitive(param) => {
                        widening(text, param)
                    }
                    (None, Some(text)) if is_primitive(text) || is_reflection(text) => {
                        match self.parse_type(file, param, candidate_owner, depth + 1, cache) {
                            Ty::Instance(_) | Ty::Class(_) => None,
                            _ => Some(LOOSE),
                        }
                    }
                    (None, Some(_)) => Some(LOOSE),
                    (None, None) => continue,
                };
                match distance {
                    Some(d) => total += d,
                    None => {
                        fits = false;
                        break;
                    }
                }
            }
            if fits && best.is_none_or(|(b, _)| total < b) {
                best = Some((total, occ));
            }
        }
        best.map(|(_, occ)| occ)
    }

    /// How many steps up its bases `class` is from `ancestor` (0: itself),
    /// within eight steps and [`MAX_ANCESTORS`] classes (a class with many
    /// interfaces, each with many more, must not make the walk explode);
    /// `None` when it is not one of them.
    fn distance_to(
        &self,
        class: Symbol,
        ancestor: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<u32> {
        let mut level = vec![class];
        let mut seen = vec![class];
        for steps in 0..8 {
            if level.contains(&ancestor) {
                return Some(steps);
            }
            let mut next = Vec::new();
            for c in level {
                let owner = self.occ(c).owner();
                for base in self.bases(c) {
                    if let Ty::Instance(b) | Ty::Class(b) =
                        self.type_of(c.file, base, owner, depth + 1, cache)
                        && !seen.contains(&b)
                    {
                        if seen.len() >= MAX_ANCESTORS {
                            return None;
                        }
                        seen.push(b);
                        next.push(b);
                    }
                }
            }
            if next.is_empty() {
                return None;
            }
            level = next;
        }
        None
    }

    /// A bare `name` inside a class, where the language makes members names
    /// in scope (`this.` is implicit): the member of that name of the class
    /// `owner` stands in (its own or inherited), or of one around it
    /// ([`crate::languages::Spec::members_in_scope`]), innermost first. A
    /// class's own name there is the class (or its constructor), never a
    /// member.
    pub(super) fn member_in_scope(
        &self,
        file: FileId,
        name: &str,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Target> {
        let entry = self.entry(file);
        if !entry.lang.spec().members_in_scope {
            return None;
        }
        let mut owner = owner;
        for _ in 0..8 {
            let at = Symbol { file, occ: owner? };
            if let Some(class) = self.owner_type(at, depth + 1, cache)
                && self.occ(class).name != name
                && let Target::Def(def) =
                    self.class_member(class, name, depth + 1, cache, &mut Vec::new())
                && self
                    .owner_class_of(def)
                    .is_none_or(|c| self.occ(def).name != self.occ(c).name)
            {
                return Some(Target::Def(def));
            }
            owner = entry.usages.occurrence(at.occ).owner();
        }
        None
    }

    /// A `case` label's name in a switch on a value of a workspace enum
    /// (Java's `case STRING:` for `switch (token)`): that enum's constant.
    fn case_constant(&self, s: Symbol, depth: u32, cache: &mut Cache) -> Option<Target> {
        let usages = &self.entry(s.file).usages;
        let subject = usages.case_subject(s.occ)?;
        let o = usages.occurrence(s.occ);
        let ty = self.type_of(s.file, subject, o.owner(), depth + 1, cache);
        match self.member(ty, &o.name, depth + 1, cache) {
            Target::Def(def) => Some(Target::Def(def)),
            _ => None,
        }
    }

    /// A bare `name` that a Java static import brings in (`import static
    /// a.b.Scope.EMPTY;` or `a.b.Scope.*`): that member of the class.
    fn statically_imported(
        &self,
        file: FileId,
        name: &str,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Target> {
        let entry = self.entry(file);
        for (class, member) in &entry.usages.static_imports {
            if member.as_deref().is_some_and(|m| m != name) {
                continue;
            }
            let Some(class) = self.class_at_path(class) else {
                continue;
            };
            if let Target::Def(def) =
                self.class_member(class, name, depth + 1, cache, &mut Vec::new())
            {
                return Some(Target::Def(def));
            }
        }
        None
    }

    /// The Java class a qualified path names (`["a", "b", "Scope"]`): the
    /// only class of that name, or the one in the package's directory.
    fn class_at_path(&self, path: &[String]) -> Option<Symbol> {
        let (name, package) = path.split_last()?;
        let classes: Vec<Symbol> = self
            .definitions
            .get(name.as_str())
            .into_iter()
            .flatten()
            .map(|&(file, occ)| Symbol { file, occ })
            .filter(|&c| {
                self.entry(c.file).lang == Language::Java
                    && matches!(
                        self.occ(c).role(),
                        Role::Definition(DefKind::Class | DefKind::Enum | DefKind::Trait)
                    )
            })
            .collect();
        match classes.as_slice() {
            [one] => Some(*one),
            several => {
                let directory = format!("{}/", package.join("/"));
                several
                    .iter()
                    .copied()
                    .find(|c| self.entry(c.file).path.contains(&directory))
            }
        }
    }

    /// The definition that owns `def` (its class), if any.
    pub(super) fn owner_class_of(&self, def: Symbol) -> Option<Symbol> {
        self.occ(def).owner().map(|occ| Symbol {
            file: def.file,
            occ,
        })
    }

    /// What the name of an import statement refers to: the imported name
    /// (or its alias) → the definition it imports; a module segment → the
    /// module.
    pub(super) fn import_part(
        &self,
        file: FileId,
        import: &Import,
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
                Target::Module(m) => self.module_member(m, name, cache),
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
    pub(super) fn resolve_binding(&self, b: Symbol, depth: u32, cache: &mut Cache) -> Target {
        if cache.too_deep(depth) {
            return Target::Unknown;
        }
        let entry = self.entry(b.file);
        if let Some(&k) = entry.import_of.get(&b.occ) {
            let import = &entry.usages.imports[k];
            return match &import.name {
                Some(name) => match self.module_target(b.file, &import.module, depth, cache) {
                    Target::Module(m) => self.module_member(m, name, cache),
                    other => other,
                },
                None => self.module_target(b.file, &import.module, depth, cache),
            };
        }
        let o = entry.usages.occurrence(b.occ);
        match (o.role(), o.local()) {
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
            // C++'s `Shape::area` defined outside its class: the member the
            // class declares.
            (Role::Definition(_), _) if o.receiver().is_some() && entry.lang == Language::Cpp => {
                self.resolve_occurrence_with(b, depth + 1, cache)
            }
            (Role::Definition(_), _) => self
                .required_value(b, depth + 1, cache)
                .unwrap_or_else(|| Target::Def(self.constructor_class(b).unwrap_or(b))),
            (Role::Reference(_), _) => self.global(b.file, &o.name, depth + 1, cache),
        }
    }

    /// `const R = require("./m")` where `m` says `module.exports = X`: `R`
    /// stands for `X`. Nothing when `m` is not in the workspace or is a
    /// module of `exports.name = ..` (then `R` is the module, which its
    /// type says).
    pub(super) fn required_value(
        &self,
        b: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Target> {
        let spec = self.entry(b.file).usages.required(b.occ)?;
        match self.module_target(b.file, &[spec.to_string()], depth, cache) {
            Target::Module(module) => self.module_value(module, depth + 1, cache),
            _ => None,
        }
    }

    /// What a CommonJS module is when it says `module.exports = X`: `X`,
    /// resolved.
    pub(super) fn module_value(
        &self,
        module: FileId,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Target> {
        let value = self.entry(module).usages.module_value?;
        Some(self.resolve_occurrence_with(
            Symbol {
                file: module,
                occ: value,
            },
            depth,
            cache,
        ))
    }

    /// A name not bound locally: the file's top-level bindings, then its
    /// glob imports.
    pub(super) fn global(&self, file: FileId, name: &str, depth: u32, cache: &mut Cache) -> Target {
        if cache.too_deep(depth) {
            return Target::Unknown;
        }
        let entry = self.entry(file);
        if name == "self" || name == "Self" {
            return Target::Unknown;
        }
        // A definition wins over an import of the same name (`try: import
        // x` / `except ImportError: def x`).
        let mut bindings = entry.top.get(name);
        let def = bindings
            .clone()
            .find(|&b| matches!(entry.usages.occurrence(b).role(), Role::Definition(k) if k != DefKind::Import));
        if let Some(b) = def.or_else(|| bindings.next()) {
            return self.resolve_binding(Symbol { file, occ: b }, depth + 1, cache);
        }
        for import in entry.usages.imports.iter().filter(|i| i.glob) {
            if let Target::Module(m) = self.module_target(file, &import.module, depth + 1, cache)
                && m != file
            {
                let t = self.module_member(m, name, cache);
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
    /// another file of the language (or a type of its own file that is not
    /// a binding of it: one in a C# namespace block) (a Go package's function used from
    /// another file of the package, a CommonJS `require`d function); with
    /// none or several, it is external.
    pub(super) fn only_top_level_definition(&self, file: FileId, name: &str) -> Target {
        let lang = self.entry(file).lang;
        // The one definition found at the top of a file, and the one nested
        // in a type (each `Err(())` once there are two): a nested type
        // counts only where no type at the top has the name (C#'s
        // `ComparisonAdapter` beside a private `EqualityAdapter.
        // ComparisonAdapter<T>`: outside its class, the nested one is
        // named with it).
        let mut top: Option<Result<Symbol, ()>> = None;
        let mut nested: Option<Result<Symbol, ()>> = None;
        for &(other, occ) in self
            .definitions
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if self.entry(other).lang != lang {
                continue;
            }
            let s = Symbol { file: other, occ };
            let o = self.occ(s);
            // The file's own top-level bindings were looked up before; a
            // type of the file inside a namespace block (C#'s `namespace X
            // { class A }`) is no such binding, and is found here.
            if other == file && !o.role().is_type_def() {
                continue;
            }
            let definition = matches!(o.role(), Role::Definition(k) if !matches!(k, DefKind::Import | DefKind::Parameter));
            // A nested class (Java's `Outer.Inner`, imported by its name)
            // counts where members are names in scope.
            let nested_type = lang.spec().members_in_scope && o.role().is_type_def();
            if definition
                && (o.top_level() || nested_type)
                && o.local().is_none()
                && o.receiver().is_none()
            {
                let in_type = nested_type
                    && o.owner().is_some_and(|owner| {
                        self.occ(Symbol {
                            file: other,
                            occ: owner,
                        })
                        .role()
                        .is_type_def()
                    });
                let slot = if in_type { &mut nested } else { &mut top };
                match slot {
                    // Overloads (TypeScript's signatures before a body) are
                    // one function: the first stands for them.
                    Some(Ok(first)) if self.same_symbol(*first, s) => {}
                    Some(_) => *slot = Some(Err(())),
                    None => *slot = Some(Ok(s)),
                }
            }
        }
        match top.or(nested) {
            Some(Ok(def)) => Target::Def(def),
            _ => Target::Foreign,
        }
    }
}

/// The most classes [`Workspace::distance_to`] looks at above one.
const MAX_ANCESTORS: usize = 64;

/// The type a name was declared with, as written, where `e` is a name
/// bound in its file to a parameter or variable declared with one, or the
/// type of a literal.
fn declared_type(usages: &crate::usages::FileUsages, e: crate::usages::ExprId) -> Option<&str> {
    match usages.expr(e) {
        Expr::ByRef(inner) => declared_type(usages, *inner),
        // A literal's type (Java's and C#'s, see `generic::literal_type`).
        Expr::Literal(ty) => Some(ty.as_str()),
        crate::usages::Expr::Name(_, local) => usages
            .facts
            .get(&local.get()?)
            .and_then(|f| f.declared.as_deref()),
        _ => None,
    }
}

/// Two written types are the same, spaces aside.
fn same_type_text(a: &str, b: &str) -> bool {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .eq(b.chars().filter(|c| !c.is_whitespace()))
}

/// How many steps a primitive argument of type `from` widens to reach a
/// parameter of type `to` (Java's and C#'s implicit numeric conversions:
/// `int` to `long`, `float` or `double`), `None` when it cannot (a narrower
/// number, a string, a boolean). One order stands for both languages, the
/// unsigned types of C# between their signed neighbours.
fn widening(from: &str, to: &str) -> Option<u32> {
    fn rank(t: &str) -> Option<u32> {
        Some(match t.trim() {
            "byte" | "sbyte" => 0,
            "short" | "ushort" | "char" => 1,
            "int" | "uint" => 2,
            "long" | "ulong" => 3,
            "float" => 4,
            "double" | "decimal" => 5,
            _ => return None,
        })
    }
    if same_type_text(from, to) {
        return Some(0);
    }
    match (rank(from), rank(to)) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    }
}

/// A written type without its type arguments: `Class` for `Class<T>`.
fn bare(text: &str) -> &str {
    text.split('<').next().unwrap_or(text).trim()
}

/// The type of a class literal (Java's `Foo.class`, C#'s `typeof(Foo)`):
/// no class of the workspace derives from it.
fn is_reflection(text: &str) -> bool {
    matches!(bare(text), "Class" | "Type")
}

/// A string, boolean or number type of Java, C# or C++, which no class of
/// the workspace converts to.
fn is_primitive(text: &str) -> bool {
    matches!(
        text.trim(),
        "string"
            | "String"
            | "bool"
            | "boolean"
            | "char"
            | "byte"
            | "sbyte"
            | "short"
            | "ushort"
            | "int"
            | "uint"
            | "long"
            | "ulong"
            | "float"
            | "double"
            | "decimal"
    )
}
