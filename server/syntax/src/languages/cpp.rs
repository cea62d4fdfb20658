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
    outline: None,
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
            // A function's body: a type alias, `typedef` or struct declared
            // inside belongs to its function, not a definition of its own
            // (as one, it cut a long function into a two-line head and the
            // rest).
            "compound_statement",
        ],
    },
    wrappers: &["template_declaration"],
    attached: &["comment"],
    test_markers: &[],
    overloads: &[],
    members_in_scope: true,
    overloads_by_arity: true,
    first_branch_only: false,
    camel_case: false,
    keywords: &[
        (ChunkKind::Module, "namespace"),
        (ChunkKind::Constant, "#define"),
        (ChunkKind::Macro, "#define"),
        (ChunkKind::TypeAlias, "using"),
    ],
    usages: Usages::File,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};

/// Whether a `.h` file, which C and C++ share, is written in C++: a line that
/// only C++ can start (`namespace`, `template`, `class`, an access label, an
/// `#include` of a standard header without `.h`) or a use of `std::`. A C
/// header that wraps itself in `extern "C"` for C++ readers stays C.
pub(crate) fn header_is_cpp(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with("//") || line.starts_with('*') || line.starts_with("/*") {
            return false;
        }
        let word = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        matches!(word, "namespace" | "template" | "class")
            || matches!(line, "public:" | "private:" | "protected:")
            || line.starts_with("using namespace ")
            || line.starts_with("extern \"C++\"")
            || line.contains("std::")
            || standard_cpp_include(line)
    })
}

/// `#include <vector>`, `# include <cstdint>`: a header of C++'s standard
/// library, whose names carry no `.h` (C's and POSIX's all do).
fn standard_cpp_include(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('#') else {
        return false;
    };
    let Some(target) = rest.trim_start().strip_prefix("include") else {
        return false;
    };
    let target = target.trim_start();
    target
        .strip_prefix('<')
        .and_then(|t| t.split_once('>'))
        .is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
}
