//! What a chunk is for (code, tests, examples, stubs, shims, re-export
//! barrels, files that are not code), from its language's markers and the
//! conventions of paths: the ranking's weight for things that stand for
//! other code.

use dowse_index::lexical::StoredChunk;
use dowse_syntax::ChunkKind;

/// Test code: marked so in its language (Rust's `#[cfg(test)]` modules and
/// `#[test]` functions, Java's `@Test`: [`StoredChunk::test`]), or by the
/// conventions of file names: files under a `tests`, `test` or `testing`
/// directory (test support and fixtures too: `testing/`, Go's `testdata/`),
/// `test_*.py`, `*_test.py`, `conftest.py`, `*_test.rs`, `*_tests.rs`, Rust
/// `mod test` / `mod tests` blocks, and those of [`is_test_file_name`].
pub fn is_test_code(chunk: &StoredChunk) -> bool {
    let mut parts = chunk.path.split('/');
    let file = parts.next_back().unwrap_or("");
    chunk.test
        || parts.any(|dir| {
            matches!(
                dir,
                "tests" | "test" | "testing" | "testdata" | "__tests__" | "spec"
            ) || dir.ends_with(".Tests")
        })
        || (file.starts_with("test_") && file.ends_with(".py"))
        || file.ends_with("_test.py")
        || file == "conftest.py"
        || file.ends_with("_test.rs")
        || file.ends_with("_tests.rs")
        || is_test_file_name(file)
        || chunk
            .enclosing
            .iter()
            .any(|e| e == "mod test" || e == "mod tests")
}

/// What a chunk is there for, when it is not the code itself: such chunks
/// rank below the code they stand for unless the query asks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Code,
    /// Tests ([`is_test_code`]).
    Test,
    /// Files under `examples/`, `example/`, `samples/`.
    Example,
    /// Type declarations standing for code elsewhere: `.d.ts`, `.pyi`.
    Stub,
    /// Compatibility shims: `compat/`, `*_compat.*`, `polyfills/`.
    Shim,
    /// The imports and re-exports of a package's `__init__.py` or a
    /// directory's `index.ts` / `index.js`.
    Barrel,
    /// Not code: lists of names, lockfiles, logs, changelogs, minified or
    /// vendored files.
    NotCode,
}

impl Role {
    pub fn of(chunk: &StoredChunk) -> Role {
        let path = chunk.path.as_str();
        let (dirs, file) = path.rsplit_once('/').unwrap_or(("", path));
        let mut dirs = dirs.split('/');
        let lower = file.to_ascii_lowercase();
        let (stem, ext) = lower.rsplit_once('.').unwrap_or((&lower, ""));
        let vendored = dirs
            .clone()
            .any(|d| matches!(d, "vendor" | "vendored" | "third_party" | "node_modules"));
        let listing = chunk.kind == ChunkKind::Text
            && (matches!(ext, "txt" | "lock" | "log" | "csv" | "tsv" | "sum")
                || lower.ends_with("-lock.json")
                || lower.ends_with("-lock.yaml")
                || ["changelog", "changes", "history", "news"]
                    .iter()
                    .any(|w| stem.starts_with(w)));
        if vendored || listing || stem.ends_with(".min") {
            Role::NotCode
        } else if is_test_code(chunk) {
            Role::Test
        } else if lower.ends_with(".d.ts") || ext == "pyi" {
            Role::Stub
        } else if dirs
            .clone()
            .any(|d| matches!(d, "examples" | "example" | "samples"))
        {
            Role::Example
        } else if dirs.any(|d| matches!(d, "compat" | "polyfills")) || stem.ends_with("_compat") {
            Role::Shim
        } else if chunk.kind == ChunkKind::Module
            && (file == "__init__.py" || matches!(stem, "index") && is_script(ext))
        {
            Role::Barrel
        } else {
            Role::Code
        }
    }

    /// Whether `query` asks for chunks of this role by name ("the tests of
    /// the parser", "an example of a custom filter").
    pub(crate) fn asked_for(self, query: &str) -> bool {
        let words: &[&str] = match self {
            Role::Code => return true,
            Role::Test => &["test", "tests", "testing", "spec", "specs"],
            Role::Example => &["example", "examples", "sample", "samples"],
            Role::Stub => &[
                "stub",
                "stubs",
                "declaration",
                "declarations",
                "d.ts",
                "pyi",
            ],
            Role::Shim => &["compat", "compatibility", "shim", "polyfill"],
            Role::Barrel => &["export", "exports", "re-export", "import", "imports"],
            Role::NotCode => &[
                "changelog",
                "lockfile",
                "lock",
                "vendored",
                "minified",
                "list",
            ],
        };
        query
            .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
            .any(|w| words.contains(&w.to_ascii_lowercase().as_str()))
    }
}

fn is_script(ext: &str) -> bool {
    matches!(ext, "ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs")
}

/// Test files by the conventions of the other languages: `x.test.ts` and
/// `x.spec.js`, Go's `x_test.go`, `XTest.java` / `XTests.cs` / `XSpec.scala`,
/// Ruby's `x_spec.rb` and `x_test.rb`, and the `__tests__`, `spec` and
/// `*.Tests` directories.
fn is_test_file_name(file: &str) -> bool {
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let code = matches!(
        ext,
        "ts" | "tsx"
            | "js"
            | "jsx"
            | "mjs"
            | "cjs"
            | "go"
            | "java"
            | "kt"
            | "cs"
            | "rb"
            | "php"
            | "swift"
            | "scala"
            | "c"
            | "cc"
            | "cpp"
            | "lua"
    );
    code && (stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || stem.ends_with("Spec"))
}
