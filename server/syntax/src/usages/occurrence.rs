//! What find usages keeps of a file: its occurrences (every identifier that
//! is code, with its role and place), their receiver expressions and type
//! facts, its imports and impl blocks. Built by [`super::extract`]; read by
//! the resolver. A workspace holds millions of occurrences, so their layout
//! is measured in bytes (see the size assertions).

use std::ops::Range;

use super::Name;

/// An index into [`FileUsages::occurrences`].
pub type OccId = u32;
/// An index into [`FileUsages::exprs`].
pub type ExprId = u32;

/// What a definition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Trait,
    Type,
    Constant,
    Variable,
    Parameter,
    Field,
    Module,
    Macro,
    Variant,
    /// A name bound by an import (`from m import f as g`: `g`).
    Import,
}

impl DefKind {
    /// Every kind, in declaration order (an occurrence stores the index).
    pub const ALL: [DefKind; 15] = [
        DefKind::Function,
        DefKind::Method,
        DefKind::Class,
        DefKind::Struct,
        DefKind::Enum,
        DefKind::Trait,
        DefKind::Type,
        DefKind::Constant,
        DefKind::Variable,
        DefKind::Parameter,
        DefKind::Field,
        DefKind::Module,
        DefKind::Macro,
        DefKind::Variant,
        DefKind::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DefKind::Function => "function",
            DefKind::Method => "method",
            DefKind::Class => "class",
            DefKind::Struct => "struct",
            DefKind::Enum => "enum",
            DefKind::Trait => "trait",
            DefKind::Type => "type",
            DefKind::Constant => "constant",
            DefKind::Variable => "variable",
            DefKind::Parameter => "parameter",
            DefKind::Field => "field",
            DefKind::Module => "module",
            DefKind::Macro => "macro",
            DefKind::Variant => "variant",
            DefKind::Import => "import",
        }
    }

    /// Kinds that can be the owner of members (methods, fields).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            DefKind::Class | DefKind::Struct | DefKind::Enum | DefKind::Trait | DefKind::Type
        )
    }

    pub(super) fn from_capture(name: &str) -> Option<DefKind> {
        Some(match name {
            "function" => DefKind::Function,
            "method" => DefKind::Method,
            "class" => DefKind::Class,
            "struct" => DefKind::Struct,
            "enum" => DefKind::Enum,
            "interface" | "trait" => DefKind::Trait,
            "type" => DefKind::Type,
            "constant" => DefKind::Constant,
            "var" | "variable" => DefKind::Variable,
            "parameter" => DefKind::Parameter,
            "field" => DefKind::Field,
            "module" => DefKind::Module,
            "macro" => DefKind::Macro,
            "variant" => DefKind::Variant,
            "import" => DefKind::Import,
            "function.local" => DefKind::Function,
            _ => return None,
        })
    }
}

/// How a reference uses its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A plain name.
    Name,
    Call,
    /// `obj.name` that is not called.
    Attribute,
    Type,
    /// A name in an `import` / `use`.
    Import,
    Macro,
    /// `f(name=...)`: a keyword argument's name, which names a parameter of
    /// whatever `f` is, not a binding in scope.
    KeywordArgument,
}

impl RefKind {
    /// Every kind, in declaration order (an occurrence stores the index).
    pub const ALL: [RefKind; 7] = [
        RefKind::Name,
        RefKind::Call,
        RefKind::Attribute,
        RefKind::Type,
        RefKind::Import,
        RefKind::Macro,
        RefKind::KeywordArgument,
    ];
}

/// Definition or reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Definition(DefKind),
    Reference(RefKind),
}

/// One identifier of the file.
#[derive(Clone, PartialEq)]
pub struct Occurrence {
    pub name: Name,
    /// Where the name starts in the file as read (files are at most 4
    /// GiB); it ends where its text does ([`Occurrence::range`]).
    start: u32,
    /// What precedes `.name` / `::name`, for attributes, fields, methods
    /// and path segments ([`Occurrence::receiver`]); tagged with the
    /// occurrence's [`Role`].
    receiver: Tagged,
    /// The binding a name resolves to inside this file (a local variable, a
    /// parameter, a name bound in a class body or an enclosing function):
    /// [`Occurrence::local`].
    local: Link,
    /// The innermost enclosing class, impl, trait or struct definition: what
    /// `self` means, and whose member a definition is
    /// ([`Occurrence::owner`]); tagged with the [`Flags`].
    owner: Tagged,
}

/// What an occurrence's place says about it, in the tag of its owner link.
struct Flags;

impl Flags {
    /// Bound at the top level of the file (or of a Rust module).
    const TOP_LEVEL: u8 = 1;
    /// Inside a macro's arguments or a `macro_rules!` body, where names
    /// may mean anything the expansion makes of them.
    const IN_MACRO: u8 = 2;
    /// Inside a function definition.
    const IN_FUNCTION: u8 = 4;
    /// The innermost function is the owner itself (not a method of it).
    const FUNCTION_IS_OWNER: u8 = 8;
}

// A workspace holds millions of occurrences (the CPython standard library:
// 1.45 million): each byte here is a megabyte and a half of the language
// server's memory.
// The name is the occurrence's text, so its end is not stored (8 bytes
// less than a range with padding: 131 -> 119 MB on the standard library);
// the role and the flags ride in the top byte of two links, and of the
// enclosing function only what resolution asks is kept (two flags), so
// that an occurrence is 24 bytes, not 32 (the usages bench's occurrences
// on the standard library 104.6 -> 93 MB).
const _: () = assert!(std::mem::size_of::<Occurrence>() <= 24);
// And 719 thousand receiver expressions: no variant holds more than a
// pointer and an id (a local binding in four bytes, a path's segments and
// a literal's type behind one pointer), so each is 16 bytes (32 with a
// vector and an `Option<u32>`, 24 with a boxed slice).
const _: () = assert!(std::mem::size_of::<Expr>() <= 16);

/// An optional id in four bytes (an `Option<u32>` takes eight): a
/// workspace has millions of occurrences, each with four of these. No id
/// reaches `u32::MAX`, which stands for none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Link(u32);

impl Link {
    pub(super) const NONE: Link = Link(u32::MAX);

    pub fn new(id: Option<u32>) -> Link {
        id.map_or(Link::NONE, Link)
    }

    pub fn get(self) -> Option<u32> {
        (self != Link::NONE).then_some(self.0)
    }
}

/// An optional id in the low 24 bits and a byte of tag above it: the
/// occurrence links that carry its role and flags. No id reaches
/// [`Tagged::MAX_ID`] (a file with that many identifiers has no usages:
/// [`MAX_OCCURRENCES`]).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Tagged(u32);

impl Tagged {
    const NONE: u32 = (1 << 24) - 1;
    const MAX_ID: u32 = Tagged::NONE - 1;

    fn new(id: Option<u32>, tag: u8) -> Tagged {
        let id = id.map_or(Tagged::NONE, |id| id.min(Tagged::NONE));
        Tagged(id | u32::from(tag) << 24)
    }

    fn id(self) -> Option<u32> {
        let id = self.0 & Tagged::NONE;
        (id != Tagged::NONE).then_some(id)
    }

    fn tag(self) -> u8 {
        (self.0 >> 24) as u8
    }
}

/// A file with more identifiers than a link can name (a generated file of
/// tens of megabytes, past the default size limit) gets no usages.
pub(crate) const MAX_OCCURRENCES: usize = Tagged::MAX_ID as usize;

impl Role {
    /// One byte: definitions from 0, references from 32.
    fn to_byte(self) -> u8 {
        match self {
            Role::Definition(k) => k as u8,
            Role::Reference(k) => 32 + k as u8,
        }
    }

    fn from_byte(byte: u8) -> Role {
        match byte.checked_sub(32) {
            Some(r) => Role::Reference(RefKind::ALL[r as usize]),
            None => Role::Definition(DefKind::ALL[byte as usize]),
        }
    }
}

/// Where an occurrence stands, as the walk found it (kept as the flags of
/// its owner link).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Place {
    /// Bound at the top level of the file (or of a Rust module).
    pub top_level: bool,
    /// Inside a macro's arguments or a `macro_rules!` body.
    pub in_macro: bool,
    /// Inside a function definition.
    pub in_function: bool,
    /// The innermost function is the owner itself.
    pub function_is_owner: bool,
}

impl Occurrence {
    /// An occurrence of `name` at byte `start` of the file as read, with
    /// no local binding yet.
    pub(crate) fn new(
        name: Name,
        start: u32,
        role: Role,
        receiver: Option<ExprId>,
        owner: Option<OccId>,
        place: Place,
    ) -> Occurrence {
        let mut flags = 0;
        for (set, flag) in [
            (place.top_level, Flags::TOP_LEVEL),
            (place.in_macro, Flags::IN_MACRO),
            (place.in_function, Flags::IN_FUNCTION),
            (place.function_is_owner, Flags::FUNCTION_IS_OWNER),
        ] {
            if set {
                flags |= flag;
            }
        }
        Occurrence {
            name,
            start,
            receiver: Tagged::new(receiver, role.to_byte()),
            local: Link::NONE,
            owner: Tagged::new(owner, flags),
        }
    }
}

impl std::fmt::Debug for Occurrence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Occurrence")
            .field("name", &self.name)
            .field("start", &self.start)
            .field("role", &self.role())
            .field("receiver", &self.receiver())
            .field("local", &self.local())
            .field("owner", &self.owner())
            .field("top_level", &self.top_level())
            .field("in_macro", &self.in_macro())
            .finish()
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Occurrence {
    /// Byte range of the name in the file as read; its line and column
    /// come from [`FileUsages::position`].
    pub fn range(&self) -> Range<u32> {
        self.start..self.start + self.name.len() as u32
    }

    /// What precedes `.name` / `::name`, for attributes, fields, methods
    /// and path segments.
    pub fn receiver(&self) -> Option<ExprId> {
        self.receiver.id()
    }

    /// Definition or reference, and of what kind.
    pub fn role(&self) -> Role {
        Role::from_byte(self.receiver.tag())
    }

    fn flag(&self, flag: u8) -> bool {
        self.owner.tag() & flag != 0
    }

    /// True when bound at the top level of the file (or of a Rust module).
    pub fn top_level(&self) -> bool {
        self.flag(Flags::TOP_LEVEL)
    }

    pub(crate) fn set_top_level(&mut self, top_level: bool) {
        let tag = self.owner.tag() & !Flags::TOP_LEVEL;
        let tag = if top_level {
            tag | Flags::TOP_LEVEL
        } else {
            tag
        };
        self.owner = Tagged::new(self.owner.id(), tag);
    }

    /// Inside a macro's arguments or a `macro_rules!` body, where names
    /// may mean anything the expansion makes of them.
    pub fn in_macro(&self) -> bool {
        self.flag(Flags::IN_MACRO)
    }

    /// The binding a name resolves to inside this file (a local variable,
    /// a parameter, a name bound in a class body or an enclosing function).
    pub fn local(&self) -> Option<OccId> {
        self.local.get()
    }

    pub(crate) fn set_local(&mut self, local: Option<OccId>) {
        self.local = Link::new(local);
    }

    /// The innermost enclosing class, impl, trait or struct definition:
    /// what `self` means, and whose member a definition is.
    pub fn owner(&self) -> Option<OccId> {
        self.owner.id()
    }

    /// Inside a function definition (a local, or a member defined in a
    /// method's body).
    pub fn in_function(&self) -> bool {
        self.flag(Flags::IN_FUNCTION)
    }

    /// The innermost enclosing function is the owner itself.
    pub fn function_is_owner(&self) -> bool {
        self.flag(Flags::FUNCTION_IS_OWNER)
    }
}

/// A receiver expression, reduced to what typing needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A name, with its local binding if it has one.
    Name(Name, Link),
    /// `self` (or `cls`) in a method.
    SelfValue,
    /// `super` (C#'s `base`) in a method: the enclosing class's first base.
    SuperValue,
    /// `require("./m")` (CommonJS): the module, as written.
    Require(Name),
    /// `e.name`.
    Attr(ExprId, Name),
    /// `new e(..)` in JavaScript and TypeScript: an instance of the class
    /// `e`, or of the function `e` (whose `prototype` holds its methods).
    New(ExprId),
    /// A call of `e`: a function, a method (`Attr`), a constructor.
    Call(ExprId),
    /// `e[...]`, `for x in e`, a closure parameter of `e.map(...)`: an
    /// element of `e`.
    Element(ExprId),
    /// `e?`, `e.unwrap()`: the success value of `e`.
    Unwrap(ExprId),
    /// A path: `a::b::Type`, `Self` (boxed twice: one pointer, not two;
    /// made by [`Expr::path`]).
    Path(Box<Box<[String]>>),
    /// A literal of a builtin type: "str", "int", "dict", "Vec", ...
    Literal(Name),
    /// C#'s `ref x` or `out x` in a call's arguments: `x`, passed by
    /// reference (only a `ref` or `out` parameter takes it).
    ByRef(ExprId),
    Unknown,
}

impl Expr {
    /// A path of these segments.
    pub fn path(segments: &[String]) -> Expr {
        Expr::Path(Box::new(segments.into()))
    }
}

/// Where a definition's type comes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// A declared type, as written: `x: Foo`, `let x: Vec<Foo>`, a field's type;
    /// for a Python property, its getter's return type.
    pub declared: Option<Box<str>>,
    /// An assigned value: `x = Foo()`, `let x = make();`.
    pub value: Option<ExprId>,
    /// A function's return type, as written.
    pub returns: Option<Box<str>>,
    /// A class's bases; an `impl`'s self type; a `Deref` target.
    pub bases: Box<[ExprId]>,
}

// Kept for every definition with a type fact (the CPython standard library:
// hundreds of thousands); boxed strings and slices, not `String` and `Vec`,
// keep each at 56 bytes instead of 80.
const _: () = assert!(std::mem::size_of::<Facts>() <= 56);

/// The type facts of a file's definitions, sorted by occurrence and found by
/// binary search: a hash map's empty slots and control bytes made the
/// standard library's facts take 15 MB of the language server's memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FactsTable(Box<[(OccId, Facts)]>);

impl FactsTable {
    pub fn get(&self, occ: &OccId) -> Option<&Facts> {
        let i = self.0.binary_search_by_key(occ, |(o, _)| *o).ok()?;
        Some(&self.0[i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(OccId, Facts)> {
        self.0.iter()
    }
}

impl FromIterator<(OccId, Facts)> for FactsTable {
    fn from_iter<I: IntoIterator<Item = (OccId, Facts)>>(iter: I) -> FactsTable {
        let mut all: Vec<(OccId, Facts)> = iter.into_iter().collect();
        all.sort_unstable_by_key(|(o, _)| *o);
        all.dedup_by_key(|(o, _)| *o);
        FactsTable(all.into_boxed_slice())
    }
}

/// `from m import a as b`, `import m as n`, `use a::b as c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The name bound in this file.
    pub local_name: String,
    /// The module path, as written, split: `["..", "nodes"]`, `["crate",
    /// "parser"]`, `["pkg", "nodes"]`. Python relative imports start
    /// with one `.` segment per level.
    pub module: Vec<String>,
    /// The imported name; `None` when the module itself is bound.
    pub name: Option<String>,
    /// `from m import *`, `use m::*`.
    pub glob: bool,
    /// The occurrences of the imported name and of the alias.
    pub occurrences: Vec<OccId>,
    /// True for imports at the top level of the file.
    pub top_level: bool,
}

/// A Rust `impl` block: which type its methods belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImplBlock {
    /// The self type, as written (`Command`, `ArgMatcher`, `StyledStr`).
    pub self_type: String,
    pub trait_name: Option<String>,
    /// `type Target = X;` of a `Deref` impl.
    pub deref_target: Option<String>,
    pub byte_range: Range<usize>,
}

/// A list per occurrence, for the few occurrences that have one, sorted
/// by occurrence.
pub(super) type ByOccurrence<T> = Box<[(OccId, Box<[T]>)]>;

/// The entry for `id` of a table sorted by occurrence.
fn sorted_lookup<T>(table: &[(OccId, Box<[T]>)], id: OccId) -> Option<&[T]> {
    table
        .binary_search_by_key(&id, |(occ, _)| *occ)
        .ok()
        .map(|i| &*table[i].1)
}

/// Everything find usages needs from one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileUsages {
    pub occurrences: Vec<Occurrence>,
    pub exprs: Vec<Expr>,
    /// Type facts of definitions, by occurrence.
    pub facts: FactsTable,
    pub imports: Vec<Import>,
    pub impls: Vec<ImplBlock>,
    /// Attributes a class's methods assign (`self.x = ...`): (class, name,
    /// facts).
    pub attributes: Vec<(OccId, String, Facts)>,
    /// `export default class X`, `export default X` (TypeScript and
    /// JavaScript): the occurrence of `X`, which `import Y from "./m"`
    /// binds.
    pub default_export: Option<OccId>,
    /// `module.exports = X` (CommonJS): the occurrence of what the module
    /// is, `X` (or the `function X` assigned, or `v` of `var v =
    /// module.exports = ...`), which `require("./m")` returns.
    pub module_value: Option<OccId>,
    /// Java's `import static a.b.Scope.EMPTY;` (`Some("EMPTY")`) and
    /// `import static a.b.Scope.*;` (`None`): whose members a bare name
    /// may be, by the class's path (`["a", "b", "Scope"]`).
    pub static_imports: Vec<(Vec<String>, Option<String>)>,
    /// Java's `case STRING:`: the label's occurrence and the value switched
    /// on, whose enum type the constant belongs to; in the order of the
    /// file, so sorted.
    pub(super) case_labels: Vec<(OccId, ExprId)>,
    /// The parameters of each method definition and the arguments of each
    /// call, by occurrence, in languages whose overloads they tell apart
    /// ([`crate::languages::Spec::overloads_by_arity`]); sorted.
    pub(super) arities: Box<[(OccId, super::Arity)]>,
    /// JavaScript's `F.prototype.m = function m () {..}`, `obj.m =
    /// function m () {..}`: the function expressions' own names, which name
    /// the function only inside its body; sorted. Not counted among a
    /// name's definitions in the workspace (a search by name, whether a
    /// member name is distinctive).
    pub(super) method_functions: Box<[OccId]>,
    /// The declared type of each parameter of a method definition (empty
    /// where none is written), in those languages; sorted.
    pub(super) parameter_types: ByOccurrence<Box<str>>,
    /// The argument expressions of each call with any, in those
    /// languages; sorted.
    pub(super) arguments: ByOccurrence<ExprId>,
    /// The byte offset where each line starts, in the file as read: an
    /// occurrence's line and column are looked up here rather than kept
    /// in each of a workspace's millions of occurrences.
    pub(super) line_starts: Box<[u32]>,
}

impl FileUsages {
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id as usize]
    }

    /// The module a definition's value is `require(..)` of (`const R =
    /// require("./m")`: `./m`), as written.
    pub fn required(&self, occ: OccId) -> Option<&Name> {
        match self.expr(self.facts.get(&occ)?.value?) {
            Expr::Require(spec) => Some(spec),
            _ => None,
        }
    }

    /// Whether `occ` is the own name of a function expression assigned as
    /// a method ([`FileUsages::method_functions`]).
    pub fn is_method_function(&self, occ: OccId) -> bool {
        self.method_functions.binary_search(&occ).is_ok()
    }

    pub fn occurrence(&self, id: OccId) -> &Occurrence {
        &self.occurrences[id as usize]
    }

    /// How many arguments a method definition takes, or a call passes
    /// (languages with overloads only).
    pub fn arity(&self, id: OccId) -> Option<super::Arity> {
        self.arities
            .binary_search_by_key(&id, |&(occ, _)| occ)
            .ok()
            .map(|i| self.arities[i].1)
    }

    /// The declared types of a method definition's parameters ("" for one
    /// without a written type).
    pub fn parameter_types(&self, id: OccId) -> &[Box<str>] {
        sorted_lookup(&self.parameter_types, id).unwrap_or_default()
    }

    /// The value a `case` label's switch is on (Java).
    pub fn case_subject(&self, id: OccId) -> Option<ExprId> {
        self.case_labels
            .binary_search_by_key(&id, |&(occ, _)| occ)
            .ok()
            .map(|i| self.case_labels[i].1)
    }

    /// The argument expressions of a call.
    pub fn arguments(&self, id: OccId) -> &[ExprId] {
        sorted_lookup(&self.arguments, id).unwrap_or_default()
    }

    /// The 1-based line and 1-based byte column where an occurrence starts.
    pub fn position(&self, id: OccId) -> (u32, u32) {
        let start = self.occurrence(id).start;
        let row = self.line_starts.partition_point(|&s| s <= start).max(1) - 1;
        let line_start = self.line_starts.get(row).copied().unwrap_or(0);
        (row as u32 + 1, start - line_start + 1)
    }

    /// The occurrence covering byte `offset`, else the one ending there (a
    /// cursor just after a name).
    pub fn at(&self, offset: usize) -> Option<OccId> {
        let offset = u32::try_from(offset).ok()?;
        let covering = self
            .occurrences
            .iter()
            .position(|o| o.range().contains(&offset));
        covering
            .or_else(|| {
                self.occurrences
                    .iter()
                    .position(|o| o.range().end == offset)
            })
            .map(|i| i as OccId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_occurrence_keeps_every_role_and_flag_it_was_given() {
        for (i, k) in DefKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "DefKind::ALL in declaration order");
        }
        for (i, k) in RefKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "RefKind::ALL in declaration order");
        }
        let roles = DefKind::ALL
            .map(Role::Definition)
            .into_iter()
            .chain(RefKind::ALL.map(Role::Reference));
        for (i, role) in roles.enumerate() {
            let id = (i as u32) * 1_000_003 % Tagged::MAX_ID;
            let mut o = Occurrence {
                name: crate::usages::intern("x"),
                start: 7,
                receiver: Tagged::new(Some(id), role.to_byte()),
                local: Link::NONE,
                owner: Tagged::new(None, Flags::IN_MACRO | Flags::IN_FUNCTION),
            };
            assert_eq!((o.role(), o.receiver(), o.owner()), (role, Some(id), None));
            assert!(o.in_macro() && o.in_function() && !o.top_level());
            o.set_top_level(true);
            o.set_local(Some(Tagged::MAX_ID + 5));
            assert!(o.top_level() && o.in_macro() && !o.function_is_owner());
            assert_eq!((o.role(), o.local()), (role, Some(Tagged::MAX_ID + 5)));
            o.set_top_level(false);
            assert!(!o.top_level() && o.in_function());
        }
        // The largest id a link holds, and none.
        assert_eq!(
            Tagged::new(Some(Tagged::MAX_ID), 255).id(),
            Some(Tagged::MAX_ID)
        );
        assert_eq!(Tagged::new(None, 255).tag(), 255);
    }
}
