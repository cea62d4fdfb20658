//! What a client may ask, checked once for every front end: the language
//! server and the MCP tools parse their own shapes (camelCase objects, tool
//! arguments) and hand the values here, so a limit, a mode, a token budget
//! or a path prefix means the same and is refused the same way whoever
//! asks. Paths are confined to the workspace here too.

use std::ops::RangeInclusive;

use dowse_engine::{EngineError, Scope, SearchMode, SearchRequest};

use crate::Host;

/// Results a request may ask for.
pub const RESULT_LIMITS: RangeInclusive<u64> = 1..=100;

/// Results when a request does not say.
pub const DEFAULT_LIMIT: usize = SearchRequest::DEFAULT_LIMIT;

/// Token budgets `context` may ask for: less than a function is of no
/// use, more than a large model's window is never read.
pub const CONTEXT_TOKENS: RangeInclusive<u64> = 100..=200_000;

/// The budget when a request does not say.
pub const DEFAULT_CONTEXT_TOKENS: usize = 4000;

/// How a front end spells its argument names, for messages that name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// `pathPrefix`, `maxTokens`: the editor protocol.
    Camel,
    /// `path_prefix`, `max_tokens`: MCP tools.
    Snake,
}

impl Spelling {
    fn name(self, snake: &'static str) -> String {
        match self {
            Spelling::Snake => snake.to_owned(),
            Spelling::Camel => {
                let mut out = String::new();
                let mut upper = false;
                for c in snake.chars() {
                    if c == '_' {
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
        }
    }
}

/// A whole number as a client sent it: a JSON number, or a number in a
/// string (`"limit": "3"`, as the MCP Inspector's command line sends
/// every argument). `None` for anything else.
pub fn whole_number(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn invalid(message: String) -> EngineError {
    EngineError::InvalidInput(message)
}

/// A count within `range`, or the message that names it.
fn within(value: u64, range: &RangeInclusive<u64>, name: &str) -> Result<u64, EngineError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "`{name}` must be a whole number from {} to {}, not {value}",
            range.start(),
            range.end()
        )))
    }
}

/// The number of results asked for (the default when not given).
pub fn result_limit(limit: Option<u64>) -> Result<usize, EngineError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) => within(n, &RESULT_LIMITS, "limit").map(|n| n as usize),
    }
}

/// The token budget of a context request (the default when not given).
pub fn context_budget(max_tokens: Option<u64>, spelling: Spelling) -> Result<usize, EngineError> {
    match max_tokens {
        None => Ok(DEFAULT_CONTEXT_TOKENS),
        Some(n) => within(n, &CONTEXT_TOKENS, &spelling.name("max_tokens")).map(|n| n as usize),
    }
}

/// A 1-based line or column.
pub fn one_based(value: Option<u64>, name: &str) -> Result<u32, EngineError> {
    let value = value.ok_or_else(|| invalid(format!("`{name}` is missing")))?;
    u32::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| invalid(format!("`{name}` counts from 1, not {value}")))
}

/// The query of a search or a context request: something to look for.
pub fn query(query: Option<String>) -> Result<String, EngineError> {
    match query {
        Some(q) if !q.trim().is_empty() => Ok(q),
        Some(_) => Err(EngineError::EmptyQuery),
        None => Err(invalid(
            "`query` is missing: give words, a question or an identifier to look for".to_owned(),
        )),
    }
}

/// The language names a search may be limited to: every grammar's, and the
/// labels of files without one.
pub const LANGUAGE_LABELS: &[&str] = &[
    "text", "toml", "json", "yaml", "shell", "html", "css", "rst", "sql",
];

/// A language filter as a client wrote it ("TypeScript", "go"), checked
/// against the languages dowse knows, lower-cased.
pub fn language_filter(names: &[String], spelling: Spelling) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let known = dowse_engine::Language::from_name(name)
            .map(|l| l.name().to_owned())
            .or_else(|| {
                LANGUAGE_LABELS
                    .iter()
                    .find(|l| l.eq_ignore_ascii_case(name))
                    .map(|l| (*l).to_owned())
            });
        match known {
            Some(lang) => out.push(lang),
            None => {
                let mut all: Vec<&str> = dowse_engine::Language::ALL
                    .iter()
                    .map(|l| l.name())
                    .collect();
                all.extend(LANGUAGE_LABELS);
                return Err(invalid(format!(
                    "`{}`: no language `{name}`; known: {}",
                    spelling.name("lang"),
                    all.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// A search as a front end received it, not yet checked.
#[derive(Debug, Default)]
pub struct SearchAsked<'a> {
    pub query: Option<String>,
    pub mode: Option<&'a str>,
    pub limit: Option<u64>,
    pub path_prefix: Option<&'a str>,
    pub languages: &'a [String],
    pub scope: Option<&'a str>,
}

impl Host {
    /// A search as a client asked it, checked: a query, a known mode, a
    /// limit from 1 to 100, a path prefix inside the workspace, known
    /// languages and a known scope.
    pub fn search_request(
        &self,
        asked: SearchAsked<'_>,
        spelling: Spelling,
    ) -> Result<SearchRequest, EngineError> {
        let SearchAsked {
            query: text,
            mode,
            limit,
            path_prefix,
            languages,
            scope,
        } = asked;
        let query = query(text)?;
        let mode = match mode {
            None => SearchMode::default(),
            Some(mode) => mode.parse::<SearchMode>()?,
        };
        let limit = result_limit(limit)?;
        let path_prefix = match path_prefix.map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(prefix) => Some(
                self.resolve(prefix)
                    .map_err(|err| invalid(format!("`{}`: {err}", spelling.name("path_prefix"))))?,
            ),
        }
        .map(|(_, rel)| rel);
        Ok(SearchRequest {
            query,
            mode,
            limit,
            path_prefix,
            languages: language_filter(languages, spelling)?,
            scope: match scope.map(str::trim).filter(|s| !s.is_empty()) {
                None => Scope::Local,
                Some(scope) => scope.parse()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_come_as_numbers_or_as_text() {
        assert_eq!(whole_number(&json!(3)), Some(3));
        assert_eq!(whole_number(&json!("3")), Some(3));
        assert_eq!(whole_number(&json!(" 12 ")), Some(12));
        assert_eq!(whole_number(&json!(3.0)), Some(3));
        assert_eq!(whole_number(&json!(3.5)), None);
        assert_eq!(whole_number(&json!("three")), None);
        assert_eq!(whole_number(&json!(-1)), None);
        assert_eq!(whole_number(&json!(true)), None);
    }

    #[test]
    fn limits_and_budgets_are_the_same_for_every_front_end() {
        assert_eq!(result_limit(None).unwrap(), 10);
        assert_eq!(result_limit(Some(100)).unwrap(), 100);
        for bad in [0, 101, 1000] {
            let said = result_limit(Some(bad)).unwrap_err().to_string();
            assert!(said.contains("from 1 to 100"), "{said}");
        }
        assert_eq!(context_budget(None, Spelling::Snake).unwrap(), 4000);
        let said = context_budget(Some(5), Spelling::Camel)
            .unwrap_err()
            .to_string();
        assert!(said.contains("`maxTokens`"), "{said}");
        let said = context_budget(Some(5), Spelling::Snake)
            .unwrap_err()
            .to_string();
        assert!(said.contains("`max_tokens`"), "{said}");
        assert!(one_based(Some(0), "line").is_err());
        assert_eq!(one_based(Some(7), "line").unwrap(), 7);
    }
}
