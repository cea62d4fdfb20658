//! Go: chunks, tags and locals; usages across files and packages (a
//! package-qualified name by its name, receivers typed by declarations,
//! values, range loops and struct literals; embedded fields promoted).

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("go");

pub(crate) static SPEC: Spec = Spec {
    name: "go",
    extensions: &["go"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_go::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &["_expression", "_simple_type"],
        keep: &[],
        extra: &[
            "parameter_list",
            "comment",
            "import_declaration",
            "interpreted_string_literal",
            "raw_string_literal",
        ],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[
        (ChunkKind::Function, "func"),
        (ChunkKind::Method, "func"),
        (ChunkKind::TypeAlias, "type"),
    ],
    usages: Usages::Resolved,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
