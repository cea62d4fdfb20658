//! Kotlin: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("kotlin");

pub(crate) static SPEC: Spec = Spec {
    name: "kotlin",
    extensions: &["kt", "kts"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_kotlin_ng::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "line_comment",
            "block_comment",
            "string_literal",
            "function_value_parameters",
            "import",
            "value_arguments",
        ],
    },
    wrappers: &[],
    attached: &["line_comment", "block_comment"],
    test_markers: &["@Test", "@ParameterizedTest"],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[
        (ChunkKind::Function, "fun"),
        (ChunkKind::Method, "fun"),
        (ChunkKind::TypeAlias, "typealias"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
