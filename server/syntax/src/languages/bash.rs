//! Bash: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("bash");

pub(crate) static SPEC: Spec = Spec {
    name: "bash",
    extensions: &["sh", "bash"],
    file_names: &[],
    shebangs: &["sh", "bash", "zsh", "ksh", "dash"],
    grammar: || tree_sitter_bash::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &["comment", "string", "raw_string", "heredoc_body"],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: false,
    keywords: &[(ChunkKind::Function, "function")],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
