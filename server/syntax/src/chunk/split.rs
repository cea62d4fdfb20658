//! Cutting a file's rows into chunks: each definition on its own, the code
//! between definitions in pieces along statement boundaries, containers
//! split into their members plus a header, definitions over the token
//! budget cut into numbered parts, tiny neighbours merged.

use std::ops::Range;

use tree_sitter::Node;

use super::units::Unit;
use super::{Chunk, ChunkConfig, ChunkKind, Digest};
use crate::text::{LineIndex, estimate_tokens, has_word};

/// Prefix sums of estimated tokens per line, so any row range is O(1).
pub(super) struct TokenPrefix(Vec<u32>);

impl TokenPrefix {
    pub(super) fn new(text: &str, lines: &LineIndex) -> TokenPrefix {
        let mut sums = Vec::with_capacity(lines.line_count() + 1);
        let mut total = 0;
        sums.push(0);
        for row in 0..lines.line_count() {
            total += estimate_tokens(&text[lines.line_start(row)..lines.line_end(text, row)]);
            sums.push(total);
        }
        TokenPrefix(sums)
    }

    pub(super) fn of(&self, rows: &Range<usize>) -> u32 {
        self.0[rows.end] - self.0[rows.start]
    }
}

/// Where the rows of a definition or of the code between definitions may be
/// cut when too large for one chunk.
#[derive(Clone, Copy)]
pub(super) enum Cuts<'a> {
    /// Where a syntax node's statements start (its named children, and
    /// theirs inside children too large to stay whole).
    Node(Node<'a>),
    /// The rows where a block starts, sorted, from a parser that gives no
    /// syntax tree (Markdown's paragraphs, lists, code blocks: an outline).
    Rows(&'a [usize]),
}

impl<'a> Cuts<'a> {
    /// The syntax node of a definition found by a query. Units come either
    /// all from a syntax tree or all from an outline, and only the first
    /// are nested and merged by their nodes.
    pub(super) fn syntax(self) -> Node<'a> {
        match self {
            Cuts::Node(node) => node,
            Cuts::Rows(_) => unreachable!("an outline's units are built nested"),
        }
    }
}

/// How chunks cut from code that is not itself a definition are labelled.
pub(super) struct Label<'a> {
    pub(super) kind: ChunkKind,
    pub(super) symbol: Option<&'a str>,
    pub(super) enclosing: &'a [String],
}

impl Label<'static> {
    /// The code of a file outside any definition.
    pub(super) const MODULE: Label<'static> = Label {
        kind: ChunkKind::Module,
        symbol: None,
        enclosing: &[],
    };
}

pub(super) struct Chunker<'a> {
    pub(super) text: &'a str,
    pub(super) lines: &'a LineIndex,
    pub(super) tokens: TokenPrefix,
    pub(super) config: &'a ChunkConfig,
}

impl<'a> Chunker<'a> {
    pub(super) fn new(text: &'a str, lines: &'a LineIndex, config: &'a ChunkConfig) -> Chunker<'a> {
        Chunker {
            text,
            lines,
            tokens: TokenPrefix::new(text, lines),
            config,
        }
    }
}

impl Chunker<'_> {
    /// Chunks `rows` holding the definitions `units`: each unit on its own,
    /// the code between them labelled with `gap`. `enclosing` is what the units'
    /// chunks report as their enclosing names; `container` says where the
    /// rows they belong to may be cut (a syntax node's statements).
    pub(super) fn level(
        &self,
        rows: Range<usize>,
        units: &[Unit<'_>],
        gap: &Label<'_>,
        enclosing: &[String],
        container: Cuts<'_>,
    ) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let mut next_row = rows.start;
        for unit in units {
            let unit_rows = unit.rows.start.max(next_row)..unit.rows.end;
            if unit_rows.is_empty() {
                continue;
            }
            if unit_rows.start > next_row {
                self.gap(next_row..unit_rows.start, gap, container, &mut chunks);
            }
            self.unit(unit, unit_rows.clone(), enclosing, &mut chunks);
            next_row = unit_rows.end;
        }
        if next_row < rows.end {
            self.gap(next_row..rows.end, gap, container, &mut chunks);
        }
        self.merge_tiny(chunks)
    }

    fn unit(
        &self,
        unit: &Unit<'_>,
        rows: Range<usize>,
        enclosing: &[String],
        out: &mut Vec<Chunk>,
    ) {
        let owned;
        let enclosing = match &unit.owner {
            Some(owner) => {
                owned = [enclosing, std::slice::from_ref(owner)].concat();
                &owned[..]
            }
            None => enclosing,
        };
        let label = Label {
            kind: unit.kind,
            symbol: unit.name.as_deref(),
            enclosing,
        };
        let fits = self.tokens.of(&rows) <= self.config.max_tokens;
        if unit.children.is_empty() || (fits && !unit.kind.is_container()) {
            if fits {
                out.push(self.chunk(&label, rows, None));
            } else {
                let first = out.len();
                self.split(&label, rows.clone(), unit.cuts, out);
                let rows = self.trim_blank(rows);
                if out.len() - first > 1 {
                    for part in &mut out[first..] {
                        part.definition = Some((rows.start as u32 + 1, rows.end as u32));
                    }
                }
            }
            return;
        }
        let mut inner = enclosing.to_vec();
        inner.push(unit.display.clone());
        let mut members = self.level(rows, &unit.children, &label, &inner, unit.cuts);
        // A header with nothing to say on its own (`class Foo(Base):`, `impl
        // Foo {`) opens its first member's chunk instead of being a chunk.
        if members.len() >= 2
            && members[0].enclosing == enclosing
            && members[0].part.is_none()
            && members[1].enclosing == inner
            && self.tokens.of(&self.rows_of(&members[0])) < self.config.min_tokens
        {
            let header = members.remove(0);
            let first = &members[0];
            let rows = self.rows_of(&header).start..self.rows_of(first).end;
            let label = Label {
                kind: first.kind,
                symbol: first.symbol.as_deref(),
                enclosing: &first.enclosing,
            };
            let definition = first
                .definition
                .map(|(_, end)| (rows.start as u32 + 1, end));
            members[0] = self.chunk(&label, rows, first.part);
            members[0].definition = definition;
        }
        out.extend(members);
    }

    /// Code between definitions: dropped when it has no words (a closing
    /// brace), split at statement boundaries when too large.
    fn gap(
        &self,
        rows: Range<usize>,
        label: &Label<'_>,
        container: Cuts<'_>,
        out: &mut Vec<Chunk>,
    ) {
        let rows = self.trim_blank(rows);
        if rows.is_empty() || !has_word(self.rows_text(&rows)) || closes_only(self.rows_text(&rows))
        {
            return;
        }
        if self.tokens.of(&rows) <= self.config.max_tokens {
            out.push(self.chunk(label, rows, None));
        } else {
            self.split(label, rows, container, out);
        }
    }

    /// Splits `rows` into parts no larger than `max_tokens`, cutting only
    /// where `cuts` allows (where a statement, a syntax child, starts, going
    /// into children that are themselves too large), and cutting by lines as
    /// the last resort.
    fn split(&self, label: &Label<'_>, rows: Range<usize>, cuts: Cuts<'_>, out: &mut Vec<Chunk>) {
        let mut boundaries = Vec::new();
        match cuts {
            Cuts::Node(node) => self.boundaries(node, &rows, &mut boundaries),
            Cuts::Rows(starts) => {
                let from = starts.partition_point(|&row| row <= rows.start);
                let to = starts.partition_point(|&row| row < rows.end);
                boundaries.extend_from_slice(&starts[from..to]);
            }
        }
        boundaries.sort_unstable();
        boundaries.dedup();
        let max = self.config.max_tokens;
        let mut pieces: Vec<Range<usize>> = Vec::new();
        let mut start = rows.start;
        let mut last_cut = rows.start;
        for &b in boundaries
            .iter()
            .filter(|&&b| b > rows.start && b < rows.end)
        {
            if self.tokens.of(&(start..b)) > max && last_cut > start {
                pieces.push(start..last_cut);
                start = last_cut;
            }
            last_cut = b;
        }
        if self.tokens.of(&(start..rows.end)) > max && last_cut > start {
            pieces.push(start..last_cut);
            start = last_cut;
        }
        pieces.push(start..rows.end);
        let mut parts = Vec::new();
        for piece in pieces {
            self.cut_lines(piece, &mut parts);
        }
        parts.retain(|part| has_word(self.rows_text(part)));
        let numbered = parts.len() > 1;
        for (i, part) in parts.into_iter().enumerate() {
            let part = self.trim_blank(part);
            out.push(self.chunk(label, part, numbered.then_some(i as u32 + 1)));
        }
    }

    fn rows_text(&self, rows: &Range<usize>) -> &str {
        &self.text[self.lines.line_start(rows.start)..self.lines.line_end(self.text, rows.end - 1)]
    }

    /// Drops blank lines at both ends.
    fn trim_blank(&self, mut rows: Range<usize>) -> Range<usize> {
        let blank = |row: usize| self.rows_text(&(row..row + 1)).trim().is_empty();
        while !rows.is_empty() && blank(rows.start) {
            rows.start += 1;
        }
        while !rows.is_empty() && blank(rows.end - 1) {
            rows.end -= 1;
        }
        rows
    }

    /// Start rows of `node`'s descendants where a part may begin: each named
    /// child's first row, and inside children too large to stay whole.
    fn boundaries(&self, node: Node<'_>, rows: &Range<usize>, out: &mut Vec<usize>) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            let child_rows = child.start_position().row..child.end_position().row + 1;
            if child_rows.end <= rows.start || child_rows.start >= rows.end {
                continue;
            }
            out.push(child_rows.start);
            if child_rows.len() > 1
                && self.tokens.of(&clamp(&child_rows, rows)) > self.config.max_tokens
            {
                self.boundaries(child, rows, out);
            }
        }
    }

    /// The last resort for a statement too large on its own: cut by lines.
    fn cut_lines(&self, rows: Range<usize>, out: &mut Vec<Range<usize>>) {
        let max = self.config.max_tokens;
        let mut start = rows.start;
        while start < rows.end {
            let mut end = start + 1;
            while end < rows.end && self.tokens.of(&(start..end + 1)) <= max {
                end += 1;
            }
            out.push(start..end);
            start = end;
        }
    }

    /// Merges runs of adjacent siblings that are each smaller than
    /// `min_tokens`, as long as the merged chunk stays within a quarter of
    /// `max_tokens` (a run of one-line getters, not a whole file of them).
    /// Only chunks of one kind merge, so a one-line function is not reported
    /// as an `import` nor a class header as a function.
    fn merge_tiny(&self, chunks: Vec<Chunk>) -> Vec<Chunk> {
        let min = self.config.min_tokens;
        let cap = self.config.max_tokens / 4;
        let mut out: Vec<Chunk> = Vec::with_capacity(chunks.len());
        let mut run_is_tiny = false;
        for chunk in chunks {
            let rows = self.rows_of(&chunk);
            let tiny = chunk.part.is_none() && self.tokens.of(&rows) < min;
            if tiny
                && run_is_tiny
                && let Some(prev) = out.last_mut()
                && prev.enclosing == chunk.enclosing
                && prev.kind == chunk.kind
                && prev.symbol.is_some() == chunk.symbol.is_some()
            {
                let merged_rows = self.rows_of(prev).start..rows.end;
                if self.tokens.of(&merged_rows) <= cap {
                    let symbol = match (prev.symbol.take(), chunk.symbol) {
                        (Some(a), Some(b)) if a != b => Some(format!("{a}, {b}")),
                        (a, b) => a.or(b),
                    };
                    let label = Label {
                        kind: prev.kind,
                        symbol: symbol.as_deref(),
                        enclosing: &chunk.enclosing,
                    };
                    *prev = self.chunk(&label, merged_rows, None);
                    continue;
                }
            }
            run_is_tiny = tiny;
            out.push(chunk);
        }
        out
    }

    fn rows_of(&self, chunk: &Chunk) -> Range<usize> {
        chunk.start_line as usize - 1..chunk.end_line as usize
    }

    fn chunk(&self, label: &Label<'_>, rows: Range<usize>, part: Option<u32>) -> Chunk {
        make_chunk(
            self.text,
            self.lines,
            label.kind,
            label.symbol.map(str::to_owned),
            label.enclosing.to_vec(),
            rows,
            part,
        )
    }
}

/// Lines that only close blocks: `end` (Ruby, Lua), `fi`, `done`, `esac`
/// (shells), with braces and semicolons.
fn closes_only(text: &str) -> bool {
    text.lines().all(|line| {
        let word = line.trim().trim_end_matches([';', ')', '}', ',']).trim();
        matches!(
            word,
            "" | "end" | "fi" | "done" | "esac" | "endif" | "endwhile" | "endforeach"
        )
    })
}

fn clamp(rows: &Range<usize>, to: &Range<usize>) -> Range<usize> {
    rows.start.max(to.start)..rows.end.min(to.end).max(rows.start.max(to.start))
}

pub(super) fn make_chunk(
    text: &str,
    lines: &LineIndex,
    kind: ChunkKind,
    symbol: Option<String>,
    enclosing: Vec<String>,
    rows: Range<usize>,
    part: Option<u32>,
) -> Chunk {
    let mut start = lines.line_start(rows.start);
    // The BOM is not part of the first chunk's text.
    if start == 0 && text.starts_with(crate::text::BOM) {
        start = crate::text::BOM.len();
    }
    let end = lines.line_end(text, rows.end - 1).max(start);
    Chunk {
        kind,
        symbol,
        enclosing,
        byte_range: start..end,
        start_line: rows.start as u32 + 1,
        end_line: rows.end as u32,
        part,
        definition: None,
        digest: Digest::of(&text.as_bytes()[start..end]),
        test: false,
    }
}
