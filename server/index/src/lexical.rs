//! The lexical index: one tantivy document per chunk, BM25 over two fields.
//!
//! `content` carries the file's path, the names of the enclosing definitions
//! and the chunk's code, as one text, like the plain BM25 that people measure
//! code search against: a sentence's words are scored against everything the
//! chunk says, with one length normalisation. `symbol` carries the defined
//! name(s) again, on their own, for queries that name what they look for (its
//! weight is chosen per query; see `dowse-engine`'s search). Both go through
//! the code analyzer ([`crate::tokenizer`]). Text fields keep term
//! frequencies but no positions: code search needs no phrase queries, and
//! positions would double the postings.
//!
//! Measured on retrieval set D (tests/eval): separate `path` and `enclosing`
//! fields with their own BM25 (the earlier schema) gave short definitions
//! whose names matched one word of a long question a lead no body could
//! overcome; the single text ranks question-style queries .39 MRR@10 against
//! .29.
//!
//! The raw `path` field (untokenized) is the unit of replacement: updating a
//! file deletes every document with its path and adds the new chunks, so an
//! update replaces exactly that file's documents.
//!
//! The chunk's text is indexed but not stored: it would be most of the index,
//! and it is in the file already. Each chunk stores the blake3 digest of its
//! text, so a reader can tell whether the file still holds it.

use std::ops::ControlFlow;
use std::path::Path;

use dowse_syntax::{Chunk, ChunkKind, Digest};
/// Where a chunk's document is in the committed index (a segment and a
/// document in it), as [`LexicalSnapshot::find`] gives it.
pub use tantivy::DocAddress;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::tokenizer::{self, CODE};

#[derive(Debug, thiserror::Error)]
pub enum LexicalError {
    #[error("lexical index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("lexical index: {0}")]
    Io(#[from] std::io::Error),
    #[error("lexical index: a stored chunk is missing the `{0}` field")]
    MissingField(&'static str),
}

pub type Result<T> = std::result::Result<T, LexicalError>;

/// The schema's fields.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Workspace-relative path, untokenized: the unit of deletion.
    pub path: Field,
    pub symbol: Field,
    pub enclosing: Field,
    pub content: Field,
    pub kind: Field,
    pub language: Field,
    pub start_line: Field,
    pub end_line: Field,
    pub start_byte: Field,
    pub end_byte: Field,
    pub part: Field,
    /// For a part of a split definition, the definition's first and last
    /// line (0 for other chunks).
    pub def_start_line: Field,
    pub def_end_line: Field,
    pub digest: Field,
    pub chunk_id: Field,
    /// The key of the chunk's embedding text in the embedding cache.
    pub content_key: Field,
    /// 1 for test code by the language's markers ([`Chunk::test`]).
    pub test: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let text = |stored: bool| {
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(CODE)
                .set_index_option(IndexRecordOption::WithFreqs);
            let options = TextOptions::default().set_indexing_options(indexing);
            if stored {
                options.set_stored()
            } else {
                options
            }
        };
        let fields = Fields {
            path: builder.add_text_field("path", STRING | STORED | FAST),
            symbol: builder.add_text_field("symbol", text(true)),
            // Stored only: the names are part of `content` for search.
            enclosing: builder.add_text_field("enclosing", STORED),
            // Not stored: the text is in the file, and the digest below says
            // whether the file still holds what was indexed.
            content: builder.add_text_field("content", text(false)),
            kind: builder.add_text_field("kind", STRING | STORED | FAST),
            language: builder.add_text_field("language", STRING | STORED),
            start_line: builder.add_u64_field("start_line", STORED),
            end_line: builder.add_u64_field("end_line", STORED),
            start_byte: builder.add_u64_field("start_byte", STORED),
            end_byte: builder.add_u64_field("end_byte", STORED),
            part: builder.add_u64_field("part", STORED),
            def_start_line: builder.add_u64_field("def_start_line", STORED),
            def_end_line: builder.add_u64_field("def_end_line", STORED),
            digest: builder.add_bytes_field("digest", STORED),
            chunk_id: builder.add_u64_field("chunk_id", INDEXED | STORED | FAST),
            content_key: builder.add_u64_field("content_key", STORED | FAST),
            test: builder.add_u64_field("test", STORED),
        };
        (builder.build(), fields)
    }
}

/// How much a match in each field counts: `content` is the chunk's whole
/// text; `symbol` adds weight to matches of its name (0 to leave names to
/// the content).
#[derive(Clone, Debug, PartialEq)]
pub struct Boosts {
    pub content: f32,
    pub symbol: f32,
    /// A name counts only when it holds at least this many of the query's
    /// words (1: any).
    pub symbol_min_terms: usize,
    /// A name holding [`GETTER`] and one of the query's words after its
    /// first counts once more, at this weight of `symbol` (0: not asked).
    /// The engine asks for it when the query's first word says it describes
    /// what a function returns ("returns the …"): that word is not one of
    /// the thing returned.
    pub getter: f32,
    /// Each query word's related words ([`tokenizer::related`]: `delete`
    /// for "remove") count in the chunk's text at this share of the word's
    /// weight (0: not asked).
    pub related: f32,
}

/// The word of a getter's name (`GetBool`, `get_name`), as the index holds
/// it.
pub const GETTER: &str = "get";

impl Default for Boosts {
    fn default() -> Boosts {
        Boosts {
            content: 1.0,
            symbol: 1.0,
            symbol_min_terms: 1,
            getter: 0.0,
            related: 0.0,
        }
    }
}

/// A stable identifier of a chunk: the same chunk text at the same place in
/// the same file always gets the same id.
pub fn chunk_id(path: &str, chunk: &Chunk) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(path.as_bytes());
    hasher.update(&[0]);
    hasher.update(&(chunk.byte_range.start as u64).to_le_bytes());
    hasher.update(&chunk.digest.0);
    u64::from_le_bytes(
        hasher.finalize().as_bytes()[..8]
            .try_into()
            .expect("8 bytes"),
    )
}

/// A chunk as stored in the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredChunk {
    pub chunk_id: u64,
    pub path: String,
    pub language: String,
    pub kind: ChunkKind,
    pub symbol: Option<String>,
    pub enclosing: Vec<String>,
    pub start_line: u32,
    pub end_line: u32,
    pub byte_range: std::ops::Range<usize>,
    pub part: Option<u32>,
    /// For a part of a split definition, the whole definition's lines.
    pub definition: Option<(u32, u32)>,
    pub digest: Digest,
    /// What the chunk's embedding views are made from, hashed: the engine
    /// derives the embedding cache's key from it.
    pub content_key: u64,
    /// Test code by the language's markers ([`Chunk::test`]).
    pub test: bool,
}

impl StoredChunk {
    /// The lines search reports: the whole definition for a part of one.
    pub fn reported_lines(&self) -> (u32, u32) {
        self.definition.unwrap_or((self.start_line, self.end_line))
    }
}

/// The separator of enclosing names in the stored field.
const ENCLOSING_SEPARATOR: &str = " > ";

pub struct LexicalIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl LexicalIndex {
    /// Opens the index in `dir`, creating an empty one if there is none.
    pub fn open(dir: &Path) -> Result<LexicalIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, _) = Fields::schema();
        let directory = MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?;
        LexicalIndex::with_index(Index::open_or_create(directory, schema)?)
    }

    /// An index in memory, with the same schema: the live overlay of files
    /// open in an editor, whose commits cost no disk write.
    pub fn in_memory() -> Result<LexicalIndex> {
        let (schema, _) = Fields::schema();
        LexicalIndex::with_index(Index::create_in_ram(schema))
    }

    fn with_index(index: Index) -> Result<LexicalIndex> {
        let (_, fields) = Fields::schema();
        index
            .tokenizers()
            .register(CODE, tokenizer::code_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(LexicalIndex {
            index,
            reader,
            fields,
        })
    }

    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// The single writer. `threads` indexing threads share `heap_bytes`.
    pub fn writer(&self, threads: usize, heap_bytes: usize) -> Result<LexicalWriter> {
        let threads = threads.max(1);
        let heap = heap_bytes.max(threads * 16_000_000);
        let writer: IndexWriter = self.index.writer_with_num_threads(threads, heap)?;
        // Merges happen in `commit`, synchronously, so that the files of a
        // commit stay as its manifest describes them until the next commit.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(LexicalWriter {
            writer,
            index: self.index.clone(),
            fields: self.fields,
        })
    }

    /// Makes the last commit visible to new snapshots.
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// A consistent view for one query; never waits for the writer.
    pub fn snapshot(&self) -> LexicalSnapshot {
        let searcher = self.reader.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect();
        LexicalSnapshot {
            searcher,
            fields: self.fields,
            columns: std::sync::Arc::new(columns),
        }
    }

    /// The generation recorded with the last commit, if any.
    pub fn committed_generation(&self) -> Result<Option<u64>> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()))
    }

    /// The files of the committed segments, relative to the index's
    /// directory.
    pub fn segment_files(&self) -> Result<Vec<std::path::PathBuf>> {
        Ok(self
            .index
            .load_metas()?
            .list_segment_files()
            .into_iter()
            .collect())
    }

    /// Files whose tantivy checksum footer does not match their content.
    pub fn corrupted_files(&self) -> Result<Vec<std::path::PathBuf>> {
        Ok(self.index.validate_checksum()?.into_iter().collect())
    }
}

/// The one writer of a lexical index. Documents become visible on `commit`.
pub struct LexicalWriter {
    writer: IndexWriter,
    index: Index,
    fields: Fields,
}

/// Above this many segments, a commit merges the small ones.
const MAX_SEGMENTS: usize = 8;

impl LexicalWriter {
    /// Adds the chunks of one file, each with the key of its embedding text.
    /// Call [`LexicalWriter::delete_file`] first when the file was indexed
    /// before.
    pub fn add_file(
        &self,
        path: &str,
        language: &str,
        chunks: &[Chunk],
        text: &str,
        content_keys: &[u64],
    ) -> Result<()> {
        let f = &self.fields;
        for (chunk, &content_key) in chunks.iter().zip(content_keys) {
            let mut doc = TantivyDocument::default();
            doc.add_text(f.path, path);
            if let Some(symbol) = &chunk.symbol {
                doc.add_text(f.symbol, symbol);
            }
            let enclosing = chunk.enclosing.join(ENCLOSING_SEPARATOR);
            if !chunk.enclosing.is_empty() {
                doc.add_text(f.enclosing, &enclosing);
            }
            doc.add_text(
                f.content,
                format!("{path}\n{enclosing}\n{}", chunk.text(text)),
            );
            doc.add_text(f.kind, chunk.kind.as_str());
            doc.add_text(f.language, language);
            doc.add_u64(f.start_line, u64::from(chunk.start_line));
            doc.add_u64(f.end_line, u64::from(chunk.end_line));
            doc.add_u64(f.start_byte, chunk.byte_range.start as u64);
            doc.add_u64(f.end_byte, chunk.byte_range.end as u64);
            doc.add_u64(f.part, u64::from(chunk.part.unwrap_or(0)));
            let (def_start, def_end) = chunk.definition.unwrap_or((0, 0));
            doc.add_u64(f.def_start_line, u64::from(def_start));
            doc.add_u64(f.def_end_line, u64::from(def_end));
            doc.add_bytes(f.digest, &chunk.digest.0[..]);
            doc.add_u64(f.chunk_id, chunk_id(path, chunk));
            doc.add_u64(f.content_key, content_key);
            doc.add_u64(f.test, u64::from(chunk.test));
            self.writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Deletes every chunk of `path`.
    pub fn delete_file(&self, path: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.path, path));
    }

    /// Commits, recording `generation` with the commit.
    pub fn commit(&mut self, generation: u64) -> Result<()> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&generation.to_string());
        prepared.commit()?;
        self.merge_small_segments()
    }

    /// Merges all but the largest segments once there are too many (each
    /// commit of an edit adds a tiny one), and waits for the merge.
    fn merge_small_segments(&mut self) -> Result<()> {
        let mut metas = self.index.searchable_segment_metas()?;
        if metas.len() <= MAX_SEGMENTS {
            return Ok(());
        }
        metas.sort_by_key(|m| std::cmp::Reverse(m.num_docs()));
        let largest = metas[0].num_docs().max(1);
        let small: Vec<_> = metas
            .iter()
            .skip(1)
            .filter(|m| m.num_docs() < largest / 2)
            .map(|m| m.id())
            .collect();
        let ids: Vec<_> = if small.len() >= 2 {
            small
        } else {
            metas.iter().map(|m| m.id()).collect()
        };
        self.writer.merge(&ids).wait()?;
        Ok(())
    }

    /// Drops uncommitted changes.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback()?;
        Ok(())
    }

    /// Waits for background merges, then releases the writer.
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

/// A point-in-time view of the lexical index; cheap to clone and share.
#[derive(Clone)]
pub struct LexicalSnapshot {
    searcher: Searcher,
    fields: Fields,
    /// Fast-field columns per segment, opened on first use.
    columns: std::sync::Arc<Vec<std::sync::OnceLock<std::result::Result<SegmentColumns, String>>>>,
}

/// BM25 statistics of several indexes taken as one (the committed index and
/// the in-memory overlay), so that a chunk scores the same wherever it lives.
pub struct CombinedStatistics<'a> {
    searchers: Vec<&'a Searcher>,
}

impl<'a> CombinedStatistics<'a> {
    pub fn of(snapshots: &[&'a LexicalSnapshot]) -> CombinedStatistics<'a> {
        CombinedStatistics {
            searchers: snapshots.iter().map(|s| &s.searcher).collect(),
        }
    }
}

impl Bm25StatisticsProvider for CombinedStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searchers
            .iter()
            .map(|s| s.total_num_tokens(field))
            .sum()
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        // At least one document, so that an empty index (a workspace with
        // only unsaved buffers) never averages over nothing.
        let total: u64 = self
            .searchers
            .iter()
            .map(|s| Bm25StatisticsProvider::total_num_docs(*s))
            .sum::<tantivy::Result<u64>>()?;
        Ok(total.max(1))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searchers.iter().map(|s| s.doc_freq(term)).sum()
    }
}

/// The fast fields a query reads for many documents.
struct SegmentColumns {
    chunk_id: tantivy::columnar::Column<u64>,
    content_key: tantivy::columnar::Column<u64>,
    kind: tantivy::columnar::StrColumn,
}

/// What a query needs to know of a document without loading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocKeys {
    pub chunk_id: u64,
    pub content_key: u64,
    pub kind: ChunkKind,
}

/// One lexical hit: the document and its BM25 score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LexicalHit {
    pub score: f32,
    pub doc: DocAddress,
}

impl LexicalSnapshot {
    pub fn num_chunks(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// The query's terms, as the index sees them.
    pub fn query_terms(query: &str) -> Vec<String> {
        tokenizer::terms(&mut tokenizer::query_analyzer(), query)
    }

    /// The best `limit` chunks for `query` by boosted BM25.
    pub fn search(&self, query: &str, boosts: &Boosts, limit: usize) -> Result<Vec<LexicalHit>> {
        self.search_with(query, boosts, limit, &[], &self.searcher)
    }

    /// [`LexicalSnapshot::search`] leaving out the chunks of `excluded`
    /// paths, with BM25 statistics from `statistics`.
    pub fn search_with(
        &self,
        query: &str,
        boosts: &Boosts,
        limit: usize,
        excluded: &[&str],
        statistics: &dyn Bm25StatisticsProvider,
    ) -> Result<Vec<LexicalHit>> {
        let terms = LexicalSnapshot::query_terms(query);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let query = self.boosted_query(&terms, boosts, excluded, true);
        let top = self.searcher.search_with_statistics_provider(
            &query,
            &TopDocs::with_limit(limit).order_by_score(),
            statistics,
        )?;
        Ok(top
            .into_iter()
            .map(|(score, doc)| LexicalHit { score, doc })
            .collect())
    }

    /// The boosted BM25 score of each of `docs` for `query`, as
    /// [`LexicalSnapshot::search_with`] scores it (0 for a document that
    /// matches no word). Hybrid search scores the chunks found by meaning
    /// this way instead of ranking a thousand chunks by keywords to find
    /// theirs among them.
    pub fn score_docs(
        &self,
        query: &str,
        boosts: &Boosts,
        docs: &[DocAddress],
        statistics: &dyn Bm25StatisticsProvider,
    ) -> Result<Vec<f32>> {
        use tantivy::DocSet;
        use tantivy::query::{EnableScoring, Scorer};
        let mut scores = vec![0.0; docs.len()];
        let terms = LexicalSnapshot::query_terms(query);
        if terms.is_empty() || docs.is_empty() {
            return Ok(scores);
        }
        let weight = self.boosted_query(&terms, boosts, &[], false).weight(
            EnableScoring::enabled_from_statistics_provider(statistics, &self.searcher),
        )?;
        // A scorer only moves forward: documents in order, one scorer per
        // segment.
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_by_key(|&i| (docs[i].segment_ord, docs[i].doc_id));
        let mut scorer: Option<(u32, Box<dyn Scorer>)> = None;
        for i in order {
            let DocAddress {
                segment_ord,
                doc_id,
            } = docs[i];
            let scorer = match &mut scorer {
                Some((ord, scorer)) if *ord == segment_ord => scorer,
                slot => {
                    let segment = self.searcher.segment_reader(segment_ord);
                    &mut slot.insert((segment_ord, weight.scorer(segment, 1.0)?)).1
                }
            };
            if scorer.doc() < doc_id {
                scorer.seek(doc_id);
            }
            if scorer.doc() == doc_id {
                scores[i] = scorer.score();
            }
        }
        Ok(scores)
    }

    /// Every word of the query in each field, boosted, as alternatives;
    /// the chunks of `excluded` paths left out. With `own_word_needed`, a
    /// chunk must hold one of the query's own words: related words lift
    /// such chunks, they find none of their own (a search for "BEGIN
    /// CERTIFICATE" finds no `__init__` through "begin" / "init").
    fn boosted_query(
        &self,
        terms: &[String],
        boosts: &Boosts,
        excluded: &[&str],
        own_word_needed: bool,
    ) -> BooleanQuery {
        let f = self.fields;
        let term_query = |field, term: &String| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            Vec::with_capacity(terms.len() + 1 + excluded.len());
        let mut related_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if boosts.content > 0.0 {
            for term in terms {
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(term_query(f.content, term), boosts.content)),
                ));
            }
            if boosts.related > 0.0 {
                let mut seen: Vec<&str> = terms.iter().map(String::as_str).collect();
                for term in terms {
                    for related in tokenizer::related(term) {
                        if seen.contains(&related.as_str()) {
                            continue;
                        }
                        seen.push(related);
                        related_clauses.push((
                            Occur::Should,
                            Box::new(BoostQuery::new(
                                term_query(f.content, related),
                                boosts.content * boosts.related,
                            )),
                        ));
                    }
                }
            }
        }
        if boosts.symbol > 0.0 {
            let mut names: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|term| (Occur::Should, term_query(f.symbol, term)))
                .collect();
            if boosts.getter > 0.0 && terms.len() > 1 && !terms.iter().any(|t| t == GETTER) {
                let others: Vec<(Occur, Box<dyn Query>)> = terms[1..]
                    .iter()
                    .map(|term| (Occur::Should, term_query(f.symbol, term)))
                    .collect();
                let getter: Vec<(Occur, Box<dyn Query>)> = vec![
                    (Occur::Must, term_query(f.symbol, &GETTER.to_owned())),
                    (Occur::Must, Box::new(BooleanQuery::new(others))),
                ];
                names.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(BooleanQuery::new(getter)),
                        boosts.getter,
                    )),
                ));
            }
            let least = boosts.symbol_min_terms.clamp(1, terms.len().max(1));
            let names = BooleanQuery::with_minimum_required_clauses(names, least);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(names), boosts.symbol)),
            ));
        }
        if own_word_needed && !related_clauses.is_empty() {
            // Scored as the flat query (a sum over the matching clauses),
            // matched only with an own word.
            let own: Box<dyn Query> = Box::new(BooleanQuery::new(std::mem::take(&mut clauses)));
            clauses.push((Occur::Must, own));
            clauses.push((Occur::Should, Box::new(BooleanQuery::new(related_clauses))));
        } else {
            clauses.extend(related_clauses);
        }
        for path in excluded {
            let term = Term::from_field_text(f.path, path);
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        BooleanQuery::new(clauses)
    }

    /// Every live chunk: (chunk id, content key), read from fast fields.
    pub fn live_chunks(&self) -> Result<Vec<(u64, u64)>> {
        let mut out = Vec::with_capacity(self.searcher.num_docs() as usize);
        for segment in self.searcher.segment_readers() {
            let fast = segment.fast_fields();
            let ids = fast.u64("chunk_id")?;
            let keys = fast.u64("content_key")?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|bits| !bits.is_alive(doc)) {
                    continue;
                }
                if let (Some(id), Some(key)) = (ids.first(doc), keys.first(doc)) {
                    out.push((id, key));
                }
            }
        }
        Ok(out)
    }

    /// [`LexicalSnapshot::live_chunks`] with each chunk's file: one shared
    /// string per file.
    pub fn live_chunks_with_paths(&self) -> Result<Vec<(u64, u64, std::sync::Arc<str>)>> {
        let mut out = Vec::with_capacity(self.searcher.num_docs() as usize);
        for segment in self.searcher.segment_readers() {
            let fast = segment.fast_fields();
            let ids = fast.u64("chunk_id")?;
            let keys = fast.u64("content_key")?;
            let Some(paths) = fast.str("path")? else {
                return Err(LexicalError::MissingField("path"));
            };
            let mut names: std::collections::HashMap<u64, std::sync::Arc<str>> =
                std::collections::HashMap::new();
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|bits| !bits.is_alive(doc)) {
                    continue;
                }
                let (Some(id), Some(key), Some(ord)) =
                    (ids.first(doc), keys.first(doc), paths.term_ords(doc).next())
                else {
                    continue;
                };
                let path = match names.get(&ord) {
                    Some(path) => path.clone(),
                    None => {
                        let mut name = String::new();
                        paths.ord_to_str(ord, &mut name)?;
                        let path: std::sync::Arc<str> = name.into();
                        names.insert(ord, path.clone());
                        path
                    }
                };
                out.push((id, key, path));
            }
        }
        Ok(out)
    }

    /// A document's chunk id, embedding key and kind, from fast fields.
    pub fn keys(&self, doc: DocAddress) -> Result<DocKeys> {
        let columns = self.columns[doc.segment_ord as usize]
            .get_or_init(|| {
                let fast = self.searcher.segment_reader(doc.segment_ord).fast_fields();
                let open = || -> tantivy::Result<SegmentColumns> {
                    Ok(SegmentColumns {
                        chunk_id: fast.u64("chunk_id")?,
                        content_key: fast.u64("content_key")?,
                        kind: fast.str("kind")?.ok_or_else(|| {
                            tantivy::TantivyError::FieldNotFound("kind".to_owned())
                        })?,
                    })
                };
                open().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| LexicalError::Tantivy(tantivy::TantivyError::InternalError(e.clone())))?;
        let chunk_id = columns
            .chunk_id
            .first(doc.doc_id)
            .ok_or(LexicalError::MissingField("chunk_id"))?;
        let content_key = columns
            .content_key
            .first(doc.doc_id)
            .ok_or(LexicalError::MissingField("content_key"))?;
        let ord = columns
            .kind
            .term_ords(doc.doc_id)
            .next()
            .ok_or(LexicalError::MissingField("kind"))?;
        let mut name = String::new();
        columns.kind.ord_to_str(ord, &mut name)?;
        let kind = ChunkKind::from_name(&name).ok_or(LexicalError::MissingField("kind"))?;
        Ok(DocKeys {
            chunk_id,
            content_key,
            kind,
        })
    }

    /// The document of a chunk id, if it is live.
    ///
    /// Read straight from each segment's postings of the id, not through a
    /// scored query: a search looks up a hundred or more chunks by id, and
    /// each lookup built a BM25 weight, a scorer and a top-1 collector.
    /// Under the benchmark's MCP load, in adjacent runs: 7.09 → 6.86 ms of
    /// server CPU a call (within that machine's noise, 2026-12-04).
    pub fn find(&self, chunk_id: u64) -> Result<Option<DocAddress>> {
        let term = Term::from_field_u64(self.fields.chunk_id, chunk_id);
        let mut found = None;
        self.live_docs(&term, |doc| {
            found = Some(doc);
            ControlFlow::Break(())
        })?;
        Ok(found)
    }

    /// The documents of every chunk of `path`, in index order.
    pub fn file_chunks(&self, path: &str) -> Result<Vec<DocAddress>> {
        let term = Term::from_field_text(self.fields.path, path);
        let mut docs = Vec::new();
        self.live_docs(&term, |doc| {
            docs.push(doc);
            ControlFlow::Continue(())
        })?;
        Ok(docs)
    }

    /// Hands `each` the live documents that hold `term` (an id or a path:
    /// no scoring), segment by segment, until it breaks.
    fn live_docs(
        &self,
        term: &Term,
        mut each: impl FnMut(DocAddress) -> ControlFlow<()>,
    ) -> Result<()> {
        use tantivy::{DocSet, TERMINATED};
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let index = segment.inverted_index(term.field())?;
            let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? else {
                continue;
            };
            let alive = segment.alive_bitset();
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|alive| alive.is_alive(doc))
                    && each(DocAddress::new(ord as u32, doc)).is_break()
                {
                    return Ok(());
                }
                doc = postings.advance();
            }
        }
        Ok(())
    }

    /// The stored chunk behind a hit.
    pub fn chunk(&self, doc: DocAddress) -> Result<StoredChunk> {
        let doc: TantivyDocument = self.searcher.doc(doc)?;
        let f = &self.fields;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let number = |field: Field, name: &'static str| {
            doc.get_first(field)
                .and_then(|v| v.as_u64())
                .ok_or(LexicalError::MissingField(name))
        };
        let digest_bytes = doc
            .get_first(f.digest)
            .and_then(|v| v.as_bytes().map(<[u8]>::to_vec))
            .ok_or(LexicalError::MissingField("digest"))?;
        let digest = Digest(
            digest_bytes
                .try_into()
                .map_err(|_| LexicalError::MissingField("digest"))?,
        );
        let kind_name = text(f.kind).ok_or(LexicalError::MissingField("kind"))?;
        Ok(StoredChunk {
            chunk_id: number(f.chunk_id, "chunk_id")?,
            path: text(f.path).ok_or(LexicalError::MissingField("path"))?,
            language: text(f.language).ok_or(LexicalError::MissingField("language"))?,
            kind: ChunkKind::from_name(&kind_name).ok_or(LexicalError::MissingField("kind"))?,
            symbol: text(f.symbol),
            enclosing: text(f.enclosing)
                .map(|e| e.split(ENCLOSING_SEPARATOR).map(str::to_owned).collect())
                .unwrap_or_default(),
            start_line: number(f.start_line, "start_line")? as u32,
            end_line: number(f.end_line, "end_line")? as u32,
            byte_range: number(f.start_byte, "start_byte")? as usize
                ..number(f.end_byte, "end_byte")? as usize,
            part: match number(f.part, "part")? {
                0 => None,
                n => Some(n as u32),
            },
            definition: match (
                number(f.def_start_line, "def_start_line")?,
                number(f.def_end_line, "def_end_line")?,
            ) {
                (0, _) | (_, 0) => None,
                (start, end) => Some((start as u32, end as u32)),
            },
            digest,
            content_key: number(f.content_key, "content_key")?,
            test: number(f.test, "test")? == 1,
        })
    }
}

#[cfg(test)]
mod tests;
