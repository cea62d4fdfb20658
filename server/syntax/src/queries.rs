//! The tree-sitter queries of `queries/<lang>/`, embedded in the binary and
//! compiled once per process.
//!
//! A query that fails to compile must not take the server down: it disables
//! that one feature for that one language and says why in the log (Helix does
//! the same). [`QuerySet::get`] therefore hands out `Option<&Query>`.

use std::sync::OnceLock;

use tree_sitter::Query;

use crate::Language;

/// What a query file is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    Chunks,
    Tags,
    Locals,
}

impl QueryKind {
    pub const ALL: [QueryKind; 3] = [QueryKind::Chunks, QueryKind::Tags, QueryKind::Locals];

    pub fn file_name(self) -> &'static str {
        match self {
            QueryKind::Chunks => "chunks.scm",
            QueryKind::Tags => "tags.scm",
            QueryKind::Locals => "locals.scm",
        }
    }
}

/// The source text of one embedded query file.
pub fn query_source(lang: Language, kind: QueryKind) -> &'static str {
    let spec = lang.spec();
    match kind {
        QueryKind::Chunks => spec.chunks,
        QueryKind::Tags => spec.tags,
        QueryKind::Locals => spec.locals,
    }
}

/// Compiles a query, returning the error text on failure. Used by the lazy
/// set below and by the test that checks every embedded file.
pub fn compile(lang: Language, kind: QueryKind, source: &str) -> Result<Query, String> {
    Query::new(&lang.grammar(), source).map_err(|err| {
        format!(
            "queries/{}/{} does not compile: {err}",
            lang.name(),
            kind.file_name()
        )
    })
}

/// The compiled queries of one language; a `None` is a disabled feature.
pub struct QuerySet {
    chunks: Option<Query>,
    tags: Option<Query>,
    locals: Option<Query>,
    /// Node kind ids at the root of the chunks query's patterns, when every
    /// pattern has a plain `(kind ...)` root; the chunker then runs the query
    /// only on nodes of these kinds.
    chunk_roots: Option<Vec<u16>>,
}

impl QuerySet {
    /// The process-wide compiled queries of `lang`.
    pub fn of(lang: Language) -> &'static QuerySet {
        static CELLS: [OnceLock<QuerySet>; Language::ALL.len()] =
            [const { OnceLock::new() }; Language::ALL.len()];
        CELLS[lang as usize].get_or_init(|| QuerySet::compile_all(lang))
    }

    fn compile_all(lang: Language) -> QuerySet {
        QuerySet::from_sources(lang, |kind| query_source(lang, kind))
    }

    /// Compiles a set from the given sources (the embedded files, or others in
    /// tests), logging and disabling each feature whose query fails.
    pub fn from_sources<'s>(lang: Language, source: impl Fn(QueryKind) -> &'s str) -> QuerySet {
        let load = |kind| match compile(lang, kind, source(kind)) {
            Ok(query) => Some(query),
            Err(reason) => {
                tracing::error!("{reason}; this feature is disabled for {lang}");
                None
            }
        };
        let chunks = load(QueryKind::Chunks);
        let chunk_roots = chunks
            .as_ref()
            .and_then(|q| pattern_roots(lang, q, source(QueryKind::Chunks)));
        QuerySet {
            chunks,
            tags: load(QueryKind::Tags),
            locals: load(QueryKind::Locals),
            chunk_roots,
        }
    }

    pub(crate) fn chunk_roots(&self) -> Option<&[u16]> {
        self.chunk_roots.as_deref()
    }

    pub fn get(&self, kind: QueryKind) -> Option<&Query> {
        match kind {
            QueryKind::Chunks => self.chunks.as_ref(),
            QueryKind::Tags => self.tags.as_ref(),
            QueryKind::Locals => self.locals.as_ref(),
        }
    }
}

/// The node kind at the root of every pattern of `query`, or `None` when a
/// pattern's root is not a plain named node (an alternation, a wildcard).
fn pattern_roots(lang: Language, query: &Query, source: &str) -> Option<Vec<u16>> {
    let grammar = lang.grammar();
    let mut roots = Vec::new();
    for pattern in 0..query.pattern_count() {
        let text = source.get(query.start_byte_for_pattern(pattern)..)?;
        let kind: String = text
            .strip_prefix('(')?
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let id = grammar.id_for_node_kind(&kind, true);
        if kind.is_empty() || kind == "_" || id == 0 {
            return None;
        }
        roots.push(id);
    }
    roots.sort_unstable();
    roots.dedup();
    Some(roots)
}
