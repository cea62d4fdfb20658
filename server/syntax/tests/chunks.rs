//! Data-driven chunker tests: a fixture in, the chunks out as one line each
//! (`lines kind symbol [< enclosing] [part] [test] | first line`). Update the
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
        if chunk.test {
            out.push_str(" test");
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
            35-40 function sends < mod tests test | mod tests {
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
        "notes.txt",
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

// One fixture per language: kinds, symbols, enclosing names, doc comments and
// decorators/annotations/exports attached to their definition. Each
// definition is large enough not to be merged with its neighbours.

/// A body of `n` statements in C-like syntax, so no fixture is tiny.
fn body(n: usize, indent: &str) -> String {
    (0..n)
        .map(|i| format!("{indent}total = total + compute(value, {i}, options, retries);\n"))
        .collect()
}

#[test]
fn typescript_exports_decorators_jsdoc_interfaces_and_arrow_functions() {
    let b = body(2, "    ");
    let text = format!(
        r#"import {{ Http }} from "./http";

/** Parses raw header lines into a map. */
export function parseHeaders(raw: string): Headers {{
{b}    return new Headers(raw);
}}

/** A client that retries. */
export class Client extends Base implements Sender {{
  /** Sends one request. */
  @retry()
  async send(req: Request): Promise<Response> {{
{b}    return this.http.post(req);
  }}

  private handle = (event: Event): void => {{
{b}  }};
}}

export interface Sender {{
  send(req: Request): Promise<Response>;
  close(reason: string, code: number, options: CloseOptions): Promise<void>;
}}

export type Handler = (req: Request, res: Response, next: NextFunction) => void;

export const MAX_RETRIES_FOR_IDEMPOTENT_REQUESTS = computeDefaultRetries(3, 5);

export const handler = async (req: Request) => {{
{b}}};

namespace Util {{
  export function helperFunction(value: number): number {{
{b}    return value;
  }}
}}
"#
    );
    check(
        "src/client.ts",
        &text,
        expect![[r#"
            1-1 module | import { Http } from "./http";
            3-8 function parseHeaders | /** Parses raw header lines into a map. */
            10-11 class Client | /** A client that retries. */
            12-18 method send < class Client | /** Sends one request. */
            20-23 method handle < class Client | private handle = (event: Event): void => {
            26-29 interface Sender | export interface Sender {
            31-31 type Handler | export type Handler = (req: Request, res: Response, next: NextFunction) => void;
            33-33 constant MAX_RETRIES_FOR_IDEMPOTENT_REQUESTS | export const MAX_RETRIES_FOR_IDEMPOTENT_REQUESTS = computeDefaultRetries(3, 5);
            35-38 function handler | export const handler = async (req: Request) => {
            40-45 function helperFunction < namespace Util | namespace Util {
        "#]],
    );
}

#[test]
fn typescript_overload_signatures_belong_to_their_implementation() {
    let b = body(2, "  ");
    let text = format!(
        r#"export function parse(text: string): Config;
/** @deprecated Pass the options as an object. */
export function parse(text: string, strict: boolean): Config;
/* eslint-enable max-len */

/** Reads a configuration file's text. */
export function parse(text: string, options?: boolean | ParseOptions): Config {{
{b}  return new Config(text, options);
}}

export function validate(config: Config): Problem[];

export function parseFile(path: string): Config {{
{b}  return parse(readText(path));
}}

declare function ambient(a: string): void;
declare function ambient(a: number): void;
"#
    );
    // The two signatures of `parse` and its body are one chunk, so that the
    // name finds the body (comments between them or not); a signature with
    // another name below it stays its own.
    check(
        "src/config/parse.ts",
        &text,
        expect![[r#"
            1-11 function parse | export function parse(text: string): Config;
            13-13 function validate | export function validate(config: Config): Problem[];
            15-19 function parseFile | export function parseFile(path: string): Config {
            21-22 function ambient | declare function ambient(a: string): void;
        "#]],
    );
}

#[test]
fn tsx_and_javascript_components_commonjs_and_classes() {
    let b = body(2, "  ");
    let tsx = format!(
        r#"/** Shows one user. */
export function UserCard({{ user }}: Props) {{
{b}  return <div className="card">{{user.name}}</div>;
}}
"#
    );
    check(
        "web/UserCard.tsx",
        &tsx,
        expect![[r#"
            1-6 function UserCard | /** Shows one user. */
        "#]],
    );
    let js = format!(
        r#"'use strict';

// Parses a query string.
exports.parse = function (input, options) {{
{b}}};

class Router {{
  route(path, handler) {{
{b}  }}
}}

const retry = (fn, times) => {{
{b}}};

module.exports = {{ Router, retry }};

module.exports.format = function (value) {{
{b}}};

// Looks a view up by name.
View.prototype.lookup = function lookup(name) {{
{b}}};

res.send = function send(body) {{
{b}}};

res.set = res.header = function header(field, value) {{
{b}}};

this.handle = function (req) {{
{b}}};
"#
    );
    check(
        "lib/query.js",
        &format!(
            "module.exports = function query(options) {{\n{b}}};\n\n\
             module.helper = function help(value) {{\n{b}}};\n"
        ),
        expect![[r#"
            1-4 function query | module.exports = function query(options) {
            6-9 function helper | module.helper = function help(value) {
        "#]],
    );
    check(
        "lib/router.cjs",
        &js,
        expect![[r#"
            1-1 module | 'use strict';
            3-7 function parse | // Parses a query string.
            9-13 method route < class Router | class Router {
            16-19 function retry | const retry = (fn, times) => {
            21-21 module | module.exports = { Router, retry };
            23-26 function format | module.exports.format = function (value) {
            28-32 method lookup < View | // Looks a view up by name.
            34-37 method send < res | res.send = function send(body) {
            39-42 method set < res | res.set = res.header = function header(field, value) {
            44-47 function handle | this.handle = function (req) {
        "#]],
    );
}

#[test]
fn go_receivers_doc_comments_and_type_declarations() {
    let b = body(2, "\t");
    let text = format!(
        r#"package server

// Server accepts connections and hands each to a handler.
type Server struct {{
	addr    string
	handler Handler
}}

// Handler serves one request.
type Handler interface {{
	Serve(w ResponseWriter, r *Request) error
}}

const DefaultMaxHeaderBytes = 1 << 20

// ListenAndServe listens on the address and serves until closed.
func (s *Server) ListenAndServe(addr string) error {{
{b}	return nil
}}

func main() {{
{b}}}
"#
    );
    check(
        "server/server.go",
        &text,
        expect![[r#"
            1-1 module | package server
            3-7 struct Server | // Server accepts connections and hands each to a handler.
            9-12 interface Handler | // Handler serves one request.
            14-14 constant DefaultMaxHeaderBytes | const DefaultMaxHeaderBytes = 1 << 20
            16-21 method ListenAndServe < Server | // ListenAndServe listens on the address and serves until closed.
            23-26 function main | func main() {
        "#]],
    );
}

#[test]
fn java_and_csharp_annotations_javadoc_and_xml_doc() {
    let b = body(2, "    ");
    let java = format!(
        r#"package net.client;

import java.util.List;

/** A client that sends requests. */
@Service
public class Client extends Base implements Sender {{
    /** Sends one request and waits for its response. */
    @Override
    public Response send(Request request) {{
{b}        return http.post(request);
    }}

    public Client(Http http) {{
{b}    }}

    enum Mode {{ BLOCKING, ASYNC, FIRE_AND_FORGET, RETRY_ON_FAILURE, RETRY_FOREVER }}
}}
"#
    );
    check(
        "src/main/java/net/client/Client.java",
        &java,
        expect![[r#"
            1-3 module | package net.client;
            5-7 class Client | /** A client that sends requests. */
            8-14 method send < class Client | /** Sends one request and waits for its response. */
            16-19 method Client < class Client | public Client(Http http) {
            21-21 enum Mode < class Client | enum Mode { BLOCKING, ASYNC, FIRE_AND_FORGET, RETRY_ON_FAILURE, RETRY_FOREVER }
        "#]],
    );
    let cs = format!(
        r#"using System;

namespace App.Net
{{
    /// <summary>A client that sends requests.</summary>
    [Serializable]
    public class Client : Base, ISender
    {{
        /// <summary>Sends one request.</summary>
        public Response Send(Request request)
        {{
{b}            return http.Post(request);
        }}
    }}

    public interface ISender {{ Response Send(Request request); void Close(string reason, int code); }}
}}
"#
    );
    check(
        "src/Client.cs",
        &cs,
        expect![[r#"
            1-1 module | using System;
            3-8 class Client < namespace App.Net | namespace App.Net
            9-15 method Send < namespace App.Net > class Client | /// <summary>Sends one request.</summary>
            18-18 method Send < namespace App.Net > interface ISender | public interface ISender { Response Send(Request request); void Close(string reason, int code); }
        "#]],
    );
}

#[test]
fn c_and_cpp_functions_types_templates_and_out_of_class_methods() {
    let b = body(2, "    ");
    let c = format!(
        r#"#include <stdio.h>

#define MAX_CONNECTIONS_PER_WORKER_PROCESS 1024

/* Adds the values of a point to the running total. */
static int add_point(struct point *p, int total) {{
{b}    return total;
}}

struct point {{ int x; int y; int z; const char *label; struct point *next; }};
"#
    );
    check(
        "src/point.c",
        &c,
        expect![[r#"
            1-1 module | #include <stdio.h>
            3-3 constant MAX_CONNECTIONS_PER_WORKER_PROCESS | #define MAX_CONNECTIONS_PER_WORKER_PROCESS 1024
            5-10 function add_point | /* Adds the values of a point to the running total. */
            12-12 struct point | struct point { int x; int y; int z; const char *label; struct point *next; };
        "#]],
    );
    let cpp = format!(
        r#"namespace net {{

/// A socket that buffers writes.
class Socket : public Base {{
 public:
  int send(const char* buf, size_t len, int flags, std::chrono::milliseconds timeout);
}};

int Socket::send(const char* buf, size_t len, int flags, std::chrono::milliseconds timeout) {{
{b}  return 0;
}}

template <typename T>
T maxOf(T a, T b) {{
{b}  return a > b ? a : b;
}}

}}  // namespace net
"#
    );
    check(
        "src/socket.cpp",
        &cpp,
        expect![[r#"
            1-7 class Socket < namespace net | namespace net {
            9-13 method send < namespace net > Socket | int Socket::send(const char* buf, size_t len, int flags, std::chrono::milliseconds timeout) {
            15-20 function maxOf < namespace net | template <typename T>
            22-22 module net | }  // namespace net
        "#]],
    );
    // The same code in a `.h` header is read as C++, not as C with errors.
    let config = ChunkConfig::default();
    assert_eq!(
        render("include/net/socket.h", &cpp, &config),
        render("src/socket.cpp", &cpp, &config)
    );
}

#[test]
fn ruby_php_kotlin_swift_and_scala_definitions() {
    let b = body(2, "    ");
    let rb = format!(
        r#"# Networking helpers.
module Net
  # A client that sends requests.
  class Client < Base
    # Sends one request.
    def send_request(req)
{b}      @http.post(req)
    end
  end
end
"#
    );
    check(
        "lib/net/client.rb",
        &rb,
        expect![[r#"
        1-3 module Net | # Networking helpers.
        4-10 method send_request < module Net > class Client | class Client < Base
    "#]],
    );
    let php = format!(
        r#"<?php
namespace App;

/** A client that sends requests. */
#[Service]
class Client extends Base implements Sender {{
    /** Sends one request. */
    public function send(Request $r): Response {{
{b}        return $this->http->post($r);
    }}
}}
"#
    );
    check(
        "src/Client.php",
        &php,
        expect![[r#"
        (syntax errors)
        1-2 module | <?php
        4-6 class Client | /** A client that sends requests. */
        7-12 method send < class Client | /** Sends one request. */
    "#]],
    );
    let kt = format!(
        r#"package net

/** A client that sends requests. */
@Service
class Client(val http: Http) : Base(), Sender {{
    /** Sends one request. */
    override fun send(req: Request): Response {{
{b}        return http.post(req)
    }}
}}

interface Sender {{
    fun send(req: Request): Response
}}
"#
    );
    check(
        "src/main/kotlin/net/Client.kt",
        &kt,
        expect![[r#"
        1-1 module | package net
        3-5 class Client | /** A client that sends requests. */
        6-11 method send < class Client | /** Sends one request. */
        14-15 method send < interface Sender | interface Sender {
    "#]],
    );
    let swift = format!(
        r#"/// A client that sends requests.
class Client: Base, Sender {{
    /// Sends one request.
    func send(_ req: Request) -> Response {{
{b}        return http.post(req)
    }}
}}

extension Client {{
    func close(reason: String) {{
{b}    }}
}}
"#
    );
    check(
        "Sources/Net/Client.swift",
        &swift,
        expect![[r#"
        1-2 class Client | /// A client that sends requests.
        3-8 method send < class Client | /// Sends one request.
        11-15 method close < extension Client | extension Client {
    "#]],
    );
    let scala = format!(
        r#"package net

/** A client that sends requests. */
class Client(http: Http) extends Base with Sender {{
  /** Sends one request. */
  def send(req: Request): Response = {{
{b}    http.post(req)
  }}
}}
"#
    );
    check(
        "src/main/scala/net/Client.scala",
        &scala,
        expect![[r#"
        1-1 module | package net
        3-4 class Client | /** A client that sends requests. */
        5-10 method send < class Client | /** Sends one request. */
    "#]],
    );
}

#[test]
fn bash_lua_and_markdown_by_their_own_units() {
    let sh = r#"#!/usr/bin/env bash
set -euo pipefail

# Deploys the current build to the given environment, then checks it.
deploy() {
  local env="$1"
  echo "deploying to $env"
  rsync -a build/ "deploy@$env:/srv/app/"
}

cleanup() {
  rm -rf /tmp/build-cache /tmp/build-output /tmp/build-logs /tmp/build-state
}

deploy "$@"
"#;
    check(
        "scripts/deploy",
        sh,
        expect![[r#"
        1-2 module | #!/usr/bin/env bash
        4-9 function deploy | # Deploys the current build to the given environment, then checks it.
        11-13 function cleanup | cleanup() {
        15-15 module | deploy "$@"
    "#]],
    );
    let lua = r#"local M = {}

-- Sends one request and returns the response body.
function M.send(req, options)
  local res = http.request(req.method, req.url, req.body, options)
  return res.body
end

local function retry(fn, times)
  for i = 1, times do
    local ok, err = pcall(fn)
    if ok then return end
  end
end

return M
"#;
    check(
        "lua/net.lua",
        lua,
        expect![[r#"
        1-1 module | local M = {}
        3-7 method send < M | -- Sends one request and returns the response body.
        9-14 function retry | local function retry(fn, times)
        16-16 module | return M
    "#]],
    );
    let md = r#"# dowse

A code search language server that indexes a workspace as you type.

## Install

Run the installer, then open a folder in your editor of choice.

### From source

Build with cargo from a clone of the repository, then put the binary on PATH.

## Usage

Ask a question in the sidebar and press enter to see the places that answer it.
"#;
    check(
        "README.md",
        md,
        expect![[r#"
        1-3 section dowse | # dowse
        5-7 section Install < dowse | ## Install
        9-12 section From source < dowse > Install | ### From source
        13-15 section Usage < dowse | ## Usage
    "#]],
    );
}

/// Markdown sections as CommonMark reads them: a heading underlined with
/// `===` opens the sections below it, closing `#`s are no part of a name,
/// and a `#` in front matter, a code block, a quote or a list opens none.
#[test]
fn markdown_sections_as_commonmark_reads_them() {
    let md = r#"---
title: a page
---

walkdir
=======

A crate that walks directories recursively and efficiently on every platform.

### Documentation ###

Read the crate's documentation online, with an example for every method.

```sh
# not a heading: a comment in a shell example that installs the crate
cargo add walkdir
```

> # Not a section either
> A quote that happens to start with a heading of its own inside it.

- # Nor this
  a list item with a heading inside it, written by someone in a hurry.

Usage
-----

Add the crate to your manifest and call the walker on a directory path.
"#;
    check(
        "README.md",
        md,
        expect![[r#"
            1-3 module | ---
            5-8 section walkdir | walkdir
            10-24 section Documentation < walkdir | ### Documentation ###
            25-28 section Usage < walkdir | Usage
        "#]],
    );
}

#[test]
fn a_file_mostly_made_of_syntax_errors_falls_back_to_windows_and_says_why() {
    let text: String = (0..40)
        .map(|i| format!("}}}} ))) class {i} {{{{ fn (( def\n"))
        .collect();
    let file = chunk_file(Path::new("broken.ts"), &text, &ChunkConfig::default());
    assert_eq!(file.language, None);
    let reason = file.fallback.expect("a reason for the fallback");
    assert!(reason.starts_with("syntax errors over "), "{reason}");
    assert!(
        file.chunks
            .iter()
            .all(|c| c.kind == dowse_syntax::ChunkKind::Text)
    );
    // A file of a language with a few errors still chunks by syntax.
    let fine = chunk_file(
        Path::new("ok.ts"),
        "function parse(raw: string) {\n  return raw.split(\n}\n",
        &ChunkConfig::default(),
    );
    assert_eq!(fine.fallback, None);
    assert!(fine.language.is_some());
}

#[test]
fn test_code_is_marked_by_the_languages_own_attributes() {
    check(
        "src/text.rs",
        "pub fn split_identifier(s: &str) -> Vec<&str> {\n    s.split('_').collect()\n}\n\n#[cfg(test)]\nmod split_tests {\n    use super::*;\n\n    #[test]\n    fn splits_snake_case() {\n        assert_eq!(split_identifier(\"a_b\"), [\"a\", \"b\"]);\n    }\n}\n\n#[tokio::test]\nasync fn runs_on_a_runtime() {\n    assert!(split_identifier(\"\").len() <= 1);\n}\n\n/// Not a test: `#[test]` is only mentioned.\npub fn test_data() -> &'static str {\n    \"a_b\"\n}\n",
        expect![[r#"
            1-3 function split_identifier | pub fn split_identifier(s: &str) -> Vec<&str> {
            5-7 module split_tests test | #[cfg(test)]
            9-12 function splits_snake_case < mod split_tests test | #[test]
            15-18 function runs_on_a_runtime test | #[tokio::test]
            20-23 function test_data | /// Not a test: `#[test]` is only mentioned.
        "#]],
    );
    check(
        "src/main/java/Parser.java",
        "class ParserTest {\n    @Test\n    void parsesAnEmptyString() {\n        assertEquals(0, new Parser().parse(\"\").size());\n    }\n\n    List<String> fixtures() {\n        return List.of(\"a\", \"b\");\n    }\n}\n",
        expect![[r#"
            1-5 method parsesAnEmptyString < class ParserTest test | class ParserTest {
            7-9 method fixtures < class ParserTest | List<String> fixtures() {
        "#]],
    );
    check(
        "Net/Client.cs",
        "public class ClientTests\n{\n    [Fact]\n    public void SendsOnce()\n    {\n        Assert.Equal(1, new Client().Send());\n    }\n\n    public int Helper() => 1;\n}\n",
        expect![[r#"
            1-7 method SendsOnce < class ClientTests test | public class ClientTests
            9-9 method Helper < class ClientTests | public int Helper() => 1;
        "#]],
    );
}

#[test]
fn definitions_inside_an_error_that_wraps_the_file_are_still_chunked_by_syntax() {
    // An `#if` that splits a lambda's capture list makes tree-sitter wrap the
    // whole file in one ERROR node, with the definitions it could still read
    // inside: the file is chunked by those, not cut into line windows.
    let text = r#"struct pickle_factory {
    template <typename Class, typename... Extra>
    void execute(Class &cl, const Extra &...extra) && {
#if defined(LIB_CPP14)
        cl.def(
            "__setstate__",
            [func = std::move(set)]
#else
        auto &func = set;
        cl.def(
            "__setstate__",
            [func]
#endif
            (value_and_holder &v_h, ArgState state) {
                setstate<Class>(v_h, func(std::forward<ArgState>(state)));
            },
            extra...);
    }
};

LIB_NAMESPACE_BEGIN(detail)

inline int add_counts(int a, int b) {
    int total = a + b;
    return total;
}

LIB_NAMESPACE_END(detail)

class handle {
public:
    handle() = default;
    int release() {
        int old = fd;
        fd = -1;
        return old;
    }
private:
    int fd = -1;
};
"#;
    let file = chunk_file(
        Path::new("include/lib/init.h"),
        text,
        &ChunkConfig::default(),
    );
    assert!(file.has_syntax_errors);
    assert_eq!(file.fallback, None);
    let symbols: Vec<_> = file
        .chunks
        .iter()
        .filter_map(|c| c.symbol.as_deref())
        .collect();
    assert!(symbols.contains(&"handle"), "{symbols:?}");
    assert!(symbols.contains(&"release"), "{symbols:?}");
}

#[test]
fn c_and_cpp_types_declared_inside_a_function_belong_to_it() {
    // Long enough to be cut into parts: the parts follow statements, not the
    // types declared among them.
    let b = body(80, "    ");
    let cpp = format!(
        r#"template <typename Map>
void bind_map(Map &map) {{
    using KeyType = typename Map::key_type;
    using MappedType = typename Map::mapped_type;
    struct Entry {{ KeyType key; MappedType value; }};
{b}}}
"#
    );
    check(
        "include/bind.hpp",
        &cpp,
        expect![[r#"
            1-44 function bind_map part 1 | template <typename Map>
            45-86 function bind_map part 2 | total = total + compute(value, 39, options, retries);
        "#]],
    );
    let c = format!(
        r#"static int count_entries(const struct table *t) {{
    typedef struct {{ int n; }} counter;
    struct local {{ int seen; }};
{b}    return 0;
}}
"#
    );
    check(
        "src/table.c",
        &c,
        expect![[r#"
            1-43 function count_entries part 1 | static int count_entries(const struct table *t) {
            44-85 function count_entries part 2 | total = total + compute(value, 40, options, retries);
        "#]],
    );
}
