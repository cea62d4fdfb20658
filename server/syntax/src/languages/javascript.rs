//! JavaScript: chunks, tags and locals; usages across files (ES imports,
//! typed receivers).

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("javascript");

pub(crate) static SPEC: Spec = Spec {
    name: "javascript",
    extensions: &["js", "mjs", "cjs", "jsx"],
    file_names: &[],
    shebangs: &["node", "nodejs", "bun"],
    grammar: || tree_sitter_javascript::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "string",
            "template_string",
            "comment",
            "formal_parameters",
            "regex",
            "import_statement",
        ],
    },
    wrappers: &["export_statement"],
    attached: &["comment", "decorator"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[(ChunkKind::Function, "function")],
    usages: Usages::Resolved,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
