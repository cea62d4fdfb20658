//! Markdown: one chunk per section, the heading path as enclosing names; no usages.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("markdown");

pub(crate) static SPEC: Spec = Spec {
    name: "markdown",
    extensions: &["md", "markdown", "mdx"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_md::LANGUAGE.into(),
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "paragraph",
            "fenced_code_block",
            "indented_code_block",
            "list",
            "pipe_table",
            "html_block",
            "block_quote",
        ],
    },
    wrappers: &[],
    attached: &[],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    keywords: &[(ChunkKind::Section, "")],
    usages: Usages::None,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
