//! Occurrences for find usages: every identifier of a file that is code (not
//! a comment, not a string), what it is, and the facts a resolver needs to
//! tell `self.send` from an unrelated `send`.
//!
//! What an identifier *is* comes from the queries: `tags.scm` marks
//! definitions (`@definition.<kind>`) and references (`@reference.<kind>`),
//! `locals.scm` marks scopes and local bindings. What this module adds, by
//! walking the tree, is structure the queries cannot express:
//!
//! - the **receiver** of an attribute, field, method or path segment, as a
//!   small expression ([`Expr`]): `self.stream.current` in
//!   `self.stream.current.test(...)`;
//! - **local resolution**: a name bound inside a function (parameter,
//!   assignment, `let`, loop variable) points at its binding, so shadowing
//!   never leaks into cross-file resolution;
//! - **type facts**: annotations, assigned values, return types, class bases,
//!   struct fields, `impl` targets and `Deref` targets, and the element type
//!   of a closure's iterator — the raw material of receiver typing.
//!
//! Resolution across files lives in `dowse-index` (`usages`); this module is
//! per file and pure.

mod arity;
mod extract;
mod generic;
mod name;
mod occurrence;
mod python;
pub mod resolve;
mod rust;

pub use arity::Arity;
pub use extract::extract;
pub(crate) use extract::{Ctx, ScopeKind, identifiers_in};
pub use name::{Name, intern};
pub(crate) use occurrence::Place;
pub use occurrence::{
    DefKind, Expr, ExprId, Facts, FactsTable, FileUsages, ImplBlock, Import, Link, OccId,
    Occurrence, RefKind, Role,
};
