//! Markdown: one chunk per section, the heading path as enclosing names; no usages.
//!
//! Sections are found by pulldown-cmark, a CommonMark parser, not by the
//! tree-sitter grammar: tree-sitter-md's block grammar parses at about 5 MB/s
//! on this project's benchmark (two fifths of Python's chunking speed, where
//! every language must stay within half of it), pulldown-cmark several times
//! faster. `queries/markdown/chunks.scm` states the same sections.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Opaque, Spec, Usages, queries};
use crate::chunk::{ChunkKind, Heading, Outline};

const QUERIES: (&str, &str, &str) = queries!("markdown");

pub(crate) static SPEC: Spec = Spec {
    name: "markdown",
    extensions: &["md", "markdown", "mdx"],
    file_names: &[],
    shebangs: &[],
    grammar: || tree_sitter_md::LANGUAGE.into(),
    outline: Some(outline),
    chunks: QUERIES.0,
    tags: QUERIES.1,
    locals: QUERIES.2,
    // The chunker reads the outline, not the syntax tree.
    opaque: Opaque {
        supertypes: &[],
        keep: &[],
        extra: &[],
    },
    wrappers: &[],
    attached: &[],
    test_markers: &[],
    overloads: &[],
    members_in_scope: false,
    overloads_by_arity: false,
    first_branch_only: false,
    camel_case: false,
    keywords: &[(ChunkKind::Section, "")],
    usages: Usages::None,
    common_methods: &[],
    passthrough: &[],
    containers: &[],
};

/// The headings of `text` outside quotes, lists and footnotes (the ones that
/// open a section, as in tree-sitter-md), and where each block starts.
fn outline(text: &str) -> Outline {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let mut outline = Outline::default();
    // Open blocks that hold other blocks: a heading inside one is no section.
    let mut containers = 0usize;
    // The open section heading: its level, its start and the span of its
    // text so far (none yet).
    let mut heading: Option<(u8, usize, Option<Range<usize>>)> = None;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, start, Some(span))) = heading.take() {
                    let name = text[span].split_whitespace().collect::<Vec<_>>().join(" ");
                    if !name.is_empty() {
                        outline.headings.push(Heading { level, name, start });
                    }
                }
            }
            _ if heading.is_some() => {
                let span = &mut heading.as_mut().expect("an open heading").2;
                *span = Some(match span.take() {
                    Some(seen) => seen.start.min(range.start)..seen.end.max(range.end),
                    None => range,
                });
            }
            Event::Start(tag) => {
                if is_block(&tag) {
                    outline.blocks.push(range.start);
                }
                match tag {
                    Tag::Heading { level, .. } if containers == 0 => {
                        heading = Some((level as u8, range.start, None));
                    }
                    Tag::BlockQuote(_) | Tag::List(_) | Tag::Item | Tag::FootnoteDefinition(_) => {
                        containers += 1
                    }
                    _ => {}
                }
            }
            Event::End(
                TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item | TagEnd::FootnoteDefinition,
            ) => containers = containers.saturating_sub(1),
            Event::Rule => outline.blocks.push(range.start),
            _ => {}
        }
    }
    outline
}

/// Whether `tag` opens a block (where a large section may be cut), not a
/// span of text.
fn is_block(tag: &Tag<'_>) -> bool {
    !matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
            | Tag::TableCell
    )
}
