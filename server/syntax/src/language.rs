//! The languages dowse parses with tree-sitter, and how a path maps to one.

use std::fmt;
use std::path::Path;

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
