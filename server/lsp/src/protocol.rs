//! The editor protocol's shapes (docs/protocol.md): what the custom
//! requests `dowse/*` and the `dowse.*` commands answer. camelCase
//! throughout; every location has its `uri`, an LSP `range` (0-based, in the
//! negotiated position encoding) and the root it came from. The TypeScript
//! types in vsce/src/protocol.ts describe the same shapes, and an
//! end-to-end test checks real answers against them.

use dowse_engine::{
    ContextResponse, SearchResponse, SearchResult, SimilarResponse, UsageLocation, UsagesResponse,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tower_lsp_server::ls_types::{Position, Range};

use crate::Backend;
use crate::text::{self, Encoding};

/// One ranked chunk.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Hit {
    uri: String,
    root: String,
    /// Relative to the root, `/`-separated.
    path: String,
    /// The chunk's whole lines.
    range: Range,
    /// 1-based, inclusive: the lines as people count them.
    start_line: u32,
    end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<String>,
    enclosing: Vec<String>,
    kind: &'static str,
    language: String,
    score: f32,
    /// The best-matching lines of the chunk...
    snippet: String,
    /// ...where they are...
    snippet_range: Range,
    /// ...and where the query's words are in them.
    match_ranges: Vec<Range>,
    /// Further matches in this file that the answer folded away to show
    /// other places (on the file's first hit only; absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    more_in_file: u32,
    /// The repository of a team index result (scope `team` or `all`): its
    /// `uri` and `root` are empty, its snippet the published one.
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub(crate) fn hit(result: &SearchResult, encoding: Encoding) -> Hit {
    let lines: Vec<&str> = result.snippet.lines().collect();
    let first = result.snippet_line.max(1);
    let last_line = lines.last().copied().unwrap_or("");
    let snippet_end = text::position(
        first + lines.len().saturating_sub(1) as u32,
        last_line.len() as u32 + 1,
        last_line,
        encoding,
    );
    let match_ranges = result
        .matches
        .iter()
        .filter_map(|m| {
            let line = *lines.get(m.line.checked_sub(first)? as usize)?;
            Some(text::range(
                m.line,
                m.bytes.start as u32 + 1,
                m.bytes.len() as u32,
                line,
                encoding,
            ))
        })
        .collect();
    Hit {
        uri: uri(&result.root, &result.path),
        root: result.root.clone(),
        path: result.path.clone(),
        range: Range::new(
            Position::new(result.start_line.saturating_sub(1), 0),
            Position::new(result.end_line, 0),
        ),
        start_line: result.start_line,
        end_line: result.end_line,
        symbol: result.symbol.clone(),
        enclosing: result.enclosing.clone(),
        kind: result.kind.as_str(),
        language: result.language.clone(),
        score: result.score,
        snippet: result.snippet.clone(),
        snippet_range: Range::new(Position::new(first - 1, 0), snippet_end),
        match_ranges,
        more_in_file: result.more_in_file,
        repo: result.repo.clone(),
    }
}

fn uri(root: &str, path: &str) -> String {
    Backend::uri_of(root, path)
        .map(|u| u.as_str().to_owned())
        .unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Search {
    query: String,
    mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<String>,
    results: Vec<Hit>,
}

pub(crate) fn search(response: &SearchResponse, encoding: Encoding) -> Search {
    Search {
        query: response.query.clone(),
        mode: response.mode.to_string(),
        degraded: response.degraded.clone(),
        results: response.results.iter().map(|r| hit(r, encoding)).collect(),
    }
}

/// One place a symbol is defined or used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Usage {
    uri: String,
    root: String,
    path: String,
    /// The name itself.
    range: Range,
    /// 1-based line, and column in bytes of the line.
    line: u32,
    column: u32,
    /// The text of the line.
    context: String,
}

pub(crate) fn usage(u: &UsageLocation, encoding: Encoding) -> Usage {
    Usage {
        uri: uri(&u.root, &u.path),
        root: u.root.clone(),
        path: u.path.clone(),
        range: text::range(u.line, u.column, u.length, &u.context, encoding),
        line: u.line,
        column: u.column,
        context: u.context.clone(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Usages {
    symbol: String,
    definitions: Vec<Usage>,
    references: Vec<Usage>,
}

pub(crate) fn usages(response: &UsagesResponse, encoding: Encoding) -> Usages {
    let list = |l: &[UsageLocation]| l.iter().map(|u| usage(u, encoding)).collect();
    Usages {
        symbol: response.symbol.clone(),
        definitions: list(&response.definitions),
        references: list(&response.references),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Similar {
    source: Hit,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded: Option<String>,
    results: Vec<Hit>,
}

pub(crate) fn similar(response: &SimilarResponse, encoding: Encoding) -> Similar {
    Similar {
        source: hit(&response.source, encoding),
        degraded: response.degraded.clone(),
        results: response.results.iter().map(|r| hit(r, encoding)).collect(),
    }
}

/// The packed context: the engine's answer with camelCase keys, and each
/// span with its `uri` and `range`.
pub(crate) fn context(response: &ContextResponse) -> Value {
    let mut value = camel_case(serde_json::to_value(response).unwrap_or(Value::Null));
    if let Some(chunks) = value["chunks"].as_array_mut() {
        for (chunk, span) in chunks.iter_mut().zip(&response.chunks) {
            chunk["uri"] = Value::String(uri(&span.root, &span.path));
            chunk["range"] = serde_json::json!(Range::new(
                Position::new(span.start_line.saturating_sub(1), 0),
                Position::new(span.end_line, 0)
            ));
        }
    }
    value
}

/// `snake_case` keys to `camelCase`, all the way down. The engine's reports
/// (health, stats, context) are snake_case as the CLI prints them; the
/// editor protocol is camelCase. The keys of `components` (health) are
/// names, not fields: a root called `my_app` stays `my_app/lexical`.
pub(crate) fn camel_case(value: Value) -> Value {
    convert(value, false)
}

fn convert(value: Value, names: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let inner = convert(v, k == "components");
                    (if names { k } else { camel_key(&k) }, inner)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| convert(v, false)).collect()),
        other => other,
    }
}

fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_become_camel_case_all_the_way_down() {
        let value = json!({"latency_ms": 1, "components": {"my_app/lexical": {"query_p50_ms": 2}},
            "list": [{"start_line": 3}], "_private": 4});
        assert_eq!(
            camel_case(value),
            json!({"latencyMs": 1, "components": {"my_app/lexical": {"queryP50Ms": 2}},
                "list": [{"startLine": 3}], "_private": 4})
        );
    }
}
