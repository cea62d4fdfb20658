//! Scala: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("scala");

pub(crate) static SPEC: Spec = Spec {
    name: "scala",
    extensions: &["scala", "sc"],
    file_names: &[],
    shebangs: &["scala"],
    grammar: || tree_sitter_scala::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        // Definitions inside expressions (a `def` in a block) sit inside a
        // function's chunk anyway.
        supertypes: &["expression"],
        keep: &["block"],
        extra: &[
            "comment",
            "block_comment",
            "string",
            "import_declaration",
            "parameters",
            "arguments",
        ],
    },
    wrappers: &[],
    attached: &["comment", "block_comment"],
    test_markers: &["@Test"],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[(ChunkKind::Function, "def"), (ChunkKind::Method, "def")],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
