//! The registry of languages: one module per language, one row per module in
//! [`spec`]. A module says everything dowse knows about its language — file
//! names, grammar, queries, which syntax nodes belong to a definition, the
//! words its definitions are shown with, and for find usages the names of its
//! builtin methods — so adding a language is a folder in `queries/` and a
//! module here (README, "Adding a language").

use crate::Language;
use crate::chunk::{ChunkKind, Outline};

mod bash;
mod c;
pub(crate) mod cpp;
mod csharp;
mod go;
mod java;
mod javascript;
mod kotlin;
mod lua;
mod markdown;
mod php;
mod python;
mod ruby;
mod rust;
mod scala;
mod swift;
mod typescript;

/// What dowse knows about one language.
pub(crate) struct Spec {
    /// Lower-case, as shown in results and accepted by `--lang`.
    pub name: &'static str,
    /// File extensions, without the dot, compared case-insensitively.
    pub extensions: &'static [&'static str],
    /// Whole file names that are this language whatever their extension.
    pub file_names: &'static [&'static str],
    /// Interpreters named by a `#!` line, without version digits.
    pub shebangs: &'static [&'static str],
    pub grammar: fn() -> tree_sitter::Language,
    /// Finds a file's sections without a syntax tree, when a parser made
    /// for that is much faster than the grammar (Markdown); the chunks
    /// query then only documents them.
    pub outline: Option<fn(&str) -> Outline>,
    /// The embedded `queries/<dir>/{chunks,tags,locals}.scm`.
    pub chunks: &'static str,
    pub tags: &'static str,
    pub locals: &'static str,
    /// Nodes the chunker never looks inside (see [`Opaque`]).
    pub opaque: Opaque,
    /// Parents that carry a definition with them: a chunk starts at the
    /// outermost of these around its definition (Python's decorated
    /// definitions, TypeScript's `export`, C++'s `template <..>`).
    pub wrappers: &'static [&'static str],
    /// Siblings directly above a definition that belong to it: comments (doc
    /// comments of every flavour), attributes, decorators.
    pub attached: &'static [&'static str],
    /// Text in the attributes or annotations above a definition that marks
    /// it as test code (`#[test]`, `@Test`); its chunks rank below the code
    /// they test.
    pub test_markers: &'static [&'static str],
    /// Declarations that state only a signature (TypeScript's overloads):
    /// one directly above a definition of the same name belongs to it, so
    /// that a name's chunk holds its signatures and its body, and asking
    /// for the name finds the body rather than a one-line signature.
    pub overloads: &'static [&'static str],
    /// A bare name inside a class may name a member of it or of a class
    /// around it (`this.` / `self.` is implicit: Java, C#, Kotlin, Scala,
    /// Swift, C++, Ruby): find usages looks there before the file's and the
    /// workspace's top-level names.
    pub members_in_scope: bool,
    /// Methods of one name in one class are told apart by their parameters
    /// (Java, C#, C++ overloads), and a call goes to the one whose number
    /// of parameters its arguments fit (`crate::usages::Arity`); without
    /// the types of the arguments, the first that fits among those of one
    /// number.
    pub overloads_by_arity: bool,
    /// Conditional compilation may split one declaration in two (C#'s
    /// `#if NET4` / `public IList<T> Items` / `#else` / `public IList
    /// Items` / `#endif`), which no grammar parses: find usages reads the
    /// first branch of each `#if` and leaves the others out.
    pub first_branch_only: bool,
    /// Functions and variables are named in camelCase or PascalCase
    /// (`getBool`, `GetIter`), not snake_case: the embedding model reads
    /// such a name as one word, so the code it embeds has the words apart
    /// (`views::embedding_text` in the engine).
    pub camel_case: bool,
    /// How a definition of a kind is written, for enclosing names ("def",
    /// "func", "namespace"); kinds not listed are shown by their kind name.
    pub keywords: &'static [(ChunkKind, &'static str)],
    /// How much find usages knows about the language.
    pub usages: Usages,
    /// Methods of the language's builtin types and standard library that
    /// many unrelated types have (`get`, `push`): a call of one with an
    /// unknown receiver is not taken as a use of a workspace method of that
    /// name. Every entry must be a real method of the builtins.
    pub common_methods: &'static [&'static str],
    /// Builtin calls that return their argument's type (`list(x)`, `Box::new`).
    pub passthrough: &'static [&'static str],
    /// Generic containers of the language whose type argument is what an
    /// element, a loop variable or an index gives (Python's `list[Item]`):
    /// a declared type reads through them, as through the wrappers every
    /// language shares (`Option`, `List`, `Box`: `Workspace::parse_type`).
    pub containers: &'static [&'static str],
}

/// Node kinds without definitions inside, by the grammar's supertypes (all
/// their subtypes) plus single kinds, minus kinds to keep walking into.
pub(crate) struct Opaque {
    pub supertypes: &'static [&'static str],
    pub keep: &'static [&'static str],
    pub extra: &'static [&'static str],
}

/// How far find usages goes in a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usages {
    /// Definitions and references resolved across files: imports, modules,
    /// receivers' types.
    Resolved,
    /// Definitions and references of one file by the locals query's scopes,
    /// receivers typed where declared, and names defined once in another
    /// file of the language.
    File,
    /// None (a document language).
    None,
}

impl Usages {
    pub fn as_str(self) -> &'static str {
        match self {
            Usages::Resolved => "workspace",
            Usages::File => "file",
            Usages::None => "none",
        }
    }
}

pub(crate) fn spec(lang: Language) -> &'static Spec {
    match lang {
        Language::Rust => &rust::SPEC,
        Language::Python => &python::SPEC,
        Language::TypeScript => &typescript::TYPESCRIPT,
        Language::Tsx => &typescript::TSX,
        Language::JavaScript => &javascript::SPEC,
        Language::Go => &go::SPEC,
        Language::Java => &java::SPEC,
        Language::C => &c::SPEC,
        Language::Cpp => &cpp::SPEC,
        Language::CSharp => &csharp::SPEC,
        Language::Ruby => &ruby::SPEC,
        Language::Php => &php::SPEC,
        Language::Kotlin => &kotlin::SPEC,
        Language::Swift => &swift::SPEC,
        Language::Scala => &scala::SPEC,
        Language::Bash => &bash::SPEC,
        Language::Lua => &lua::SPEC,
        Language::Markdown => &markdown::SPEC,
    }
}

/// `include_str!` of the three query files of `queries/<dir>/`.
macro_rules! queries {
    ($dir:literal) => {
        (
            include_str!(concat!("../../../../queries/", $dir, "/chunks.scm")),
            include_str!(concat!("../../../../queries/", $dir, "/tags.scm")),
            include_str!(concat!("../../../../queries/", $dir, "/locals.scm")),
        )
    };
}
pub(crate) use queries;

#[cfg(test)]
mod tests {
    use super::*;

    /// A misspelt node kind would silently do nothing: every kind a spec
    /// names must be one of its grammar's.
    #[test]
    fn every_node_kind_a_spec_names_is_in_its_grammar() {
        for lang in Language::ALL {
            let spec = spec(lang);
            let grammar = (spec.grammar)();
            let supertypes: Vec<&str> = grammar
                .supertypes()
                .iter()
                .filter_map(|&s| grammar.node_kind_for_id(s))
                .collect();
            for name in spec.opaque.supertypes {
                assert!(
                    supertypes.contains(name),
                    "{}: no supertype {name}",
                    spec.name
                );
            }
            let kinds = spec
                .opaque
                .keep
                .iter()
                .chain(spec.opaque.extra)
                .chain(spec.wrappers)
                .chain(spec.attached);
            for name in kinds {
                assert_ne!(
                    grammar.id_for_node_kind(name, true),
                    0,
                    "{}: no node kind {name}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn common_and_passthrough_methods_are_listed_once() {
        for lang in Language::ALL {
            let spec = spec(lang);
            for list in [spec.common_methods, spec.passthrough, spec.containers] {
                let mut sorted = list.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(
                    sorted.len(),
                    list.len(),
                    "{}: a name listed twice",
                    spec.name
                );
            }
        }
    }
}
