//! Ruby: chunks, tags and locals; usages within a file.

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::ChunkKind;

const QUERIES: (&str, &str, &str) = queries!("ruby");

pub(crate) static SPEC: Spec = Spec {
    name: "ruby",
    extensions: &["rb", "rake", "gemspec", "ru"],
    file_names: &["Rakefile", "Gemfile", "Guardfile", "Vagrantfile"],
    shebangs: &["ruby"],
    grammar: || tree_sitter_ruby::LANGUAGE.into(),
    outline: None,
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[
            "comment",
            "string",
            "method_parameters",
            "argument_list",
            "heredoc_body",
        ],
    },
    wrappers: &[],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: false,
    keywords: &[(ChunkKind::Function, "def"), (ChunkKind::Method, "def")],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};
