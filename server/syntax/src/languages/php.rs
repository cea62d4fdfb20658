//! Php: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("php");

pub(crate) static SPEC: Spec = Spec {
    name: "php",
    extensions: &["php", "phtml"],
    file_names: &[],
    shebangs: &["php"],
    grammar: || tree_sitter_php::LANGUAGE_PHP.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &["literal", "type"],
        keep: &[],
        extra: &[
            "comment",
            "formal_parameters",
            "arguments",
            "namespace_use_declaration",
            "attribute_list",
        ],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &["@test", "#[Test]"],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[
        (ChunkKind::Function, "function"),
        (ChunkKind::Method, "function"),
        (ChunkKind::Module, "namespace"),
        (ChunkKind::Constant, "const"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
