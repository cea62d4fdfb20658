//! What a query names: `split_identifier`, `Bucket.load_bytecode`,
//! `Command::find`, or a code-shaped word inside a sentence ("how does
//! `parseHeaders` handle folding"), and how well a chunk's definition
//! matches it. Search ranks the definitions of a named thing first
//! ([`crate::search`]).

use dowse_index::lexical::StoredChunk;

/// A name a query asks for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Named {
    /// The defined name looked for: the last part of a qualified name.
    pub name: String,
    /// What qualifies it (`Bucket` in `Bucket.load_bytecode`), if written.
    pub qualifier: Option<String>,
    /// True when the query is the name (with at most a keyword such as
    /// `fn` or `class`); false for a name inside a sentence.
    pub whole: bool,
}

/// Words that say what kind of definition a name is: "class Template",
/// "fn parse_duration".
const DEFINITION_WORDS: &[&str] = &[
    "fn",
    "def",
    "func",
    "function",
    "class",
    "struct",
    "enum",
    "trait",
    "interface",
    "type",
    "impl",
    "mod",
    "module",
    "const",
    "method",
    "protocol",
    "record",
    "object",
];

impl Named {
    /// The name `query` asks for, if any: the whole query when it is one
    /// identifier, qualified or not (`a.b`, `a::b`, `a#b`, `a->b`, with
    /// backticks or a trailing `()`), optionally after a definition word;
    /// otherwise the first code-shaped word of a sentence (in backticks, or
    /// written like code: `snake_case`, `camelCase`, `a::b`, `f()`).
    pub fn of(query: &str) -> Option<Named> {
        let words: Vec<&str> = query.split_whitespace().collect();
        let whole = match words.as_slice() {
            [one] => Some(*one),
            [kind, one] if DEFINITION_WORDS.contains(&kind.to_ascii_lowercase().as_str()) => {
                Some(*one)
            }
            _ => None,
        };
        if let Some(named) = whole.and_then(|w| Named::parse(w, true)) {
            return Some(named);
        }
        words
            .iter()
            .filter(|w| is_code_shaped(w))
            .find_map(|w| Named::parse(w, false))
    }

    fn parse(word: &str, whole: bool) -> Option<Named> {
        let word = word
            .trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ',' | '?' | ':' | ';'))
            .trim_end_matches("()")
            .trim_end_matches('.');
        let parts: Vec<&str> = word
            .split("::")
            .flat_map(|p| p.split("->"))
            .flat_map(|p| p.split(['.', '#']))
            .collect();
        if parts.is_empty() || !parts.iter().all(|p| is_identifier(p)) {
            return None;
        }
        let name = (*parts.last()?).to_owned();
        let qualifier = (parts.len() > 1).then(|| parts[parts.len() - 2].to_owned());
        Some(Named {
            name,
            qualifier,
            whole,
        })
    }

    /// How well `chunk` defines this name, from 0 (not at all) to
    /// [`Match::Qualified`].
    pub fn matches(&self, chunk: &StoredChunk) -> Match {
        let Some(symbol) = chunk.symbol.as_deref() else {
            return Match::None;
        };
        let mut best = Match::None;
        for defined in symbol.split(", ") {
            let found = if defined == self.name {
                match &self.qualifier {
                    Some(q) if owned_by(chunk, q) => Match::Qualified,
                    Some(_) => Match::CaseInsensitive,
                    None => Match::Exact,
                }
            } else if defined.eq_ignore_ascii_case(&self.name) {
                Match::CaseInsensitive
            } else if self.name.len() >= 4 && contains_ignore_case(defined, &self.name) {
                Match::Partial
            } else {
                Match::None
            };
            best = best.max(found);
        }
        best
    }
}

/// How a definition matches a name, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Match {
    None,
    /// The name is part of the defined one (`parse` in `parse_duration`).
    Partial,
    /// The same name in another case, or a qualified name whose qualifier
    /// is not this definition's.
    CaseInsensitive,
    Exact,
    /// The name and its qualifier: `Bucket.load_bytecode` in `class Bucket`.
    Qualified,
}

impl Match {
    /// The ranking tier: 0 for no match, up to 4.
    pub fn tier(self) -> u8 {
        self as u8
    }
}

/// Whether the innermost enclosing definition (or a Go receiver, a C++
/// qualifier: also enclosing names) is named `qualifier`.
fn owned_by(chunk: &StoredChunk, qualifier: &str) -> bool {
    chunk.enclosing.last().is_some_and(|owner| {
        owner
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == qualifier)
    })
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// A word written as code: in backticks, or with an inner `_`, a lower-case
/// letter followed by an upper-case one, a `::`, a `.` between identifiers,
/// or a trailing `()`.
fn is_code_shaped(word: &str) -> bool {
    if word.len() > 2
        && word.starts_with('`')
        && word.trim_end_matches(['.', ',', '?']).ends_with('`')
    {
        return true;
    }
    let word = word.trim_end_matches(['.', ',', '?', ':', ';']);
    let letters = word.trim_matches('_');
    word.ends_with("()")
        || word.contains("::")
        || letters.contains('_')
        || word
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        || (word.contains('.')
            && word.split('.').all(is_identifier)
            && !word.ends_with(".py")
            && word.split('.').count() == 2
            && word.chars().next().is_some_and(char::is_uppercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(query: &str) -> Option<(String, Option<String>, bool)> {
        Named::of(query).map(|n| (n.name, n.qualifier, n.whole))
    }

    #[test]
    fn a_query_that_is_an_identifier_names_it() {
        let some = |n: &str, q: Option<&str>, whole| Some((n.into(), q.map(Into::into), whole));
        assert_eq!(
            named("split_identifier"),
            some("split_identifier", None, true)
        );
        assert_eq!(named("Template"), some("Template", None, true));
        assert_eq!(
            named("`parse_duration()`"),
            some("parse_duration", None, true)
        );
        assert_eq!(
            named("Bucket.load_bytecode"),
            some("load_bytecode", Some("Bucket"), true)
        );
        assert_eq!(named("Command::find"), some("find", Some("Command"), true));
        assert_eq!(named("class Template"), some("Template", None, true));
        assert_eq!(
            named("how does `parseHeaders` handle folding"),
            some("parseHeaders", None, false)
        );
        assert_eq!(
            named("where is get_one called"),
            some("get_one", None, false)
        );
        assert_eq!(named("where do we retry failed uploads"), None);
        assert_eq!(named("parse a duration"), None);
        assert_eq!(named("a-b"), None);
    }
}
