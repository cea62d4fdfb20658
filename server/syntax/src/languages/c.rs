//! C: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("c");

pub(crate) static SPEC: Spec = Spec {
    name: "c",
    extensions: &["c", "h"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_c::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[
            "expression",
            "_declarator",
            "_abstract_declarator",
            "_field_declarator",
            "_type_declarator",
        ],
        keep: &[],
        extra: &[
            "comment",
            "preproc_include",
            "string_literal",
            "parameter_list",
            // A function's body: a type alias, `typedef` or struct declared
            // inside belongs to its function, not a definition of its own
            // (as one, it cut a long function into a two-line head and the
            // rest).
            "compound_statement",
        ],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: false,
    keywords: &[
        (ChunkKind::Constant, "#define"),
        (ChunkKind::Macro, "#define"),
        (ChunkKind::TypeAlias, "typedef"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
