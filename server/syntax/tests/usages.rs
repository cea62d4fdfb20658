//! Data-driven find-usages tests: each fixture under `tests/usages/` holds
//! one or more files (`//- path` headers) and a `$0` cursor on a name; the
//! expected definitions and references sit next to it in `<name>.expected`.
//! Update the snapshots with `UPDATE_EXPECT=1 cargo test -p dowse-syntax`,
//! and read the diff: every line is a claim about the resolver.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use dowse_syntax::Language;
use dowse_syntax::usages::extract;
use dowse_syntax::usages::resolve::Workspace;
use expect_test::expect_file;

/// Builds the workspace of a fixture and answers usages from its cursor.
fn usages_report(fixture: &str) -> String {
    usages_report_in(fixture, Order::AsWritten)
}

/// The order a fixture's files are added to the workspace in.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    AsWritten,
    Reversed,
}

fn usages_report_in(fixture: &str, order: Order) -> String {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in fixture.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            files.push((path.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    if order == Order::Reversed {
        files.reverse();
    }
    let mut cursor = None;
    let mut ws = Workspace::new();
    for (path, text) in &mut files {
        if let Some(at) = text.find("$0") {
            text.replace_range(at..at + 2, "");
            cursor = Some((path.clone(), at));
        }
        let lang = Language::from_path(Path::new(path)).expect("a .py or .rs fixture file");
        let usages = extract(lang, text).expect("the tags query compiles");
        ws.set_file(path, lang, Arc::new(usages));
    }
    let (path, offset) = cursor.expect("a $0 cursor in the fixture");
    let file = ws.file_id(&path).expect("the cursor's file");
    let symbol = ws.symbol_at(file, offset).expect("a symbol at the cursor");
    let found = ws.usages(symbol);
    let mut out = String::new();
    for (label, list) in [("def", &found.definitions), ("ref", &found.references)] {
        for s in list {
            let (line_no, column) = ws.usages_of(s.file).position(s.occ);
            let path = ws.path(s.file);
            let text = &files
                .iter()
                .find(|(p, _)| p == path)
                .expect("fixture file")
                .1;
            let line = text.lines().nth(line_no as usize - 1).unwrap_or("").trim();
            writeln!(out, "{label} {path}:{line_no}:{column}  {line}").unwrap();
        }
    }
    out
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/usages");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fixture"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "fixtures went missing from {}",
        dir.display()
    );
    for path in names {
        let fixture = std::fs::read_to_string(&path).unwrap();
        let report = usages_report(&fixture);
        expect_file![path.with_extension("expected")].assert_eq(&report);
    }
}

/// An answer is the same whatever order the files came in (an editor opens
/// them in any order; a process walks them in its own).
#[test]
fn answers_do_not_depend_on_the_order_files_are_added_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/usages");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "fixture") {
            continue;
        }
        let fixture = std::fs::read_to_string(&path).unwrap();
        let mut reversed = usages_report_in(&fixture, Order::Reversed);
        let mut written = usages_report_in(&fixture, Order::AsWritten);
        for report in [&mut reversed, &mut written] {
            let mut lines: Vec<&str> = report.lines().collect();
            lines.sort_unstable();
            *report = lines.join("\n");
        }
        assert_eq!(written, reversed, "{}", path.display());
    }
}

/// A file nested far deeper than any code a person writes (generated, or
/// planted in a repository) gets no usages, and never overflows the stack
/// of the thread that reads it; a file nested as deep as real code still
/// gets its occurrences. Run on a thread with the default 2 MiB stack that
/// the servers' worker threads have.
#[test]
fn absurdly_nested_files_are_refused_without_overflowing_the_stack() {
    let deep = 20_000;
    let files: Vec<(Language, String)> = vec![
        (
            Language::Python,
            format!("x = {}1{}\n", "(".repeat(deep), ")".repeat(deep)),
        ),
        (Language::Python, format!("x = a{}\n", ".b".repeat(deep))),
        (Language::Python, format!("x = f{}\n", "()".repeat(deep))),
        (
            Language::Rust,
            format!(
                "fn f() {{ let x = {}1{}; }}\n",
                "(".repeat(deep),
                ")".repeat(deep)
            ),
        ),
        (
            Language::Rust,
            format!("fn f() {{ let x = a{}; }}\n", ".b".repeat(deep)),
        ),
        (
            Language::Rust,
            format!("fn f() {{ let x = a{}; }}\n", "()".repeat(deep)),
        ),
        (
            Language::Rust,
            format!("fn f() {{ let x = a{}; }}\n", "::b".repeat(deep)),
        ),
        (
            Language::JavaScript,
            format!("x = {}1{};\n", "(".repeat(deep), ")".repeat(deep)),
        ),
    ];
    let outcomes = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            files
                .iter()
                .map(|(lang, text)| extract(*lang, text).is_some())
                .collect::<Vec<bool>>()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(outcomes, vec![false; 8]);

    let nested = 100;
    let real = format!(
        "def f(a):\n    return a\n\nx = {}f(1){}\n",
        "(".repeat(nested),
        ")".repeat(nested)
    );
    let usages = extract(Language::Python, &real).expect("usages of a file nested 100 deep");
    assert!(
        usages.occurrences.len() >= 3,
        "{} occurrences",
        usages.occurrences.len()
    );
}
