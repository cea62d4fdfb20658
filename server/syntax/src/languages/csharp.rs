//! Csharp: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("csharp");

pub(crate) static SPEC: Spec = Spec {
    name: "csharp",
    extensions: &["cs", "csx"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_c_sharp::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &["expression", "literal", "pattern", "type"],
        keep: &[],
        extra: &[
            "comment",
            "using_directive",
            "parameter_list",
            "argument_list",
            "attribute_list",
        ],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[
        "[Test]",
        "[TestCase",
        "[Fact]",
        "[Theory]",
        "[TestMethod]",
        "[TestClass]",
        "[TestFixture]",
    ],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: true,
    first_branch_only: true,
    camel_case: true,
    keywords: &[
        (ChunkKind::Module, "namespace"),
        (ChunkKind::TypeAlias, "delegate"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
