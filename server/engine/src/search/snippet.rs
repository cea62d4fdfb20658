//! Snippets: the lines of a chunk shown for a query and the query's words
//! in them.

use dowse_index::tokenizer;

use super::SnippetMatch;

/// Lines in a snippet.
const SNIPPET_LINES: usize = 4;

/// Bytes of one line kept in a snippet. A minified file is one line of a
/// megabyte, and it came back whole as the snippet: a megabyte in the
/// terminal, in the sidebar and in an agent's context. A longer line is cut
/// at its end and marked with `…`, so what is kept stays at the file's own
/// columns (match ranges are the file's).
const SNIPPET_LINE_BYTES: usize = 400;

/// The snippet of a chunk's text for `terms`: the lines shown, the line
/// they start at (the chunk's first line is `start_line`) and the terms'
/// places in them.
pub fn snippet_at(
    content: &str,
    start_line: u32,
    terms: &[String],
) -> (String, u32, Vec<SnippetMatch>) {
    let (text, offset) = snippet(content, terms);
    let first = start_line + offset as u32;
    let matches = snippet_matches(&text, terms)
        .into_iter()
        .map(|(line, bytes)| SnippetMatch {
            line: first + line as u32,
            bytes,
        })
        .collect();
    (text, first, matches)
}

/// The words of `snippet` that are query terms, as (0-based line, byte
/// range in the line), in order, overlapping ranges merged: for "retry
/// uploads", `retry_upload` matches as its two words, `Retry` as itself.
pub fn snippet_matches(snippet: &str, terms: &[String]) -> Vec<(usize, std::ops::Range<usize>)> {
    if terms.is_empty() {
        return Vec::new();
    }
    let mut finder = tokenizer::TermFinder::new(terms);
    let mut out = Vec::new();
    for (index, line) in snippet.lines().enumerate() {
        let mut ranges: Vec<std::ops::Range<usize>> = finder
            .find(line)
            .into_iter()
            .map(|(_, range)| range)
            .collect();
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
        for range in ranges {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        out.extend(merged.into_iter().map(|r| (index, r)));
    }
    out
}

/// The `SNIPPET_LINES` consecutive lines of `content` holding the most
/// distinct query terms (the first lines when nothing matches), and the
/// 0-based index of the first of them.
pub fn snippet(content: &str, terms: &[String]) -> (String, usize) {
    let lines: Vec<&str> = content.lines().collect();
    if lines.is_empty() {
        return (String::new(), 0);
    }
    let mut finder = tokenizer::TermFinder::new(terms);
    let line_terms: Vec<Vec<usize>> = lines
        .iter()
        .map(|line| finder.find(line).into_iter().map(|(i, _)| i).collect())
        .collect();
    let window = SNIPPET_LINES.min(lines.len());
    let mut best = (0, 0usize);
    for start in 0..=lines.len() - window {
        let mut distinct: Vec<usize> = line_terms[start..start + window]
            .iter()
            .flatten()
            .copied()
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > best.0 {
            best = (distinct.len(), start);
        }
    }
    let start = best.1;
    let mut text: Vec<&str> = lines[start..start + window].to_vec();
    while text.last().is_some_and(|l| l.trim().is_empty()) {
        text.pop();
    }
    let text: Vec<std::borrow::Cow<'_, str>> = text.into_iter().map(cut_line).collect();
    (text.join("\n"), start)
}

/// `line`, cut to [`SNIPPET_LINE_BYTES`] (on a character boundary) with `…`
/// when it is longer.
fn cut_line(line: &str) -> std::borrow::Cow<'_, str> {
    if line.len() <= SNIPPET_LINE_BYTES {
        return line.into();
    }
    format!("{}…", crate::views::cut(line, SNIPPET_LINE_BYTES)).into()
}

#[cfg(test)]
mod tests {
    use dowse_index::lexical::LexicalSnapshot;

    use super::*;

    #[test]
    fn snippet_picks_the_lines_with_most_query_terms() {
        let content = "def handler(event):\n    log(event)\n    x = 1\n    y = 2\n    z = 3\n    w = 4\n    retry_upload(event.file)\n    notify(user)\n";
        let terms = vec!["retri".to_owned(), "upload".to_owned()];
        let (text, offset) = snippet(content, &terms);
        assert_eq!(offset, 3);
        assert!(text.contains("retry_upload"), "{text}");
        let (text, offset) = snippet(content, &["nothing".to_owned()]);
        assert_eq!(offset, 0);
        assert!(text.starts_with("def handler"));
    }

    /// A minified file's one long line is cut, not returned whole, and a
    /// match before the cut keeps the file's columns.
    #[test]
    fn a_long_line_is_cut_at_its_end() {
        let line = format!(
            "var retry_upload=1;{}",
            "function f(x){return x*2},".repeat(40_000)
        );
        let content = format!("{line}\nshort();\n");
        let terms = LexicalSnapshot::query_terms("retry upload");
        let (text, first, matches) = snippet_at(&content, 1, &terms);
        assert_eq!(first, 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{}", &text[..80]);
        assert!(lines[0].len() <= SNIPPET_LINE_BYTES + '…'.len_utf8());
        assert!(lines[0].ends_with('…'));
        assert!(line.starts_with(lines[0].trim_end_matches('…')));
        assert_eq!(lines[1], "short();");
        let found: Vec<&str> = matches.iter().map(|m| &line[m.bytes.clone()]).collect();
        assert_eq!(found, ["retry", "upload"]);
        // A cut never splits a character.
        let wide = "é".repeat(SNIPPET_LINE_BYTES);
        let (text, _) = snippet(&wide, &[]);
        assert!(text.ends_with('…') && text.len() <= SNIPPET_LINE_BYTES + 3);
    }

    #[test]
    fn snippet_matches_cover_whole_and_split_identifiers() {
        let terms = LexicalSnapshot::query_terms("retries uploads");
        let whole = LexicalSnapshot::query_terms("retry_upload");
        let text = "x = 1\n    retry_upload(event.file)  # Retry later\nuploaded = True";
        let found: Vec<(usize, &str)> = snippet_matches(text, &terms)
            .into_iter()
            .map(|(line, r)| (line, &text.lines().nth(line).unwrap()[r]))
            .collect();
        assert_eq!(
            found,
            vec![(1, "retry"), (1, "upload"), (1, "Retry"), (2, "uploaded")]
        );
        // A whole identifier in the query covers its words: one match.
        let found: Vec<_> = snippet_matches(text, &whole)
            .into_iter()
            .map(|(l, r)| (l, r.len()))
            .collect();
        assert_eq!(found[0], (1, "retry_upload".len()));
        assert!(snippet_matches(text, &[]).is_empty());
    }
}
