//! Java: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};

const QUERIES: (&str, &str, &str) = queries!("java");

pub(crate) static SPEC: Spec = Spec {
    name: "java",
    extensions: &["java"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_java::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "formal_parameters",
            "line_comment",
            "block_comment",
            "string_literal",
            "import_declaration",
            "modifiers",
            "argument_list",
        ],
    },
    wrappers: &[],
    attached: &["line_comment", "block_comment"],
    test_markers: &[
        "@Test",
        "@ParameterizedTest",
        "@RepeatedTest",
        "@TestFactory",
    ],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: true,
    first_branch_only: false,
    camel_case: true,
    keywords: &[],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
