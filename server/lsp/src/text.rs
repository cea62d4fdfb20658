//! Open documents: text in a rope, edits applied in order, and positions
//! converted between the client's encoding (UTF-16 by default, UTF-8 when
//! negotiated) and the engine's bytes, lines and columns — only here, at
//! the boundary.

use ropey::Rope;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// How the client counts `Position.character`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    #[default]
    Utf16,
    Utf8,
}

/// A document open in the editor.
#[derive(Clone, Debug)]
pub struct Document {
    pub text: Rope,
    pub version: i32,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Document {
        Document {
            text: Rope::from_str(text),
            version,
        }
    }

    /// Applies one change; a change without a range replaces the text.
    /// A range past the end is clamped, as editors expect.
    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent, encoding: Encoding) {
        match change.range {
            Some(range) => {
                let start = char_index(&self.text, range.start, encoding);
                let end = char_index(&self.text, range.end, encoding).max(start);
                self.text.remove(start..end);
                self.text.insert(start, &change.text);
            }
            None => self.text = Rope::from_str(&change.text),
        }
    }
}

/// The char index of an LSP position in `text`.
pub fn char_index(text: &Rope, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize;
    if line >= text.len_lines() {
        return text.len_chars();
    }
    let line_start = text.line_to_char(line);
    let line_text = text.line(line);
    // The line without its ending: a position never points past it.
    let mut line_len = line_text.len_chars();
    while line_len > 0 && matches!(line_text.char(line_len - 1), '\n' | '\r') {
        line_len -= 1;
    }
    let character = position.character as usize;
    let offset = match encoding {
        Encoding::Utf16 => {
            let slice = line_text.slice(..line_len);
            let units = slice.len_utf16_cu();
            slice.utf16_cu_to_char(character.min(units))
        }
        Encoding::Utf8 => {
            let slice = line_text.slice(..line_len);
            let bytes = slice.len_bytes();
            slice.byte_to_char(character.min(bytes))
        }
    };
    line_start + offset
}

/// The LSP position of a 1-based line and 1-based byte column of `line_text`.
pub fn position(line: u32, column: u32, line_text: &str, encoding: Encoding) -> Position {
    let byte = (column.max(1) as usize - 1).min(line_text.len());
    let prefix = line_text.get(..byte).unwrap_or(line_text);
    let character = match encoding {
        Encoding::Utf16 => prefix.encode_utf16().count(),
        Encoding::Utf8 => prefix.len(),
    };
    Position::new(line.saturating_sub(1), character as u32)
}

/// The range of `length` bytes at a 1-based line and byte column.
pub fn range(line: u32, column: u32, length: u32, line_text: &str, encoding: Encoding) -> Range {
    let start = position(line, column, line_text, encoding);
    let end = position(line, column + length, line_text, encoding);
    Range::new(start, end)
}

/// The 1-based line and character column (what `Engine::usages` takes) of
/// an LSP position in a document.
pub fn line_column(text: &Rope, position: Position, encoding: Encoding) -> (u32, u32) {
    let char_index = char_index(text, position, encoding);
    let line = text.char_to_line(char_index);
    let column = char_index - text.line_to_char(line);
    (line as u32 + 1, column as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range.map(|((l1, c1), (l2, c2))| {
                Range::new(Position::new(l1, c1), Position::new(l2, c2))
            }),
            range_length: None,
            text: text.to_owned(),
        }
    }

    #[test]
    fn edits_apply_in_utf16_and_utf8() {
        // "é" is one UTF-16 unit and two UTF-8 bytes; "𝄞" two units, four bytes.
        let mut doc = Document::new("aé𝄞b\nsecond\n", 1);
        doc.apply(&change(Some(((0, 4), (0, 5))), "B"), Encoding::Utf16);
        assert_eq!(doc.text.to_string(), "aé𝄞B\nsecond\n");
        doc.apply(&change(Some(((0, 7), (0, 8))), "x"), Encoding::Utf8);
        assert_eq!(doc.text.to_string(), "aé𝄞x\nsecond\n");
        doc.apply(&change(Some(((1, 0), (1, 6))), "2nd"), Encoding::Utf16);
        assert_eq!(doc.text.to_string(), "aé𝄞x\n2nd\n");
        // Past the end of a line or of the text: clamped.
        doc.apply(&change(Some(((1, 99), (1, 99))), "!"), Encoding::Utf16);
        doc.apply(&change(Some(((9, 0), (9, 0))), "end"), Encoding::Utf16);
        assert_eq!(doc.text.to_string(), "aé𝄞x\n2nd!\nend");
        doc.apply(&change(None, "all new"), Encoding::Utf16);
        assert_eq!(doc.text.to_string(), "all new");
    }

    #[test]
    fn positions_convert_both_ways() {
        let line = "    é = parse(𝄞)";
        // `parse` starts at byte 10 (1-based column 11).
        assert_eq!(position(1, 11, line, Encoding::Utf8), Position::new(0, 10));
        assert_eq!(position(1, 11, line, Encoding::Utf16), Position::new(0, 9));
        let rope = Rope::from_str(line);
        assert_eq!(
            line_column(&rope, Position::new(0, 9), Encoding::Utf16),
            (1, 10)
        );
        assert_eq!(
            range(3, 11, 5, line, Encoding::Utf16),
            Range::new(Position::new(2, 9), Position::new(2, 14))
        );
    }
}
