//! Swift: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("swift");

pub(crate) static SPEC: Spec = Spec {
    name: "swift",
    extensions: &["swift"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_swift::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "comment",
            "multiline_comment",
            "line_string_literal",
            "multi_line_string_literal",
            "import_declaration",
        ],
    },
    wrappers: &[],
    attached: &["comment", "multiline_comment"],
    test_markers: &["@Test", "@Suite"],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[
        (ChunkKind::Function, "func"),
        (ChunkKind::Method, "func"),
        (ChunkKind::Trait, "protocol"),
        (ChunkKind::Impl, "extension"),
        (ChunkKind::TypeAlias, "typealias"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
