//! Types: what a receiver is (annotations, assigned values, return types,
//! `self`), and the members found along base classes, trait impls and
//! `Deref` targets.

use super::*;

impl Workspace {
    /// The type of a receiver expression.
    pub(super) fn type_of(
        &self,
        file: FileId,
        expr: ExprId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Ty {
        if cache.too_deep(depth) {
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
            Expr::Name(name, local) if local.get().is_none() && name == "self" => {
                self.type_of_self(file, owner, depth, cache)
            }
            Expr::Name(..) | Expr::Attr(..) => {
                let target = self
                    .named_by(file, expr, owner, depth, cache)
                    .unwrap_or(Target::Unknown);
                self.type_of_target(target, cache)
            }
            Expr::Call(callee) => match self.callee_type(file, *callee, owner, depth + 1, cache) {
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
            // `new F()` of a function `F`: an instance whose methods are
            // `F.prototype`'s.
            Expr::New(callee) => match self.type_of(file, *callee, owner, depth + 1, cache) {
                Ty::Class(class) | Ty::Callable(class) => Ty::Instance(class),
                Ty::Foreign => Ty::Foreign,
                _ => Ty::Unknown,
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
                self.type_of_target(target, cache)
            }
            Expr::Require(spec) => {
                match self.module_target(file, &[spec.to_string()], depth + 1, cache) {
                    // `module.exports = X`: the module is `X`.
                    Target::Module(m) => match self.module_value(m, depth + 1, cache) {
                        Some(target) => self.type_of_target(target, cache),
                        None => Ty::Module(m),
                    },
                    _ => Ty::Foreign,
                }
            }
            Expr::Literal(_) => Ty::Foreign,
            Expr::ByRef(inner) => self.type_of(file, *inner, owner, depth + 1, cache),
            Expr::Unknown => Ty::Unknown,
        }
    }

    /// The type of a call's callee: [`Workspace::type_of`], but in Java a
    /// name that is both a field and a method is the method when called
    /// (`delegate()` where the class also has a field `delegate`).
    fn callee_type(
        &self,
        file: FileId,
        callee: ExprId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Ty {
        if self.entry(file).lang != Language::Java
            || !matches!(
                self.entry(file).usages.expr(callee),
                Expr::Name(..) | Expr::Attr(..)
            )
        {
            return self.type_of(file, callee, owner, depth, cache);
        }
        if cache.too_deep(depth) {
            return Ty::Unknown;
        }
        let is_function = |k: DefKind| matches!(k, DefKind::Function | DefKind::Method);
        let target = match self.named_by(file, callee, owner, depth, cache) {
            Some(Target::Def(def)) if !matches!(self.occ(def).role(), Role::Definition(k) if is_function(k)) => {
                self.sibling_of_kind(def, is_function)
                    .map_or(Target::Def(def), Target::Def)
            }
            target => target.unwrap_or(Target::Unknown),
        };
        self.type_of_target(target, cache)
    }

    /// What a name or an attribute expression names: the name's binding
    /// (or the global it stands for), the member of the attribute's
    /// receiver; `None` for any other expression.
    fn named_by(
        &self,
        file: FileId,
        expr: ExprId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Target> {
        Some(match self.entry(file).usages.expr(expr) {
            Expr::Name(name, local) => match local.get() {
                Some(b) => self.resolve_binding(Symbol { file, occ: b }, depth + 1, cache),
                None => self.global(file, name, depth + 1, cache),
            },
            Expr::Attr(inner, name) => {
                let ty = self.type_of(file, *inner, owner, depth + 1, cache);
                self.member(ty, name, depth + 1, cache)
            }
            _ => return None,
        })
    }

    pub(super) fn type_of_self(
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
    pub(super) fn path_target(
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

    pub(super) fn walk_path(
        &self,
        mut current: Target,
        rest: &[String],
        depth: u32,
        cache: &mut Cache,
    ) -> Target {
        for seg in rest {
            current = match current {
                Target::Module(m) => self.module_member(m, seg, cache),
                Target::Def(_) => {
                    let ty = self.type_of_target(current, cache);
                    self.member(ty, seg, depth + 1, cache)
                }
                other => return other,
            };
        }
        current
    }

    /// The type a resolved name has as a value.
    ///
    /// A definition's type is a step of its own: worked out once per query
    /// with a depth budget of its own (see [`Cache`]), whatever the depth
    /// it is asked from.
    pub(super) fn type_of_target(&self, target: Target, cache: &mut Cache) -> Ty {
        match target {
            Target::Module(m) => Ty::Module(m),
            Target::Foreign => Ty::Foreign,
            Target::Unknown => Ty::Unknown,
            Target::Def(def) => cache.step(
                |c| &mut c.types,
                def,
                Ty::Unknown,
                |cache| self.type_of_def(def, 0, cache),
            ),
        }
    }

    pub(super) fn type_of_def(&self, def: Symbol, depth: u32, cache: &mut Cache) -> Ty {
        let usages = &self.entry(def.file).usages;
        let o = usages.occurrence(def.occ);
        let Role::Definition(kind) = o.role() else {
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
        if kind == DefKind::Variable
            && self.entry(def.file).lang.is_javascript()
            && self.has_assigned_methods(def, depth + 1, cache)
        {
            return Ty::Instance(def);
        }
        match kind {
            // A Python property: reading it gives its declared type.
            DefKind::Method if facts.is_some_and(|f| f.declared.is_some()) => {}
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
            for facts in self.assigned_attributes(def) {
                if let Some(declared) = facts.declared.as_deref() {
                    return self.parse_type(def.file, declared, Some(owner), depth + 1, cache);
                }
                if let Some(value) = facts.value {
                    return self.type_of(def.file, value, Some(owner), depth + 1, cache);
                }
            }
        }
        Ty::Unknown
    }

    /// The types after the first of a Python receiver whose definition is
    /// declared as a union (`x: A | B`, `self.h: Union[A, B]`): `type_of`
    /// reads the first, as a type checker reads none of them alone. Empty
    /// for a receiver that is not a name or an attribute, or not declared so.
    pub(super) fn union_alternatives(
        &self,
        file: FileId,
        expr: ExprId,
        owner: Option<OccId>,
        cache: &mut Cache,
    ) -> Vec<Ty> {
        if self.entry(file).lang != Language::Python {
            return Vec::new();
        }
        let Some(Target::Def(def)) = self.named_by(file, expr, owner, 0, cache) else {
            return Vec::new();
        };
        let Some(declared) = self.declared_type(def) else {
            return Vec::new();
        };
        let owner = self.occ(def).owner();
        union_members(declared)
            .into_iter()
            .skip(1)
            .map(|member| self.parse_type(def.file, member, owner, 1, cache))
            .filter(|ty| matches!(ty, Ty::Instance(_)))
            .collect()
    }

    /// A definition's declared type as written: its own, or for a field
    /// assigned in a method (`self.x: Foo = ...`), the assignment's.
    fn declared_type(&self, def: Symbol) -> Option<&str> {
        let usages = &self.entry(def.file).usages;
        if let Some(declared) = usages
            .facts
            .get(&def.occ)
            .and_then(|f| f.declared.as_deref())
        {
            return Some(declared);
        }
        self.assigned_attributes(def)
            .find_map(|facts| facts.declared.as_deref())
    }

    /// The facts of the assignments `self.x = ...` in the methods of the
    /// class that owns `def`, for `def`'s name `x`, in the file's order.
    fn assigned_attributes(&self, def: Symbol) -> impl Iterator<Item = &crate::usages::Facts> {
        let usages = &self.entry(def.file).usages;
        let o = usages.occurrence(def.occ);
        let owner = o.owner();
        usages
            .attributes
            .iter()
            .filter(move |(class, name, _)| Some(*class) == owner && *name == o.name)
            .map(|(_, _, facts)| facts)
    }

    /// The return type, as written, of the workspace function that `expr`
    /// calls (`String` for `primitive.getAsString()`): what tells overloads
    /// apart when the type is not the workspace's.
    pub(super) fn returned_type(
        &self,
        file: FileId,
        expr: ExprId,
        owner: Option<OccId>,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<&str> {
        let Expr::Call(callee) = self.entry(file).usages.expr(expr) else {
            return None;
        };
        match self.type_of(file, *callee, owner, depth + 1, cache) {
            Ty::Callable(f) => self
                .entry(f.file)
                .usages
                .facts
                .get(&f.occ)
                .and_then(|facts| facts.returns.as_deref()),
            _ => None,
        }
    }

    pub(super) fn return_type(&self, f: Symbol, depth: u32, cache: &mut Cache) -> Ty {
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
    pub(super) fn parse_type(
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
        let containers = self.entry(file).lang.spec().containers;
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
                    } else if rest.starts_with('.')
                        && (matches!(self.entry(file).lang, Language::Python | Language::Go)
                            || self.entry(file).lang.spec().members_in_scope)
                    {
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
                let wraps = |name: &str| WRAPPERS.contains(&name) || containers.contains(&name);
                if path.len() == 1 && wraps(path[0]) || wraps(path[path.len() - 1]) {
                    continue;
                }
                if path.len() > 1 && matches!(path[0], "std" | "core" | "alloc" | "typing" | "t") {
                    continue;
                }
                if path == ["Self"] {
                    return self.type_of_self(file, owner, depth, cache);
                }
                let go = self.entry(file).lang == Language::Go;
                let target = if path.len() == 1 {
                    // A nested class named inside its outer class.
                    self.member_in_scope(file, path[0], owner, depth + 1, cache)
                        .filter(
                            |t| matches!(t, Target::Def(d) if self.occ(*d).role().is_type_def()),
                        )
                        .unwrap_or_else(|| self.global(file, path[0], depth + 1, cache))
                } else if go || self.entry(file).lang.spec().members_in_scope {
                    // `flag.FlagSet`: a package's type, by its name; Java's
                    // and C#'s `Outer.Inner` and `pkg.Type`: the last name,
                    // a nested type found by its name as a bare one is.
                    self.global(file, path[path.len() - 1], depth + 1, cache)
                } else {
                    let segments: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
                    self.path_target(file, &segments, owner, depth + 1, cache)
                };
                return match target {
                    Target::Def(def) if self.occ(def).role().is_type_def() => {
                        match self.type_of_target(Target::Def(def), cache) {
                            Ty::Class(class) => Ty::Instance(class),
                            _ => Ty::Instance(def),
                        }
                    }
                    Target::Def(def) => match self.type_of_target(Target::Def(def), cache) {
                        Ty::Class(class) => Ty::Instance(class),
                        _ => Ty::Unknown,
                    },
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
    pub(super) fn owner_type(
        &self,
        owner: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Option<Symbol> {
        if let Some(t) = cache.owners.get(&owner) {
            return *t;
        }
        let cut = cache.cut;
        let o = self.occ(owner);
        let t = match o.role() {
            Role::Definition(kind) if kind.is_type() => Some(owner),
            Role::Definition(_) => None,
            Role::Reference(_) => match self.resolve_occurrence_with(owner, depth + 1, cache) {
                Target::Def(def) if self.occ(def).role().is_type_def() => Some(def),
                // JavaScript's `F.prototype.m = function () {..}`: `F` is
                // the class of `m`; `obj.m = function () {..}`: the object
                // `obj` holds is.
                Target::Def(def) if self.is_js_object(def) => Some(def),
                _ => None,
            },
        };
        if cache.cut == cut {
            cache.owners.insert(owner, t);
        }
        t
    }

    /// A JavaScript function or variable, which methods can be assigned
    /// to: `F.prototype.m = function`, `obj.m = function`.
    fn is_js_object(&self, def: Symbol) -> bool {
        self.entry(def.file).lang.is_javascript()
            && matches!(
                self.occ(def).role(),
                Role::Definition(DefKind::Function | DefKind::Variable)
            )
    }

    /// Whether methods are assigned to the object a JavaScript variable
    /// holds (`res.send = function () {..}` in its file): what the variable
    /// is then, whatever its value (`Object.create(..)`, `{}`).
    fn has_assigned_methods(&self, var: Symbol, depth: u32, cache: &mut Cache) -> bool {
        let usages = &self.entry(var.file).usages;
        let name = &self.occ(var).name;
        usages.occurrences.iter().any(|o| {
            o.role() == Role::Definition(DefKind::Method)
                && o.owner().is_some_and(|owner| {
                    let owner = Symbol {
                        file: var.file,
                        occ: owner,
                    };
                    let holder = self.occ(owner);
                    matches!(holder.role(), Role::Reference(_))
                        && holder.name == *name
                        && self.owner_type(owner, depth + 1, cache) == Some(var)
                })
        })
    }

    /// `ty.name`: the member it resolves to.
    pub(super) fn member(&self, ty: Ty, name: &str, depth: u32, cache: &mut Cache) -> Target {
        match ty {
            Ty::Module(m) => self.module_member(m, name, cache),
            Ty::Instance(class) | Ty::Class(class) => {
                self.class_member(class, name, depth + 1, cache, &mut Vec::new())
            }
            // A JavaScript function's own members (`View.create =
            // function`); anything else of a function (`call`, `bind`) is
            // the language's.
            Ty::Callable(f) if self.is_js_object(f) => {
                match self.class_member(f, name, depth + 1, cache, &mut Vec::new()) {
                    Target::Def(def) => Target::Def(def),
                    _ => Target::Foreign,
                }
            }
            Ty::Callable(_) | Ty::Foreign => Target::Foreign,
            Ty::Unknown => Target::Unknown,
        }
    }

    /// A member of a class: its own, then its bases' (Python), its trait
    /// impls' and its `Deref` target's (Rust).
    pub(super) fn class_member(
        &self,
        class: Symbol,
        name: &str,
        depth: u32,
        cache: &mut Cache,
        seen: &mut Vec<Symbol>,
    ) -> Target {
        if depth > MAX_DEPTH || seen.contains(&class) {
            cache.cut += 1;
            return Target::Unknown;
        }
        seen.push(class);
        let lang = self.entry(class.file).lang;
        let candidates = self
            .definitions
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut trait_methods = Vec::new();
        for &(file, occ) in candidates {
            // Python's members are its class file's (bases aside): a common
            // name (`get`, `__init__`) has thousands of definitions
            // elsewhere, and this test is the cheap one.
            if lang == Language::Python && file != class.file {
                continue;
            }
            let s = Symbol { file, occ };
            let o = self.occ(s);
            let Role::Definition(kind) = o.role() else {
                continue;
            };
            if kind == DefKind::Parameter || kind == DefKind::Import || o.local().is_some() {
                continue;
            }
            let Some(owner) = o.owner() else { continue };
            // A constructor is no member found by its name: that is the class.
            if self.is_constructor(s) {
                continue;
            }
            // Locals of a method are not members.
            if kind == DefKind::Variable && o.in_function() {
                continue;
            }
            let owner_sym = Symbol { file, occ: owner };
            match self.owner_type(owner_sym, depth + 1, cache) {
                Some(t) if t == class => return Target::Def(s),
                Some(t)
                    if lang == Language::Rust
                        && self.occ(t).role() == Role::Definition(DefKind::Trait) =>
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
                    && o.role() == Role::Definition(DefKind::Field)
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
            // A JavaScript function's instances get members from more than
            // its prototype (`this.m = ..` in its body, mixins): one not
            // found is unknown, not from outside.
            if self.is_js_object(class) {
                return Target::Unknown;
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
    pub(super) fn bases(&self, class: Symbol) -> Vec<ExprId> {
        self.entry(class.file)
            .usages
            .facts
            .get(&class.occ)
            .map(|f| f.bases.to_vec())
            .unwrap_or_default()
    }

    /// The method a method overrides, up to the first declaration:
    /// `Base.render` for `Derived.render` when `Derived extends Base` and
    /// `Base` declares (or inherits) `render`, an interface's method for the
    /// class method that implements it. A method that overrides nothing is
    /// its own root. Two methods with one root are one method to a caller
    /// who holds the base type, as a type checker's find references has it.
    pub(super) fn override_root(&self, def: Symbol, depth: u32, cache: &mut Cache) -> Symbol {
        match cache.roots.get(&def) {
            Some(Some(root)) => return *root,
            // In progress: a cycle of bases.
            Some(None) => {
                cache.cut += 1;
                return def;
            }
            None => {}
        }
        cache.roots.insert(def, None);
        let cut = cache.cut;
        let o = self.occ(def);
        let mut root = def;
        if o.role() == Role::Definition(DefKind::Method)
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
                    && self.occ(parent).role() == Role::Definition(DefKind::Method)
                {
                    root = self.override_root(parent, depth + 1, cache);
                    break;
                }
            }
        }
        if depth > MAX_DEPTH {
            cache.cut += 1;
        }
        if cache.cut == cut {
            cache.roots.insert(def, Some(root));
        } else {
            cache.roots.remove(&def);
        }
        root
    }

    /// The `impl` blocks of a Rust type, in any file.
    pub(super) fn impls_of(
        &self,
        class: Symbol,
        depth: u32,
        cache: &mut Cache,
    ) -> Vec<(FileId, crate::usages::ImplBlock)> {
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

/// The last identifier of a type or path as written: `Foo` in
/// `crate::x::Foo<T>`.
pub(super) fn last_ident(text: &str) -> &str {
    let head = text.split('<').next().unwrap_or(text).trim();
    let head = head
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim();
    head.rsplit("::").next().unwrap_or(head)
}

/// The members of a union type as written, `None` left out: `A | B | None`,
/// `(A | B)`, `Union[A, B]`, `typing.Union[A, B]`; one member for any other
/// type.
fn union_members(text: &str) -> Vec<&str> {
    let mut text = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let (inner, separator) = match text.split_once("Union[") {
        Some(("" | "typing." | "t.", rest)) => (rest.strip_suffix(']').unwrap_or(rest), b','),
        _ => (text, b'|'),
    };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in inner.bytes().enumerate() {
        match c {
            b'[' | b'(' => depth += 1,
            b']' | b')' => depth -= 1,
            c if c == separator && depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|m| !m.is_empty() && *m != "None")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn the_last_identifier_of_a_type() {
        assert_eq!(last_ident("&mut crate::x::Foo<'a, T>"), "Foo");
    }

    #[test]
    fn a_union_is_read_member_by_member() {
        assert_eq!(union_members("A | B | None"), ["A", "B"]);
        assert_eq!(union_members("(\n A\n | B\n)"), ["A", "B"]);
        assert_eq!(union_members("Union[A, list[B]]"), ["A", "list[B]"]);
        assert_eq!(union_members("t.Union[A, None]"), ["A"]);
        assert_eq!(union_members("dict[str, A | B]"), ["dict[str, A | B]"]);
        assert_eq!(union_members("\"A\" "), ["A"]);
    }
}
