//! The languages dowse parses with tree-sitter, and how a file maps to one.
//! What each language is lives in its module under `languages/`.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use crate::languages::{Spec, Usages, spec};

/// A language with a tree-sitter grammar and queries. Anything else is chunked
/// as plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Rust,
    Python,
    TypeScript,
    Tsx,
    JavaScript,
    Go,
    Java,
    C,
    Cpp,
    CSharp,
    Ruby,
    Php,
    Kotlin,
    Swift,
    Scala,
    Bash,
    Lua,
    Markdown,
}

impl Language {
    pub const ALL: [Language; 18] = [
        Language::Rust,
        Language::Python,
        Language::TypeScript,
        Language::Tsx,
        Language::JavaScript,
        Language::Go,
        Language::Java,
        Language::C,
        Language::Cpp,
        Language::CSharp,
        Language::Ruby,
        Language::Php,
        Language::Kotlin,
        Language::Swift,
        Language::Scala,
        Language::Bash,
        Language::Lua,
        Language::Markdown,
    ];

    pub(crate) fn spec(self) -> &'static Spec {
        spec(self)
    }

    /// The language of a file, from its name or extension.
    pub fn from_path(path: &Path) -> Option<Language> {
        let file_name = path.file_name()?.to_str()?;
        if let Some(lang) = Language::ALL
            .into_iter()
            .find(|l| l.spec().file_names.contains(&file_name))
        {
            return Some(lang);
        }
        let ext = path.extension()?.to_str()?;
        Language::ALL.into_iter().find(|l| {
            l.spec()
                .extensions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(ext))
        })
    }

    /// The language of a file from its name, or for a file without an
    /// extension from the interpreter its `#!` line names (`#!/usr/bin/env
    /// python3`, `#!/bin/bash`). A `.h` header is C unless its text reads
    /// as C++ (pybind11's, LLVM's and Qt's headers are all `.h`).
    pub fn detect(path: &Path, text: &str) -> Option<Language> {
        if let Some(lang) = Language::from_path(path) {
            let header = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("h"));
            if lang == Language::C && header && crate::languages::cpp::header_is_cpp(text) {
                return Some(Language::Cpp);
            }
            return Some(lang);
        }
        if path.extension().is_some() {
            return None;
        }
        let interpreter = shebang_interpreter(text)?;
        Language::ALL
            .into_iter()
            .find(|l| l.spec().shebangs.contains(&interpreter))
    }

    /// The lower-case name used in results, in `--lang` and (for most) in
    /// `queries/<name>/`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }

    /// TypeScript, TSX or JavaScript: one module system (ES imports and
    /// CommonJS), block-wide declarations, and a method one with those it
    /// overrides, as their compiler's find references has it.
    pub fn is_javascript(self) -> bool {
        matches!(
            self,
            Language::TypeScript | Language::Tsx | Language::JavaScript
        )
    }

    /// Whether the language names functions and variables in camelCase or
    /// PascalCase rather than snake_case.
    pub fn camel_case(self) -> bool {
        self.spec().camel_case
    }

    /// How far find usages goes in this language.
    pub fn usages(self) -> Usages {
        self.spec().usages
    }

    /// Node kinds whose subtrees never hold a definition: expressions, types,
    /// patterns and simple statements. The chunker does not look inside them,
    /// which spares it most of the tree. Being too cautious here costs only
    /// time; a kind listed wrongly would hide definitions, so block-like
    /// expressions (a Rust `fn` may sit in any block) are kept out.
    pub(crate) fn opaque_kinds(self) -> &'static [bool] {
        static CELLS: [OnceLock<Vec<bool>>; Language::ALL.len()] =
            [const { OnceLock::new() }; Language::ALL.len()];
        CELLS[self as usize].get_or_init(|| {
            let lists = &self.spec().opaque;
            let grammar = self.grammar();
            let mut opaque = vec![false; grammar.node_kind_count()];
            let id = |name: &str| grammar.id_for_node_kind(name, true);
            for &supertype in grammar.supertypes() {
                let name = grammar.node_kind_for_id(supertype).unwrap_or("");
                if lists.supertypes.contains(&name) {
                    for &sub in grammar.subtypes_for_supertype(supertype) {
                        opaque[sub as usize] = true;
                    }
                }
            }
            for name in lists.keep {
                opaque[id(name) as usize] = false;
            }
            for name in lists.extra {
                opaque[id(name) as usize] = true;
            }
            opaque[0] = false;
            opaque
        })
    }

    pub(crate) fn grammar(self) -> tree_sitter::Language {
        (self.spec().grammar)()
    }
}

/// `python` for `#!/usr/bin/env -S python3.12 -u`, `bash` for `#!/bin/bash`.
fn shebang_interpreter(text: &str) -> Option<&str> {
    let line = text.strip_prefix(crate::text::BOM).unwrap_or(text);
    let line = line.strip_prefix("#!")?.lines().next()?;
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|w| !w.starts_with('-') && !w.contains('='))?;
    }
    Some(program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'))
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The language label of a file for results: a grammar's name, or a guess from
/// the extension for text files ("toml", "json", ...), or "text".
pub fn language_label(path: &Path) -> &'static str {
    if let Some(lang) = Language::from_path(path) {
        return lang.name();
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "toml" => "toml",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "zsh" | "fish" => "shell",
        "html" | "htm" => "html",
        "css" | "scss" => "css",
        "rst" => "rst",
        "sql" => "sql",
        _ => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_map_to_languages_by_name_extension_and_shebang() {
        let lang =
            |path: &str, text: &str| Language::detect(Path::new(path), text).map(|l| l.name());
        assert_eq!(lang("src/app.TSX", ""), Some("tsx"));
        assert_eq!(lang("lib/index.mjs", ""), Some("javascript"));
        assert_eq!(lang("include/net.hpp", ""), Some("cpp"));
        assert_eq!(lang("Rakefile", ""), Some("ruby"));
        assert_eq!(
            lang("bin/deploy", "#!/usr/bin/env -S python3.12 -u\n"),
            Some("python")
        );
        assert_eq!(lang("bin/setup", "#!/bin/bash\nset -e\n"), Some("bash"));
        assert_eq!(
            lang("bin/tool", "#!/usr/bin/env node\n"),
            Some("javascript")
        );
        // An extension that says otherwise wins over a `#!` line.
        assert_eq!(lang("notes.txt", "#!/bin/bash\n"), None);
        assert_eq!(lang("LICENSE", "MIT License\n"), None);
    }

    #[test]
    fn a_header_is_cpp_when_its_text_is() {
        let lang =
            |text: &str| Language::detect(Path::new("include/api.h"), text).map(|l| l.name());
        // C, including a header that opens itself to C++ readers.
        assert_eq!(
            lang("#include <stdio.h>\nint lua_gettop (lua_State *L);\n"),
            Some("c")
        );
        assert_eq!(
            lang("#ifdef __cplusplus\nextern \"C\" {\n#endif\nvoid f(void);\n"),
            Some("c")
        );
        // Words only C++ starts a line with, even after a C-looking prelude;
        // the same words in a comment do not count.
        assert_eq!(lang("/*\n * class and namespace\n */\nint x;\n"), Some("c"));
        assert_eq!(lang("#pragma once\nnamespace pybind11 {\n}\n"), Some("cpp"));
        assert_eq!(
            lang("template <typename T>\nT id(T v) { return v; }\n"),
            Some("cpp")
        );
        assert_eq!(
            lang("class Handle {\npublic:\n  int fd;\n};\n"),
            Some("cpp")
        );
        assert_eq!(lang("#include <vector>\nint f(void);\n"), Some("cpp"));
        assert_eq!(lang("int n = std::max(a, b);\n"), Some("cpp"));
        // Only `.h` is shared: a `.c` file is C whatever it holds.
        assert_eq!(
            Language::detect(Path::new("a.c"), "namespace x {}\n").map(|l| l.name()),
            Some("c")
        );
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for lang in Language::ALL {
            assert_eq!(Language::from_name(lang.name()), Some(lang));
            assert_eq!(Language::ALL[lang as usize], lang);
        }
    }
}
