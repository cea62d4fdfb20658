//! TypeScript and TSX: chunks, tags and locals; usages across files
//! (relative imports, typed receivers).

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("typescript");

pub(crate) static TYPESCRIPT: Spec = TYPESCRIPT_SPEC;

const TYPESCRIPT_SPEC: Spec = Spec {
    name: "typescript",
    extensions: &["ts", "mts", "cts"],
    file_names: &[],
    shebangs: &["ts-node", "deno", "tsx"],
    grammar: || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
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
            "type_annotation",
            "regex",
            "import_statement",
            "type_arguments",
        ],
    },
    wrappers: &["export_statement"],
    attached: &["comment", "decorator"],
    test_markers: &[],
    overloads: &["function_signature"],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: true,
    keywords: &[
        (ChunkKind::Function, "function"),
        (ChunkKind::Module, "namespace"),
    ],
    usages: Usages::Resolved,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};

/// TSX is TypeScript's grammar with JSX: the same spec but for its name,
/// files and grammar (it shares `queries/typescript/`).
pub(crate) static TSX: Spec = Spec {
    name: "tsx",
    extensions: &["tsx"],
    shebangs: &[],
    grammar: || tree_sitter_typescript::LANGUAGE_TSX.into(),
    ..TYPESCRIPT_SPEC
};
