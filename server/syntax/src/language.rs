//! The languages dowse parses with tree-sitter, and how a path maps to one.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

/// A language with a tree-sitter grammar and queries. Anything else is chunked
/// as plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Rust,
    Python,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Rust, Language::Python];

    /// The language of a file, from its extension.
    pub fn from_path(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "rs" => Some(Language::Rust),
            "py" | "pyi" | "pyw" => Some(Language::Python),
            _ => None,
        }
    }

    /// The lower-case name used in results and in `queries/<name>/`.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
        }
    }

    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Node kinds whose subtrees never hold a definition: expressions, types,
    /// patterns and simple statements. The chunker does not look inside them,
    /// which spares it most of the tree. Being too cautious here costs only
    /// time; a kind listed wrongly would hide definitions, so block-like
    /// expressions (a Rust `fn` may sit in any block) are kept out.
    pub(crate) fn opaque_kinds(self) -> &'static [bool] {
        static RUST: OnceLock<Vec<bool>> = OnceLock::new();
        static PYTHON: OnceLock<Vec<bool>> = OnceLock::new();
        let (cell, supertypes, keep, extra): (_, &[&str], &[&str], &[&str]) = match self {
            Language::Rust => (
                &RUST,
                &[
                    "_expression",
                    "_type",
                    "_pattern",
                    "_literal",
                    "_literal_pattern",
                ],
                &[
                    "block",
                    "unsafe_block",
                    "async_block",
                    "const_block",
                    "gen_block",
                    "try_block",
                    "if_expression",
                    "loop_expression",
                    "while_expression",
                    "for_expression",
                    "match_expression",
                    "closure_expression",
                ],
                &[
                    "use_declaration",
                    "attribute_item",
                    "inner_attribute_item",
                    "token_tree",
                    "macro_invocation",
                    "parameters",
                    "arguments",
                    "type_parameters",
                    "where_clause",
                    "field_declaration_list",
                    "ordered_field_declaration_list",
                    "enum_variant_list",
                    "line_comment",
                    "block_comment",
                    "string_literal",
                    "raw_string_literal",
                ],
            ),
            Language::Python => (
                &PYTHON,
                &[
                    "expression",
                    "primary_expression",
                    "_simple_statement",
                    "pattern",
                ],
                &[],
                &[
                    "parameters",
                    "argument_list",
                    "decorator",
                    "comment",
                    "string",
                ],
            ),
        };
        cell.get_or_init(|| {
            let grammar = self.grammar();
            let mut opaque = vec![false; grammar.node_kind_count()];
            let id = |name: &str| grammar.id_for_node_kind(name, true);
            for &supertype in grammar.supertypes() {
                let name = grammar.node_kind_for_id(supertype).unwrap_or("");
                if supertypes.contains(&name) {
                    for &sub in grammar.subtypes_for_supertype(supertype) {
                        opaque[sub as usize] = true;
                    }
                }
            }
            for name in keep {
                opaque[id(name) as usize] = false;
            }
            for name in extra {
                opaque[id(name) as usize] = true;
            }
            opaque[0] = false;
            opaque
        })
    }

    pub(crate) fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The language label of a file for results: a grammar's name, or a guess from
/// the extension for text files ("markdown", "toml", ...), or "text".
pub fn language_label(path: &Path) -> &'static str {
    if let Some(lang) = Language::from_path(path) {
        return lang.name();
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "md" | "markdown" => "markdown",
        "toml" => "toml",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "js" | "mjs" | "cjs" => "javascript",
        "ts" | "mts" | "cts" => "typescript",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" => "cpp",
        "go" => "go",
        "java" => "java",
        "sh" | "bash" => "shell",
        "html" | "htm" => "html",
        "css" => "css",
        "lua" => "lua",
        "rst" => "rst",
        _ => "text",
    }
}
