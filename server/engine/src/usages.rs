//! Find usages: the engine call behind `dowse usages`, LSP
//! `textDocument/references`, `dowse.findUsages` and MCP `find_usages`.
//!
//! Occurrences are extracted per file ([`dowse_syntax::usages::extract`])
//! and resolved across files by a [`Workspace`]. Queries only read it: the
//! writer builds it when first asked ([`EngineWriter::prepare_usages`],
//! extraction in parallel) and from then on keeps it in step with every
//! change it applies (a commit, a buffer set or closed), extracting again
//! only the files whose text changed. A query before it is prepared is an
//! error the front ends never show: the host has the writer prepare it
//! first.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use dowse_syntax::Language;
use dowse_syntax::text::{LineIndex, strip_bom};
use dowse_syntax::usages::resolve::{Symbol, Workspace};
use dowse_syntax::usages::{FileUsages, extract};
use rayon::prelude::*;
use serde::Serialize;

use crate::overlay::OverlayView;
use crate::source::SourceReader;
use crate::writer::EngineWriter;
use crate::{Engine, EngineError, Result};

/// One place a symbol is defined or used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageLocation {
    /// The workspace root the location belongs to (canonical, absolute).
    pub root: String,
    /// Relative to the workspace root.
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in bytes of the line.
    pub column: u32,
    /// Byte length of the name.
    pub length: u32,
    /// The text of the line, without its line ending.
    pub context: String,
}

/// The answer of `dowse usages`.
#[derive(Clone, Debug, Serialize)]
pub struct UsagesResponse {
    pub symbol: String,
    pub definitions: Vec<UsageLocation>,
    pub references: Vec<UsageLocation>,
}

/// What to find the usages of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsagesQuery {
    /// A name, optionally qualified: `parse`, `Headers.add`, `Client::send`.
    Symbol(String),
    /// The symbol at a position: a file (workspace-relative, or absolute
    /// inside the workspace), a 1-based line and a 1-based column in
    /// characters.
    Position {
        path: String,
        line: u32,
        column: u32,
    },
}

impl UsagesQuery {
    /// `FILE:LINE:COL` (1-based) as a position, anything else as a symbol:
    /// the form the CLI takes.
    pub fn parse(text: &str) -> UsagesQuery {
        match parse_position(text.trim()) {
            Some((path, line, column)) => UsagesQuery::Position {
                path: path.to_owned(),
                line,
                column,
            },
            None => UsagesQuery::Symbol(text.trim().to_owned()),
        }
    }
}

/// The occurrences of the workspace's files, kept in step with the index.
#[derive(Default)]
pub(crate) struct UsageState {
    workspace: Workspace,
    /// The digest each file was extracted at.
    digests: HashMap<String, String>,
}

/// `None` until the writer prepares it.
pub(crate) type SharedUsages = RwLock<Option<UsageState>>;

/// Extracts a tiny file of each language: find usages works when its
/// queries compiled and extraction runs.
pub(crate) fn probe() -> std::result::Result<(), String> {
    let samples = [
        (Language::Python, "def probe(x):\n    return probe(x)\n"),
        (Language::Rust, "fn probe(x: u8) -> u8 { probe(x) }\n"),
    ];
    for (lang, text) in samples {
        let found = std::panic::catch_unwind(|| extract(lang, text))
            .ok()
            .flatten();
        let occurrences = found.map_or(0, |u| {
            u.occurrences.iter().filter(|o| o.name == "probe").count()
        });
        if occurrences < 2 {
            return Err(format!(
                "find usages does not work for {lang}: its queries failed to compile or extraction failed (see the log)"
            ));
        }
    }
    Ok(())
}

impl Engine {
    /// Usages of a symbol or of the symbol at a position, in the live index:
    /// an open buffer's unsaved text counts in place of its file's.
    pub fn usages(&self, query: &UsagesQuery) -> Result<UsagesResponse> {
        if let UsagesQuery::Symbol(name) = query
            && name.trim().is_empty()
        {
            return Err(EngineError::EmptyQuery);
        }
        let started = std::time::Instant::now();
        let overlay = self.overlay.view();
        let state = self.usage_state.read().expect("usages lock");
        let Some(state) = state.as_ref() else {
            return Err(EngineError::Unavailable(
                "find usages is not prepared yet: the index writer prepares it when first asked"
                    .to_owned(),
            ));
        };
        let ws = &state.workspace;
        let mut sources = SourceReader::new(&self.root, &overlay);
        let (symbol, targets) = match query {
            UsagesQuery::Position { path, line, column } => {
                let (line, column) = (*line, *column);
                if line == 0 || column == 0 {
                    return Err(EngineError::InvalidInput(format!(
                        "lines and columns count from 1, not {line}:{column}"
                    )));
                }
                let rel = self.workspace_relative(path)?;
                let id = ws.file_id(&rel).ok_or_else(|| {
                    let why = match Language::from_path(Path::new(&rel)) {
                        Some(lang) if lang.usages() == dowse_syntax::UsageSupport::None => {
                            format!("{} has no definitions or references", lang.name())
                        }
                        Some(_) => "it is not indexed (left out by --exclude, an ignore file or a size limit?)".to_owned(),
                        None => "find usages reads code in the languages `dowse stats` lists, and this file is in none of them".to_owned(),
                    };
                    EngineError::InvalidInput(format!("`{rel}` has no symbols dowse knows of: {why}"))
                })?;
                let text = sources
                    .file(&rel)
                    .ok_or_else(|| EngineError::InvalidInput(format!("`{rel}` cannot be read")))?;
                let offset = offset_of(&text, line, column).ok_or_else(|| {
                    EngineError::InvalidInput(format!(
                        "`{rel}` has no line {line}, column {column}"
                    ))
                })?;
                let symbol = ws.symbol_at(id, offset).ok_or_else(|| {
                    EngineError::InvalidInput(match ws.name_at(id, offset) {
                        Some(name) => format!(
                            "dowse cannot tell what `{name}` at {rel}:{line}:{column} refers to: it is defined outside the workspace, or it is a member of a value whose type dowse does not know (`dowse usages {name}` lists the definitions of that name)"
                        ),
                        None => format!("no identifier at {rel}:{line}:{column}"),
                    })
                })?;
                (
                    ws.usages_of(symbol.file)
                        .occurrence(symbol.occ)
                        .name
                        .to_string(),
                    vec![symbol],
                )
            }
            UsagesQuery::Symbol(name) => {
                (name.trim().to_owned(), ws.definitions_named(name.trim()))
            }
        };
        let mut definitions = Vec::new();
        let mut references = Vec::new();
        for target in targets {
            let found = ws.usages(target);
            definitions.extend(found.definitions);
            references.extend(found.references);
        }
        definitions.sort();
        definitions.dedup();
        references.sort();
        references.dedup();
        references.retain(|r| !definitions.contains(r));
        let mut lines = LineCache::default();
        let definitions = self.locations(ws, &definitions, &mut sources, &mut lines);
        let references = self.locations(ws, &references, &mut sources, &mut lines);
        self.counters.query(started.elapsed());
        Ok(UsagesResponse {
            symbol,
            definitions,
            references,
        })
    }

    fn locations(
        &self,
        ws: &Workspace,
        symbols: &[Symbol],
        sources: &mut SourceReader<'_>,
        lines: &mut LineCache,
    ) -> Vec<UsageLocation> {
        let mut out: Vec<UsageLocation> = symbols
            .iter()
            .map(|s| {
                let file = ws.usages_of(s.file);
                let occ = file.occurrence(s.occ);
                let (line, column) = file.position(s.occ);
                let path = ws.path(s.file).to_owned();
                let context = lines.line(sources, &path, line);
                UsageLocation {
                    root: self.root.to_string_lossy().into_owned(),
                    path,
                    line,
                    column,
                    length: occ.name.len() as u32,
                    context,
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        out
    }

    /// How many files' occurrences are loaded; `None` before they are
    /// prepared.
    pub(crate) fn usage_file_count(&self) -> Option<usize> {
        let state = self.usage_state.read().expect("usages lock");
        state.as_ref().map(|state| state.workspace.file_count())
    }

    /// Whether find usages can answer (the writer has prepared it).
    pub fn usages_prepared(&self) -> bool {
        self.usage_state.read().expect("usages lock").is_some()
    }

    /// Brings the occurrences up to date with what search sees: the file
    /// table's files, each overlaid file by its buffer's text. A file is
    /// extracted again whenever the text it was extracted from changes (an
    /// edit, a save, a close that returns it to its disk content). Queries
    /// keep reading the previous state while files are extracted.
    fn sync_usages(&self, overlay: &OverlayView) -> Result<()> {
        let started = Instant::now();
        let wanted: HashMap<String, (String, Language)> = {
            let table = self.files.read().expect("file table lock");
            let mut wanted: HashMap<String, (String, Language)> = table
                .files
                .iter()
                .filter_map(|(path, record)| {
                    // The language the file was chunked as (a script's `#!`
                    // line counts), else the one its name says.
                    let lang = Language::from_name(&record.language)
                        .or_else(|| Language::from_path(Path::new(path)))?;
                    Some((path.clone(), (format!("disk:{}", record.digest), lang)))
                })
                .collect();
            for (path, file) in &overlay.files {
                if let Some(lang) = Language::detect(Path::new(path), &file.text) {
                    wanted.insert(path.clone(), (format!("buffer:{}", file.digest), lang));
                }
            }
            wanted
        };
        let empty = UsageState::default();
        let (todo, removed) = {
            let guard = self.usage_state.read().expect("usages lock");
            let state = guard.as_ref().unwrap_or(&empty);
            let mut todo: Vec<(&String, &(String, Language))> = wanted
                .iter()
                .filter(|(path, (digest, _))| state.digests.get(*path) != Some(digest))
                .collect();
            // In path order, so that a workspace's files get the same ids in
            // every process and resolution does not depend on a hash seed.
            todo.sort_unstable_by_key(|(path, _)| *path);
            let removed: Vec<String> = state
                .digests
                .keys()
                .filter(|p| !wanted.contains_key(*p))
                .cloned()
                .collect();
            (todo, removed)
        };
        if todo.is_empty() && removed.is_empty() && self.usages_prepared() {
            return Ok(());
        }
        let extracted: Vec<(String, String, Language, Option<FileUsages>)> = todo
            .par_iter()
            .map(|(path, (digest, lang))| {
                let text = match overlay.files.get(*path) {
                    Some(file) => Some(file.text.clone()),
                    None => std::fs::read_to_string(self.root.join(path))
                        .ok()
                        .map(Arc::new),
                };
                let usages = text.and_then(|text| {
                    // A bug in extraction costs that file's usages, not the
                    // process.
                    std::panic::catch_unwind(|| extract(*lang, &text)).unwrap_or_else(|_| {
                        tracing::error!("extracting the occurrences of `{path}` failed");
                        None
                    })
                });
                ((*path).clone(), digest.clone(), *lang, usages)
            })
            .collect();
        let mut guard = self.usage_state.write().expect("usages lock");
        let state = guard.get_or_insert_with(UsageState::default);
        for path in removed {
            state.workspace.remove_file(&path);
            state.digests.remove(&path);
        }
        let count = extracted.len();
        for (path, digest, lang, usages) in extracted {
            match usages {
                Some(usages) => state.workspace.set_file(&path, lang, Arc::new(usages)),
                None => state.workspace.remove_file(&path),
            }
            state.digests.insert(path, digest);
        }
        if count > SHRINK_AFTER_FILES {
            state.workspace.shrink();
        }
        tracing::info!(
            "extracted occurrences of {count} files in {:?}",
            started.elapsed()
        );
        Ok(())
    }
}

impl EngineWriter {
    /// Builds the occurrences find usages reads, if they are not built
    /// yet (about 4 s for the CPython standard library); from then on
    /// every change the writer applies keeps them in step.
    pub fn prepare_usages(&mut self) -> Result<()> {
        if self.usages_prepared() {
            return Ok(());
        }
        let overlay = self.overlay.view();
        self.sync_usages(&overlay)
    }

    /// Extracts again what changed, once usages are prepared.
    pub(crate) fn sync_usages_if_prepared(&mut self) {
        if !self.usages_prepared() {
            return;
        }
        let overlay = self.overlay.view();
        if let Err(err) = self.sync_usages(&overlay) {
            tracing::warn!("keeping find usages in step: {err}");
        }
    }
}

/// Files extracted at once past which the definition index gives back its
/// growth slack (a first build, a branch switch): an edit's one file is not
/// worth the walk over every name.
const SHRINK_AFTER_FILES: usize = 64;

/// `FILE:LINE:COL` → its parts; anything else is a symbol.
fn parse_position(query: &str) -> Option<(&str, u32, u32)> {
    let (rest, column) = query.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    let column: u32 = column.parse().ok()?;
    (!file.is_empty() && line > 0 && column > 0).then_some((file, line, column))
}

/// The byte offset of a 1-based line and column (in characters) of the
/// text, BOM included as the occurrences count it.
fn offset_of(text: &str, line: u32, column: u32) -> Option<usize> {
    let (body, bom) = strip_bom(text);
    let index = LineIndex::new(body);
    let row = line as usize - 1;
    if row >= index.line_count() {
        return None;
    }
    let start = index.line_start(row);
    let end = index.line_end(body, row);
    let line_text = &body[start..end];
    let offset = line_text
        .char_indices()
        .nth(column as usize - 1)
        .map(|(i, _)| i)
        .unwrap_or(line_text.len());
    Some(bom + start + offset)
}

/// Line indexes of the files read, each built once.
#[derive(Default)]
struct LineCache {
    files: HashMap<String, Option<(Arc<String>, LineIndex)>>,
}

impl LineCache {
    fn line(&mut self, sources: &mut SourceReader<'_>, path: &str, line: u32) -> String {
        let entry = self.files.entry(path.to_owned()).or_insert_with(|| {
            let text = sources.file(path)?;
            let index = LineIndex::new(&text);
            Some((text, index))
        });
        let Some((text, index)) = entry else {
            return String::new();
        };
        let row = line as usize - 1;
        if row >= index.line_count() {
            return String::new();
        }
        let start = index.line_start(row);
        let end = index.line_end(text, row);
        text[start..end].trim_start_matches('\u{feff}').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_symbols_are_told_apart() {
        assert_eq!(parse_position("src/a.py:3:7"), Some(("src/a.py", 3, 7)));
        assert_eq!(parse_position("C:/x/a.py:3:7"), Some(("C:/x/a.py", 3, 7)));
        assert_eq!(parse_position("Client::send"), None);
        assert_eq!(parse_position("Headers.add"), None);
        assert_eq!(parse_position("a.py:0:1"), None);
    }

    #[test]
    fn offsets_count_characters_and_the_bom() {
        let text = "\u{feff}ab\né x\n";
        assert_eq!(offset_of(text, 1, 1), Some(3));
        assert_eq!(offset_of(text, 2, 3), Some(3 + 3 + 3));
        assert_eq!(offset_of(text, 9, 1), None);
    }
}
