//! The editor protocol (docs/protocol.md) against its TypeScript types:
//! every `dowse/*` request and every `dowse/status` notification of a real
//! `dowse lsp` session is checked, field by field, against the interfaces of
//! vsce/src/protocol.ts — each required field present, no field the types
//! do not declare, each value of its declared type. The VS Code extension
//! compiles against those types, so this is what keeps the two in step.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use dowse_tests::TestWorkspace;
use dowse_tests::lsp::{LspClient, file_uri};
use serde_json::{Value, json};

/// A TypeScript type, as far as protocol.ts uses them.
#[derive(Clone, Debug)]
enum Ty {
    Number,
    String,
    Boolean,
    Null,
    Literal(String),
    Array(Box<Ty>),
    Record(Box<Ty>),
    Named(String),
    Union(Vec<Ty>),
}

#[derive(Debug)]
struct Field {
    name: String,
    optional: bool,
    ty: Ty,
}

#[derive(Debug)]
enum Def {
    Interface(Vec<Field>),
    Alias(Ty),
}

fn parse_type(text: &str) -> Ty {
    let text = text.trim().trim_start_matches('|').trim();
    let parts = split_top(text, '|');
    if parts.len() > 1 {
        return Ty::Union(parts.iter().map(|p| parse_type(p)).collect());
    }
    if let Some(inner) = text.strip_suffix("[]") {
        return Ty::Array(Box::new(parse_type(inner)));
    }
    if let Some(inner) = text
        .strip_prefix("Record<string,")
        .and_then(|t| t.strip_suffix('>'))
    {
        return Ty::Record(Box::new(parse_type(inner)));
    }
    match text {
        "number" => Ty::Number,
        "string" => Ty::String,
        "boolean" => Ty::Boolean,
        "null" => Ty::Null,
        t if t.starts_with('\'') => Ty::Literal(t.trim_matches('\'').to_owned()),
        t => {
            assert!(
                t.chars().all(|c| c.is_alphanumeric()),
                "protocol.ts: a type this test does not know: `{t}`"
            );
            Ty::Named(t.to_owned())
        }
    }
}

/// Splits at `sep` outside `<>`.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let (mut parts, mut depth, mut current) = (Vec::new(), 0i32, String::new());
    for c in text.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The interfaces and type aliases of protocol.ts.
fn parse_protocol(source: &str) -> HashMap<String, Def> {
    // Comments out (line comments first: they mention `dowse/*`), then one
    // declaration at a time.
    let source: String = source
        .lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut code = String::new();
    let mut rest = source.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("closed comment") + start + 2;
        rest = &rest[end..];
    }
    code.push_str(rest);
    let mut defs = HashMap::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("export ") {
        rest = &rest[at + "export ".len()..];
        if let Some(body) = rest.strip_prefix("interface ") {
            let name: String = body.chars().take_while(|c| c.is_alphanumeric()).collect();
            let open = body.find('{').expect("interface body");
            let close = body.find('}').expect("interface end");
            let fields = body[open + 1..close]
                .split(';')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let (name, ty) = f.split_once(':').expect("name: type");
                    let optional = name.trim().ends_with('?');
                    Field {
                        name: name.trim().trim_end_matches('?').to_owned(),
                        optional,
                        ty: parse_type(ty),
                    }
                })
                .collect();
            defs.insert(name, Def::Interface(fields));
            rest = &body[close..];
        } else if let Some(body) = rest.strip_prefix("type ") {
            let (name, ty) = body.split_once('=').expect("type alias");
            let end = ty.find(';').expect("alias end");
            defs.insert(name.trim().to_owned(), Def::Alias(parse_type(&ty[..end])));
            rest = &ty[end..];
        }
    }
    defs
}

fn check(value: &Value, ty: &Ty, defs: &HashMap<String, Def>, at: &str) -> Result<(), String> {
    let fail = || Err(format!("{at}: {value} is not {ty:?}"));
    match ty {
        Ty::Number if value.is_number() => Ok(()),
        Ty::String if value.is_string() => Ok(()),
        Ty::Boolean if value.is_boolean() => Ok(()),
        Ty::Null if value.is_null() => Ok(()),
        Ty::Literal(l) if value.as_str() == Some(l) => Ok(()),
        Ty::Array(item) => match value.as_array() {
            Some(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| check(v, item, defs, &format!("{at}[{i}]"))),
            None => fail(),
        },
        Ty::Record(item) => match value.as_object() {
            Some(map) => map
                .iter()
                .try_for_each(|(k, v)| check(v, item, defs, &format!("{at}.{k}"))),
            None => fail(),
        },
        Ty::Union(options) => {
            if options.iter().any(|o| check(value, o, defs, at).is_ok()) {
                Ok(())
            } else {
                fail()
            }
        }
        Ty::Named(name) => match defs.get(name) {
            Some(Def::Alias(ty)) => check(value, ty, defs, at),
            Some(Def::Interface(fields)) => {
                let Some(map) = value.as_object() else {
                    return fail();
                };
                for key in map.keys() {
                    if !fields.iter().any(|f| &f.name == key) {
                        return Err(format!("{at}: `{key}` is not a field of {name}: {value}"));
                    }
                }
                for field in fields {
                    match map.get(&field.name) {
                        Some(v) => check(v, &field.ty, defs, &format!("{at}.{}", field.name))?,
                        None if field.optional => {}
                        None => {
                            return Err(format!("{at}: {name}.{} is missing: {value}", field.name));
                        }
                    }
                }
                Ok(())
            }
            None => Err(format!("{at}: protocol.ts has no type {name}")),
        },
        _ => fail(),
    }
}

fn protocol() -> HashMap<String, Def> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vsce/src/protocol.ts");
    parse_protocol(&std::fs::read_to_string(path).expect("vsce/src/protocol.ts"))
}

fn assert_shape(defs: &HashMap<String, Def>, value: &Value, name: &str) {
    if let Err(err) = check(value, &Ty::Named(name.to_owned()), defs, name) {
        panic!("the server's answer does not match protocol.ts: {err}");
    }
}

fn result(response: Value) -> Value {
    assert!(response.get("error").is_none(), "{response}");
    response["result"].clone()
}

#[test]
fn every_answer_and_status_matches_the_typescript_types() {
    let defs = protocol();
    assert!(defs.len() > 20, "parsed protocol.ts: {defs:#?}");
    let ws = TestWorkspace::fixture("workspace");
    let mut cmd = ws.command(&["lsp"]);
    cmd.env("DOWSE_MODEL_DIR", dowse_tests::real_model_dir());
    let mut client = LspClient::spawn(cmd);
    client.initialize(
        &ws.root,
        json!({"window": {"workDoneProgress": true}, "general": {"positionEncodings": ["utf-16"]}}),
        json!({"debounce_ms": 20}),
    );
    let ready = client.wait_for(Duration::from_secs(120), |n| {
        n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
    });
    assert!(ready.is_some(), "never ready: {:?}", client.notifications);

    let search = result(client.request(
        "dowse/search",
        json!({"query": "retry failed uploads", "limit": 5}),
    ));
    assert_shape(&defs, &search, "SearchResponse");
    let hits = search["results"].as_array().unwrap();
    assert_eq!(hits[0]["path"], "src/net/uploader.py", "{search:#}");
    assert_eq!(search["mode"], "hybrid");
    // The commands answer the same shape.
    let command = result(client.command(
        "dowse.search",
        json!([{"query": "retry failed uploads", "limit": 5, "mode": "lexical"}]),
    ));
    assert_shape(&defs, &command, "SearchResponse");
    assert_eq!(command["mode"], "lexical");

    let uploader = ws.path("src/net/uploader.py");
    let uri = file_uri(&uploader);
    // Line 26 (0-based 25): `def retry_failed_uploads(self):`.
    let position = json!({"line": 25, "character": 10});
    let usages = result(client.request(
        "dowse/findUsages",
        json!({"uri": uri, "position": position}),
    ));
    assert_shape(&defs, &usages, "UsagesResponse");
    assert_eq!(usages["symbol"], "retry_failed_uploads", "{usages:#}");
    let by_name = result(client.request("dowse/findUsages", json!({"symbol": "upload"})));
    assert_shape(&defs, &by_name, "UsagesResponse");
    assert!(!by_name["references"].as_array().unwrap().is_empty());

    let similar = result(client.request(
        "dowse/findSimilar",
        json!({"uri": uri, "position": position, "limit": 3}),
    ));
    assert_shape(&defs, &similar, "SimilarResponse");

    let context = result(client.request(
        "dowse/context",
        json!({"query": "retry failed uploads", "maxTokens": 500}),
    ));
    assert_shape(&defs, &context, "ContextResponse");
    assert_eq!(context["tokenCount"], "model", "{context:#}");

    assert_shape(
        &defs,
        &result(client.request("dowse/health", Value::Null)),
        "HealthResponse",
    );
    assert_shape(
        &defs,
        &result(client.request("dowse/stats", Value::Null)),
        "StatsResponse",
    );
    assert_shape(
        &defs,
        &result(client.request("dowse/reindex", Value::Null)),
        "ReindexResponse",
    );

    // The MCP endpoint starts beside the server: null until it serves.
    let deadline = Instant::now() + Duration::from_secs(20);
    let endpoint = loop {
        let endpoint = result(client.request("dowse/mcpEndpoint", Value::Null));
        if !endpoint.is_null() || Instant::now() > deadline {
            break endpoint;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_shape(&defs, &endpoint, "McpEndpoint");
    assert!(
        endpoint["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );

    // Bad arguments are errors that say what was expected.
    let bad = client.request("dowse/search", json!({"query": 3}));
    let message = bad["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`query` must be a string"), "{bad}");
    let bad = client.request("dowse/context", json!("just a string"));
    assert!(bad["error"]["message"].as_str().is_some(), "{bad}");

    let statuses: Vec<Value> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "dowse/status")
        .map(|n| n["params"].clone())
        .collect();
    assert!(statuses.len() >= 2, "{statuses:?}");
    for status in &statuses {
        assert_shape(&defs, status, "StatusParams");
    }
    client.shutdown();
}

/// `matchRanges` are where the query's words are, in the file's UTF-16
/// coordinates, and inside `snippetRange`: what a UI highlights.
#[test]
fn match_ranges_cover_the_query_words_in_the_snippet() {
    let ws = TestWorkspace::fixture("workspace");
    // Non-ASCII before the match: UTF-16 columns differ from bytes.
    ws.write(
        "src/net/résumé.py",
        "def résumé_upload(naïve_path):\n    \"\"\"Ünïcode first, then the upload retries.\"\"\"\n    return retry_upload(naïve_path)\n",
    );
    let mut client = LspClient::spawn(ws.command(&["lsp"]));
    client.initialize(
        &ws.root,
        json!({"general": {"positionEncodings": ["utf-16"]}}),
        json!({}),
    );
    let ready = client.wait_for(Duration::from_secs(60), |n| {
        n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
    });
    assert!(ready.is_some());
    let search = result(client.request(
        "dowse/search",
        json!({"query": "upload retries", "mode": "lexical", "limit": 20}),
    ));
    let hits = search["results"].as_array().unwrap();
    let hit = hits
        .iter()
        .find(|h| h["path"] == "src/net/résumé.py")
        .unwrap_or_else(|| panic!("{search:#}"));
    let text = std::fs::read_to_string(ws.path("src/net/résumé.py")).unwrap();
    let lines: Vec<Vec<u16>> = text.lines().map(|l| l.encode_utf16().collect()).collect();
    let snippet = &hit["snippetRange"];
    let mut words = Vec::new();
    for range in hit["matchRanges"].as_array().unwrap() {
        let line = range["start"]["line"].as_u64().unwrap() as usize;
        assert_eq!(range["end"]["line"], range["start"]["line"]);
        assert!(line as u64 >= snippet["start"]["line"].as_u64().unwrap());
        assert!(line as u64 <= snippet["end"]["line"].as_u64().unwrap());
        let (from, to) = (
            range["start"]["character"].as_u64().unwrap() as usize,
            range["end"]["character"].as_u64().unwrap() as usize,
        );
        words.push(String::from_utf16(&lines[line][from..to]).unwrap());
    }
    assert_eq!(
        words,
        ["upload", "upload", "retries", "retry", "upload"],
        "{hit:#}"
    );
    client.shutdown();
}
