//! How results are ranked: every setting, each beside the measurement
//! behind it.

use dowse_index::lexical::Boosts;
use dowse_index::tokenizer;

/// How results are ranked. Every setting here was chosen by measurement on
/// retrieval set D (tests/eval; the table is in the closing note of the
/// issue that set them), with the query kinds scored apart: docstring
/// sentences, and the handwritten and question-style queries people type.
/// They are fields, not constants, so that the eval runner can switch each
/// one off and show what it brings.
#[derive(Clone, Debug)]
pub struct Ranking {
    /// How the keyword and the meaning scores are combined.
    pub fusion: Fusion,
    /// Candidates taken from each side before fusion: 30 lost recall, 100
    /// gained nothing.
    pub candidates: usize,
    /// Content words (see [`tokenizer::content_words`]) at or below which a
    /// query is taken to name what it looks for, and at or above which it is
    /// taken to describe how the code works; see [`Ranking::name_weight`].
    pub name_words: (usize, usize),
    /// The score of test code is multiplied by this: people look for the
    /// code, not its tests, and a test that exercises a function shares its
    /// vocabulary (set D: +.01 MRR@10 on docstring queries, none lost).
    pub test_factor: f32,
    /// A part of a definition too large for one chunk is reported as the
    /// whole definition (the snippet still shows the lines that matched):
    /// the function is the answer, not its third quarter (+.017 MRR@10 on
    /// typed queries).
    pub whole_definitions: bool,
    /// A query that is a name (`split_identifier`, `Bucket.load_bytecode`)
    /// ranks the chunks that define it first: the exact name, then in
    /// another case, then a name that contains it, each above every chunk
    /// that only uses it (set D, symbol kind, hybrid: the definition first
    /// for .945 of the queries against .855 without).
    pub definitions_first: bool,
    /// A code-shaped word in a sentence ("how does `parseHeaders` handle
    /// folding") lifts the chunks that define it (by name, in any case) by
    /// this share of their score per tier of [`crate::named::Match`]: a
    /// hint, not the whole answer. Sentences often name *other* code (a
    /// docstring's "`True` if the value is callable"): on set D's docstring
    /// sentences a lift of 0.2 per tier cost .009 MRR@10, 0.05 costs .004;
    /// the typed queries of set D name no code (written so), and are
    /// unchanged.
    pub sentence_name_lift: f32,
    /// A hybrid answer (the default mode) covers places: its first
    /// `spread_after` results are the best as ranked, at most
    /// `head_per_file` of them from one file (and a file's later one only
    /// near the best, `head_near_best`); after them a file that has
    /// `per_file` results shows no more while other files have matches. A
    /// file's further matches are folded under its first result
    /// (`more_in_file`) and fill the answer only when nothing else does.
    /// Never for a query about one file (`lexer.py`, a path prefix that is
    /// a file), nor in keyword or meaning mode alone, which rank what their
    /// signal finds (and are measured against plain BM25 and dense
    /// baselines that do not spread). Measured over set D and the five
    /// language sets, hybrid, 2026-12-07: distinct files in the top ten,
    /// the worst change of chunk-level MRR@10 of any kind on any set, and
    /// set D's typed R@10 (the retrieval issue's target: .70):
    ///
    /// | head, head per file, per file after | files | worst MRR@10 | D typed R@10 |
    /// |---|---|---|---|
    /// | no spreading (until 2026-12-07) | 3.7–6.8 | — | .768 |
    /// | 0, —, 2 with `second_in_file` 0.8 | 8.3 (set D) | −.029 (D docstring) | .675 |
    /// | 3, 3, 1 | 8.6–9.4 | −.020 (Java question) | .689 |
    /// | 4, 3, 1 | 8.2–9.2 | −.016 (D question) | .689 |
    /// | 4, 3, 1, and any of the first ten within 10 % of the best score | 8.1–9.1 | −.018 (Go question) | .702 |
    /// | 5, 3, 1 | 7.8–8.9 | −.016 (Go question) | .722 |
    /// | **5, 3, 1, near the best 0.66** | **8.0–9.2** | **−.016 (Go question)** | **.722** |
    /// | 5, 2, 1 | 8.6–9.2 | −.040 (Go question) | .682 |
    /// | 5, any, 1 | 7.2–8.7 | −.016 (Go question) | .722 |
    /// | 5, 3, 2 with `second_in_file` 0.3 or 0.5 | 7.6–8.9 | −.016 (Go question) | .722 |
    ///
    /// At 5, 3, 1 every set's files rank better (file-level nDCG@10 +.001
    /// to +.027, file MRR@10 +.000 to +.012), set D has 8.26 files in the
    /// ten, the language sets 7.84 (Go) to 8.87 (TypeScript); three kinds
    /// lose more than .01 of chunk MRR@10 (Go's questions .016 and
    /// docstrings .012, Java's questions .014; 26 to 120 queries), and
    /// chunk R@10 falls by .00 to .12: a target that is the fourth match
    /// of a file already shown is folded under that file. At the file
    /// level (the ranking issue's measure) no kind of any set loses.
    pub spread_after: usize,
    /// See `spread_after`.
    pub head_per_file: usize,
    /// See `spread_after`.
    pub per_file: usize,
    /// In the head, a file's second or third result stays only if it
    /// scores at least this share of the first answer's score; a weaker
    /// one is folded under its file like the chunks after the head: a
    /// large file's many middling matches (cobra's `command.go`) crowded
    /// the first five. Over the six sets, hybrid, against 0 (2026-12-07),
    /// at 0.66: distinct files in the top ten +.12 to +.35 (Go 7.84 ->
    /// 8.02, set D 8.26 -> 8.46, TypeScript 8.87 -> 9.22) and symbol
    /// queries' +1.3 to +1.7 (a definition lifted above all leaves every
    /// other match of its file far from it); chunk MRR@10 of set D's
    /// docstrings -.007 (R@10 -.015; their "Non-panicking version of
    /// `ArgMatches::get_one`" finds `get_one`, and `try_get_one`, next in
    /// the file, is folded) and C/C++'s docstrings -.004, every other kind
    /// unchanged; file-level figures unchanged or up. 0.65 holds Go at
    /// exactly 8.00; 0.67 and 0.68 cost set D's docstrings .010 and its
    /// typed R@10 .007; 0.7 -.013; 0.8 gives 8.4-9.5 files but costs Go's
    /// docstrings .008, set D's .018 and C/C++'s questions .012. A head
    /// of 6, 7 or 10 with 0.7-0.8 keeps more of a file near the top and
    /// shows fewer files (Go 7.7-8.1) at the same cost to set D.
    pub head_near_best: f32,
    /// A file's later chunk (after the head) scores this share of its own
    /// score for each result its file already has, so that another file's
    /// good match comes before a file's next-best when `per_file` allows
    /// more than one. 1.0 (no discount) by default: `per_file` is 1.
    pub second_in_file: f32,
    /// The score of files that are not code (lists, lockfiles, changelogs,
    /// minified or vendored files) is multiplied by this: they share a
    /// name's words without saying what it does. Below test code; set D
    /// has no such file, so this is the why without a measurement (a unit
    /// test holds a name's API listing below its uses).
    pub not_code_factor: f32,
    /// Each file's best chunk is lifted by its file's other matches (see
    /// `lift_by_file`) with this weight; off (0) by default. Set D, hybrid:
    /// at 0.1 question queries gain at file level (file MRR@10 .645 -> .661,
    /// file nDCG@10 .689 -> .724) but every kind loses at chunk level
    /// (docstring MRR@10 .478 -> .445, typed .457 -> .442), below the
    /// retrieval targets; 0.3 loses more.
    pub file_support: f32,
    /// In hybrid search, from this many content words on (a sentence that
    /// describes), a chunk's name adds keyword weight only when it holds two
    /// of the query's words: `CheckRun` or `Register` holding one word of
    /// "run the registered shutdown callbacks in the reverse order of
    /// registration" is weak evidence, and the name vector (mixed in by
    /// [`Ranking::name_weight`]) still weighs names by meaning. Keyword
    /// search alone keeps every name match: there the name field is the
    /// only evidence of names. MRR@10, hybrid, against every name counting
    /// (2026-12-05): set D docstring .478 -> .481, question .422 -> .430,
    /// typed .457 -> .464 (R@10 .709 -> .715); Go .553 -> .565 / .618 ->
    /// .623; TypeScript .554 -> .551 / .836 -> .858; Java .619 -> .618 /
    /// .696 -> .697; C# .467 -> .473 / .545 -> .552; C/C++ .551 -> .549 /
    /// .713 -> .708 (docstring / question). From 7 words C#'s and C/C++'s
    /// docstrings lose .013-.017; from 10 the gains halve. In keyword search
    /// alone the same rule gains set D .006-.023 but costs C/C++ questions
    /// .043 (a one-word name such as `broadcast` is often the answer there).
    pub two_word_names_from: usize,
    /// The query is embedded without the punctuation that closes it (a
    /// trailing `?`, `.` or `!`): MiniLM reads the question mark as a word,
    /// and it moves a question's vector away from the code that answers it.
    /// MRR@10, hybrid, against the query embedded as typed (2026-12-06):
    /// set D question .430 -> .443 (the 15 questions that end in `?`: six
    /// rank their answer higher, none lower), typed .464 -> .472, docstring
    /// .481 -> .486; TypeScript docstring .551 -> .555, C/C++ .549 -> .561,
    /// C# .473 -> .471, Go and Java unchanged (R@10 up on both); no
    /// question of the language sets ends in `?`. Dropping commas too lost
    /// set D's questions .004; dropping a leading "how is" or "where are"
    /// as well gained .002 (one query) and was left out.
    pub trim_closing_punctuation: bool,
    /// A query that is nothing but a file's name or workspace path
    /// (`client.py`, `net/client.py`) ranks that file's chunks first, and
    /// is not read as a qualified name. Typed into the sidebar or the
    /// picker, "client.py" put `uploader.py`'s `__init__` (which mentions
    /// the client) above every chunk of `client.py`. No query of set D or
    /// the language sets is a file name: their figures are unchanged
    /// (2026-12-06); a test holds the rule.
    pub files_named_first: bool,
    /// A query that begins with "return" or "returns" describes what a
    /// function gives back, and such functions are often named for it with
    /// `get` ("return the bool value of a flag with the given name" is
    /// Go's `GetBool`, "Returns the name" Java's `getName`): in keyword
    /// scoring a name holding `get` and another of the query's words counts
    /// once more, at this share of the name's weight (0: off). It needs the
    /// other word, so a getter of something else gains nothing. MRR@10
    /// (2026-12-06), docstring sentences, off -> 1: Go keyword alone .454
    /// -> .557 and hybrid .606 -> .697 (pflag's 25 getters, whose docs all
    /// read "return the T value of a flag with the given name", rise from
    /// below the ten or 7th-9th to 1st-4th; cobra's `UsageTemplate` for
    /// "returns usage template for the command" falls 2nd -> 5th in keyword
    /// search alone), C# keyword .413 -> .417, C/C++ keyword .419 -> .417,
    /// set D keyword .388 -> .384; hybrid elsewhere within .004 (Java
    /// docstring .626 -> .622), questions within .001. At 2 Go's questions
    /// lose .019 in hybrid; at 3 C/C++ keyword docstrings lose .013
    /// without the other word required.
    pub returns_getter: f32,
    /// In hybrid search, a query word's related words
    /// ([`dowse_index::tokenizer::related`]: `delete`, `drop` for "remove";
    /// `init` for "start") count in a chunk's text at this share of the
    /// word's weight (0: off): a question names an action in its own words,
    /// the code in its. MRR@10 (2026-12-07), hybrid, off -> 0.6, question /
    /// docstring: set D .456 -> .505 / .488 -> .490 (typed .493 -> .526,
    /// handwritten .565 -> .568); TypeScript .883 -> .884 / .551 -> .558; Go
    /// .619 -> .683 / .697 -> .694; Java .736 -> .741 / .622 -> .628; C#
    /// .575 -> .577 / .537 -> .532; C/C++ .695 -> .706 / .552 -> .558;
    /// symbol R@1 nowhere lower. 0.5 and 0.7 measure within .02 of 0.6 on
    /// every kind (0.7: set D's questions .513, Go's docstrings -.009); 1.0
    /// costs C#'s questions .028. The table was written after reading set
    /// D's question misses: without the seven groups its words could have
    /// come from (remove, store, split, join, print, create, check) set D's
    /// questions still gain .033, the language sets' the same; without the
    /// six that name command-line and template things as much as code in
    /// general (template, flag, command, cache, escape, environment) Go's
    /// questions gain .043 instead of .064 and C/C++'s .002. Keyword
    /// search alone has its own weight, [`Ranking::keyword_related_words`].
    pub related_words: f32,
    /// The same in keyword search alone (`--mode lexical`, and hybrid without a
    /// model), at a lower weight: there nothing else weighs meaning, and a
    /// related word that is the corpus's everyday word (cobra's `cmd` for
    /// "command") crowds the query's own words. MRR@10 / R@10 of keyword
    /// search, off -> 0.35 (2026-12-07): set D question .359 -> .403 / .570 ->
    /// .630, typed .391 -> .430, docstring .384 -> .392; TypeScript question
    /// .728 -> .758 (plain BM25 over the same chunks .757), docstring .553 ->
    /// .544; Go question .478 -> .464 / .769 -> .846, docstring .557 -> .554;
    /// Java question .636 -> .652; C# question .501 -> .503 / .667 -> .708
    /// (BM25 .708: one question, "run the registered shutdown callbacks ...",
    /// now finds `ExecuteShutdownHandlers` 10th, through run/execute); C/C++
    /// question .619 -> .615; symbol R@1 nowhere lower. Sweep: every kind at or
    /// above plain BM25 only at 0.35. At 0.3 TypeScript's questions stay below
    /// it (.742) and C#'s R@10 (.667); at 0.4 C#'s questions fall to .478 and
    /// Go's docstrings to .548 (BM25 .549); at 0.5 Go's questions too (.455 /
    /// .459). Set D gains at every weight from 0.2 (+.023 typed) to 0.5
    /// (+.055). At 0.5, skipping related words held by more than 5% or 15% of
    /// the chunks, or related words for queries under 7 or 9 words, fixed none
    /// of those losses. The margins are one question each: a fit to these sets,
    /// kept for set D's gain.
    pub keyword_related_words: f32,
}

/// How hybrid search combines its two rankings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fusion {
    /// Every candidate scored on both signals: BM25 over the candidates'
    /// maximum and meaning min-max over the candidates, mixed with this
    /// weight for keywords. Better than RRF by .04 MRR@10 on typed queries:
    /// a candidate found by one side is not penalised for a low rank on the
    /// other. 0.45 against 0.4 and 0.5: flat between them.
    Normalized { lexical_weight: f32 },
    /// Reciprocal rank fusion, for comparison.
    Rrf { k: f32 },
}

impl Default for Ranking {
    fn default() -> Ranking {
        Ranking {
            fusion: Fusion::Normalized {
                lexical_weight: 0.45,
            },
            candidates: 50,
            name_words: (6, 12),
            test_factor: 0.7,
            whole_definitions: true,
            definitions_first: true,
            sentence_name_lift: 0.05,
            spread_after: 5,
            head_per_file: 3,
            per_file: 1,
            head_near_best: 0.66,
            second_in_file: 1.0,
            not_code_factor: 0.5,
            file_support: 0.0,
            two_word_names_from: 8,
            trim_closing_punctuation: true,
            files_named_first: true,
            returns_getter: 1.0,
            related_words: 0.6,
            keyword_related_words: 0.35,
        }
    }
}

impl Ranking {
    /// How much a chunk's name counts for this query, from 1 (a short query
    /// such as "parse a duration" or `parse_duration`, which names the thing)
    /// to 0 (a long one, "write the cache entry to a temporary file, then
    /// move it over the old one", which describes how the code works),
    /// linear in between. It weighs the `symbol` field in keyword search and
    /// the name vector in search by meaning. One setting for all queries
    /// loses either way, measured on set D: names fully weighted, question
    /// queries fall to .24 MRR@10; names ignored, docstring sentences (which
    /// paraphrase the name) fall from .48 to .44.
    pub fn name_weight(&self, query: &str) -> f32 {
        let (names, describes) = self.name_words;
        let words = tokenizer::content_words(query);
        if words <= names {
            1.0
        } else if words >= describes {
            0.0
        } else {
            (describes - words) as f32 / (describes - names) as f32
        }
    }
}

impl Ranking {
    /// The text of `query` that search by meaning embeds (see
    /// [`Ranking::trim_closing_punctuation`]).
    pub fn meaning_text<'q>(&self, query: &'q str) -> &'q str {
        if !self.trim_closing_punctuation {
            return query;
        }
        match query
            .trim_end()
            .trim_end_matches(['?', '.', '!'])
            .trim_end()
        {
            "" => query,
            trimmed => trimmed,
        }
    }

    /// The keyword weights of `query` in `mode`: the whole text, and the
    /// chunk's name by [`Ranking::name_weight`], a name holding two of the
    /// query's words in hybrid search from [`Ranking::two_word_names_from`]
    /// content words on.
    pub(crate) fn boosts(&self, query: &str, mode: super::SearchMode) -> Boosts {
        let two_words = mode == super::SearchMode::Hybrid
            && tokenizer::content_words(query) >= self.two_word_names_from;
        Boosts {
            content: 1.0,
            symbol: self.name_weight(query),
            symbol_min_terms: if two_words { 2 } else { 1 },
            getter: if describes_a_return(query) {
                self.returns_getter
            } else {
                0.0
            },
            related: if mode == super::SearchMode::Hybrid {
                self.related_words
            } else {
                self.keyword_related_words
            },
        }
    }
}

/// Whether `query` begins as a description of what a function returns
/// ("Returns the …", "return the …", "This will return …"): its first word
/// that is not a stop word.
fn describes_a_return(query: &str) -> bool {
    query
        .split_whitespace()
        .map(str::to_lowercase)
        .find(|word| !tokenizer::STOP_WORDS.contains(&word.as_str()))
        .is_some_and(|word| matches!(word.as_str(), "return" | "returns"))
}

/// The similarity of a query to a chunk whose body and name vectors are
/// mixed with weight `w` for the name: the cosine with the unit vector of
/// `body + w·name`, computed from the cosines alone.
pub(super) fn mixed_similarity(cos_body: f32, cos_name: f32, body_dot_name: f32, w: f32) -> f32 {
    if w == 0.0 {
        return cos_body;
    }
    let norm = (1.0 + w * w + 2.0 * w * body_dot_name)
        .max(f32::EPSILON)
        .sqrt();
    (cos_body + w * cos_name) / norm
}

#[cfg(test)]
mod tests {
    use super::{Ranking, mixed_similarity};

    #[test]
    fn a_query_is_embedded_without_its_closing_punctuation() {
        let ranking = Ranking::default();
        assert_eq!(
            ranking.meaning_text("where do we retry failed uploads?"),
            "where do we retry failed uploads"
        );
        assert_eq!(
            ranking.meaning_text("Parse a duration. "),
            "Parse a duration"
        );
        // Punctuation inside stays, and a query of punctuation alone is
        // embedded as it is.
        assert_eq!(ranking.meaning_text("is `a.b` set?!"), "is `a.b` set");
        assert_eq!(ranking.meaning_text("?"), "?");
        let typed = Ranking {
            trim_closing_punctuation: false,
            ..Ranking::default()
        };
        assert_eq!(typed.meaning_text("retry?"), "retry?");
    }

    #[test]
    fn a_query_that_begins_with_returns_asks_for_getters() {
        let ranking = Ranking::default();
        let getter = |query: &str| {
            ranking
                .boosts(query, super::super::SearchMode::Hybrid)
                .getter
        };
        assert_eq!(getter("Returns the name of the flag"), 1.0);
        assert_eq!(getter("return the bool value"), 1.0);
        assert_eq!(getter("This will return a new instance"), 1.0);
        assert_eq!(getter("where do we return early"), 0.0);
        assert_eq!(getter("returned values are cached"), 0.0);
    }

    #[test]
    fn mixing_names_in_is_the_cosine_with_the_mixed_vector() {
        // Orthogonal unit body and name: the mix is their normalised sum.
        let mixed = mixed_similarity(1.0, 0.0, 0.0, 1.0);
        assert!((mixed - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(mixed_similarity(0.3, 0.9, 0.5, 0.0), 0.3);
    }
}
