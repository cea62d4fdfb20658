//! Cpp: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("cpp");

pub(crate) static SPEC: Spec = Spec {
    name: "cpp",
    extensions: &[
        "cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "tpp",
    ],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_cpp::LANGUAGE.into(),
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "comment",
            "preproc_include",
            "string_literal",
            "raw_string_literal",
            "parameter_list",
            "argument_list",
            "template_argument_list",
        ],
    },
    wrappers: &["template_declaration"],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: true,
    keywords: &[
        (ChunkKind::Module, "namespace"),
        (ChunkKind::Constant, "#define"),
        (ChunkKind::Macro, "#define"),
        (ChunkKind::TypeAlias, "using"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
};
