//! Data-driven chunker tests: a fixture in, the chunks out as one line each
//! (`lines kind symbol [< enclosing] [part] | first line`). Update the
//! snapshots with `UPDATE_EXPECT=1 cargo test -p dowse-syntax`.

use std::fmt::Write as _;
use std::path::Path;

use dowse_syntax::{ChunkConfig, chunk_file};
use expect_test::{Expect, expect};

fn render(path: &str, text: &str, config: &ChunkConfig) -> String {
    let file = chunk_file(Path::new(path), text, config);
    let mut out = String::new();
    if file.has_syntax_errors {
        out.push_str("(syntax errors)\n");
    }
    for chunk in &file.chunks {
        let chunk_text = chunk.text(text);
        assert_eq!(
            chunk.digest,
            dowse_syntax::Digest::of(chunk_text.as_bytes()),
            "digest is of the chunk's text"
        );
        let first = chunk_text.lines().next().unwrap_or("").trim();
        write!(
            out,
            "{}-{} {}",
            chunk.start_line, chunk.end_line, chunk.kind
        )
        .unwrap();
        if let Some(symbol) = &chunk.symbol {
            write!(out, " {symbol}").unwrap();
        }
        if !chunk.enclosing.is_empty() {
            write!(out, " < {}", chunk.enclosing.join(" > ")).unwrap();
        }
        if let Some(part) = chunk.part {
            write!(out, " part {part}").unwrap();
        }
        writeln!(out, " | {first}").unwrap();
    }
    out
}

fn check(path: &str, text: &str, expect: Expect) {
    expect.assert_eq(&render(path, text, &ChunkConfig::default()));
}

fn check_with(path: &str, text: &str, config: ChunkConfig, expect: Expect) {
    expect.assert_eq(&render(path, text, &config));
}

#[test]
fn python_functions_classes_and_module_code() {
    check(
        "pkg/client.py",
        r#"import os
import sys

RETRIES = 3


def parse_duration(text):
    """Parse '5m' into seconds."""
    unit = text[-1]
    value = int(text[:-1])
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


class Client:
    """An HTTP client."""

    timeout = 10

    def __init__(self, base):
        self.base = base
        self.session = None
        self.retries = RETRIES

    def send(self, request):
        for attempt in range(self.retries):
            response = self.session.send(request)
            if response.ok:
                return response
        raise RuntimeError("gave up")


if __name__ == "__main__":
    print(parse_duration(sys.argv[1]))
"#,
        expect![[r#"
            1-4 module | import os
            7-11 function parse_duration | def parse_duration(text):
            14-17 class Client | class Client:
            19-22 method __init__ < class Client | def __init__(self, base):
            24-29 method send < class Client | def send(self, request):
            32-33 module | if __name__ == "__main__":
        "#]],
    );
}

#[test]
fn python_decorators_and_comments_belong_to_their_definition() {
    check(
        "views.py",
        r#"x = compute()  # trailing comment, not attached

# Render the index page for a user,
# cached for a minute.
@app.route("/")
@cache(60)
def index(request):
    user = request.user
    return render("index.html", user=user, items=load(user))


class Model:
    @property
    def name(self):
        return self._name.strip().title() or self.default_name()

    @staticmethod
    def create(**fields):
        instance = Model()
        instance.__dict__.update(fields)
        return instance
"#,
        expect![[r#"
            1-1 module | x = compute()  # trailing comment, not attached
            3-9 function index | # Render the index page for a user,
            12-15 method name < class Model | class Model:
            17-21 method create < class Model | @staticmethod
        "#]],
    );
}

#[test]
fn python_nested_classes_and_functions() {
    check(
        "nested.py",
        r#"class Outer:
    class Inner:
        def deep(self):
            def helper(x):
                return x * 2 + self.offset - self.base
            return [helper(v) for v in self.values if v is not None]

        def other(self):
            return sum(self.values) / max(len(self.values), 1)

    def method(self):
        return self.Inner().deep() + self.Inner().other()
"#,
        expect![[r#"
            1-1 class Outer | class Outer:
            2-6 method deep < class Outer > class Inner | class Inner:
            8-9 method other < class Outer > class Inner | def other(self):
            11-12 method method < class Outer | def method(self):
        "#]],
    );
}

#[test]
fn python_tiny_siblings_are_merged() {
    check(
        "props.py",
        r#"class Point:
    def x(self): return self._x
    def y(self): return self._y
    def z(self): return self._z

    def distance(self, other):
        dx = self.x() - other.x()
        dy = self.y() - other.y()
        dz = self.z() - other.z()
        return (dx * dx + dy * dy + dz * dz) ** 0.5
"#,
        expect![[r#"
            1-4 method x, y, z < class Point | class Point:
            6-10 method distance < class Point | def distance(self, other):
        "#]],
    );
}

#[test]
fn python_syntax_errors_still_chunk() {
    check(
        "broken.py",
        r#"def good_one(first, second):
    total = first.value + second.value
    return total * 2 if total > 0 else -total

def broken(:
    return (

class StillFound:
    def method(self):
        return self.value + 1 if self.value else None
"#,
        expect![[r#"
            (syntax errors)
            1-3 function good_one | def good_one(first, second):
            5-6 function broken | def broken(:
            8-10 method method < class StillFound | class StillFound:
        "#]],
    );
}

#[test]
fn rust_impls_traits_docs_and_attributes() {
    check(
        "src/client.rs",
        r#"use std::time::Duration;

/// A client that retries.
#[derive(Debug, Clone)]
pub struct Client {
    retries: u32,
    timeout: Duration,
}

impl Client {
    /// Sends a request, retrying failed attempts.
    #[inline]
    pub fn send(&self, request: &Request) -> Result<Response, Error> {
        for _ in 0..self.retries {
            if let Ok(response) = self.try_send(request) {
                return Ok(response);
            }
        }
        Err(Error::GaveUp)
    }
}

impl<T: Into<String>> From<T> for Client {
    fn from(value: T) -> Client {
        let name: String = value.into();
        Client { retries: name.len() as u32, timeout: Duration::from_secs(1) }
    }
}

pub trait Transport {
    fn open(&mut self) -> std::io::Result<()>;
    fn close(&mut self);
}

mod tests {
    #[test]
    fn sends() {
        let client = super::Client { retries: 1, timeout: Default::default() };
        assert_eq!(client.retries, 1);
    }
}
"#,
        expect![[r#"
            1-1 module | use std::time::Duration;
            3-8 struct Client | /// A client that retries.
            10-20 method send < impl Client | impl Client {
            23-23 impl Client | impl<T: Into<String>> From<T> for Client {
            24-27 method from < impl From<T> for Client | fn from(value: T) -> Client {
            30-31 method open < trait Transport | pub trait Transport {
            32-32 method close < trait Transport | fn close(&mut self);
            35-40 function sends < mod tests | mod tests {
        "#]],
    );
}

#[test]
fn rust_nested_impl_in_function_and_macro() {
    check(
        "src/lib.rs",
        r#"macro_rules! square {
    ($x:expr) => {
        $x * $x
    };
}

pub fn outer(values: &[i32]) -> i32 {
    struct Acc(i32);
    impl Acc {
        fn add(&mut self, v: i32) {
            self.0 += square!(v);
        }
    }
    let mut acc = Acc(0);
    for v in values {
        acc.add(*v);
    }
    acc.0
}
"#,
        expect![[r#"
            1-5 macro square | macro_rules! square {
            7-19 function outer | pub fn outer(values: &[i32]) -> i32 {
        "#]],
    );
}

#[test]
fn large_function_is_split_into_parts_at_statements() {
    let mut text = String::from("def huge(x):\n");
    for i in 0..5000 {
        text.push_str(&format!("    x = transform_{i}(x, step={i})\n"));
    }
    text.push_str("    return x\n\n\ndef after():\n    return 1\n");
    let file = chunk_file(Path::new("big.py"), &text, &ChunkConfig::default());
    let parts: Vec<_> = file
        .chunks
        .iter()
        .filter(|c| c.symbol.as_deref() == Some("huge"))
        .collect();
    assert!(
        parts.len() > 50,
        "5,000 lines make many parts, got {}",
        parts.len()
    );
    let max = ChunkConfig::default().max_tokens;
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part.part, Some(i as u32 + 1));
        let estimate = dowse_syntax::text::estimate_tokens(part.text(&text));
        assert!(estimate <= max, "part {} has {estimate} tokens", i + 1);
    }
    // The parts tile the function: contiguous, no line lost or repeated.
    assert_eq!(parts[0].start_line, 1);
    for pair in parts.windows(2) {
        assert_eq!(pair[0].end_line + 1, pair[1].start_line);
    }
    assert_eq!(parts.last().unwrap().end_line, 5002);
    let after = file.chunks.last().unwrap();
    assert_eq!(
        (after.symbol.as_deref(), after.start_line),
        (Some("after"), 5005)
    );
}

#[test]
fn large_rust_function_splits_inside_a_large_statement() {
    let mut text = String::from("fn big() {\n    let x = 1;\n    if x > 0 {\n");
    for i in 0..300 {
        text.push_str(&format!("        println!(\"{{}}\", compute_{i}(x));\n"));
    }
    text.push_str("    }\n}\n");
    let small = ChunkConfig {
        max_tokens: 200,
        ..ChunkConfig::default()
    };
    let out = render("src/big.rs", &text, &small);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 5, "{out}");
    assert!(
        lines[0].starts_with("1-") && lines[0].contains("function big part 1"),
        "{out}"
    );
    assert!(
        lines.iter().all(|l| l.contains("function big part")),
        "{out}"
    );
}

#[test]
fn empty_and_whitespace_files_have_no_chunks() {
    check("empty.py", "", expect![[""]]);
    check("blank.rs", "\n\n   \n", expect![[""]]);
    check("empty.txt", "", expect![[""]]);
}

#[test]
fn crlf_line_endings() {
    let text = "import os\r\n\r\ndef first(a):\r\n    b = os.path.join(a, 'x')\r\n    return b.upper()\r\n\r\ndef second():\r\n    return first('y') + first('z') + os.sep\r\n";
    check(
        "crlf.py",
        text,
        expect![[r#"
            1-1 module | import os
            3-5 function first | def first(a):
            7-8 function second | def second():
        "#]],
    );
    let file = chunk_file(Path::new("crlf.py"), text, &ChunkConfig::default());
    assert!(file.chunks.iter().all(|c| !c.text(text).ends_with('\r')));
}

#[test]
fn utf8_bom_is_skipped_but_offsets_count_it() {
    let text =
        "\u{feff}def greet(name):\n    message = f'héllo {name}'\n    return message.upper()\n";
    check(
        "bom.py",
        text,
        expect![[r#"
            1-3 function greet | def greet(name):
        "#]],
    );
    let file = chunk_file(Path::new("bom.py"), text, &ChunkConfig::default());
    assert_eq!(file.chunks[0].byte_range.start, 3);
    assert!(file.chunks[0].text(text).starts_with("def greet"));
}

#[test]
fn other_text_falls_back_to_overlapping_line_windows() {
    let text: String = (1..=100)
        .map(|i| format!("line {i} of the notes\n"))
        .collect();
    check_with(
        "notes.md",
        &text,
        ChunkConfig {
            window_lines: 40,
            window_overlap: 10,
            ..ChunkConfig::default()
        },
        expect![[r#"
            1-40 text | line 1 of the notes
            31-70 text | line 31 of the notes
            61-100 text | line 61 of the notes
        "#]],
    );
}
