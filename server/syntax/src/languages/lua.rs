//! Lua: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("lua");

pub(crate) static SPEC: Spec = Spec {
    name: "lua",
    extensions: &["lua"],
    file_names: &[],
    shebangs: &["lua", "luajit"],
    grammar: || tree_sitter_lua::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &["comment", "string", "parameters", "arguments"],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: false,
    keywords: &[
        (ChunkKind::Function, "function"),
        (ChunkKind::Method, "function"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
