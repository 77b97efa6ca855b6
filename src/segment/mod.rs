//! Splitting raw text into sentences and word tokens, and the reverse: rebuilding raw text from
//! pre-tokenised corpora so that the splitter can be measured against them.
//!
//! Models downstream see one sentence at a time and align their subword pieces to word tokens,
//! so every later stage inherits the mistakes made here. The rules target English news wire:
//! one paragraph or headline per line, datelines without punctuation, abbreviations such as
//! "U.S." and "Mr." that end in a full stop without ending the sentence.
//!
//! Every span is in characters (code points) of the original text; byte offsets never leave
//! this module (conversions go through [`crate::offsets::CharIndex`]).

mod detok;
mod evaluate;
mod sentences;
mod words;

use std::collections::HashSet;

pub use detok::{detokenize, detokenize_document};
pub use evaluate::{
    sentence_boundaries, sentence_boundary_errors, token_spans, BoundaryError, BoundaryScores,
};

use crate::document::{Document, Span};
use crate::offsets::CharIndex;

/// Titles written before a name: a full stop after them never ends a sentence.
const TITLES: &[&str] = &[
    "Mr", "Mrs", "Ms", "Messrs", "Mme", "Dr", "Prof", "Gen", "Sen", "Rep", "Gov", "Lt", "Col",
    "Capt", "Cpt", "Sgt", "Maj", "Adm", "Cmdr", "Brig", "Rev", "Hon", "Pres", "Supt", "Insp",
    "Det", "Fr", "Sr", "Mt", "Ft", "vs", "v",
];

/// Abbreviations that are followed by a number ("No. 3", "Jan. 16"): after them a full stop
/// ends the sentence only when no number follows.
const BEFORE_NUMBERS: &[&str] = &[
    "No", "Nos", "Art", "Vol", "Fig", "pp", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep",
    "Sept", "Oct", "Nov", "Dec",
];

/// Abbreviations that often sit mid-sentence but may also end one ("... of Acme Corp."), so the
/// splitter looks at the next word before deciding.
const OTHERS: &[&str] = &[
    "Inc", "Corp", "Co", "Ltd", "Bros", "Jr", "St", "Ave", "Rd", "Blvd", "Dept", "Univ", "Assn",
    "etc", "al", "approx", "est", "cf", "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Del",
    "Fla", "Ga", "Ill", "Ind", "Kan", "Ky", "La", "Md", "Mich", "Minn", "Miss", "Mo", "Mont",
    "Neb", "Nev", "Okla", "Ore", "Pa", "Tenn", "Tex", "Va", "Vt", "Wash", "Wis", "Wyo",
];

/// What kind of abbreviation a word before a full stop is; decides how the splitter treats
/// that full stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbbrevKind {
    /// Never ends a sentence ("Mr.").
    Title,
    /// Ends a sentence unless a number follows ("No.", "Jan.").
    BeforeNumber,
    /// Ends a sentence only before a typical sentence opener ("U.S.", "Inc.", "J.").
    Ambiguous,
}

/// The abbreviation lists, looked up case-sensitively (with an all-capitals variant for
/// headlines) so that the words "no." or "co." in running text are not mistaken for them.
#[derive(Debug, Clone)]
pub(crate) struct Abbreviations {
    titles: HashSet<String>,
    before_numbers: HashSet<String>,
    others: HashSet<String>,
}

impl Default for Abbreviations {
    fn default() -> Self {
        let set = |words: &[&str]| -> HashSet<String> {
            words
                .iter()
                .flat_map(|w| [w.to_string(), w.to_uppercase()])
                .collect()
        };
        Abbreviations {
            titles: set(TITLES),
            before_numbers: set(BEFORE_NUMBERS),
            others: set(OTHERS),
        }
    }
}

impl Abbreviations {
    /// Classify `word`, given without its final full stop ("Mr", "U.S", "J").
    pub(crate) fn kind(&self, word: &str) -> Option<AbbrevKind> {
        if self.titles.contains(word) {
            Some(AbbrevKind::Title)
        } else if self.before_numbers.contains(word) {
            Some(AbbrevKind::BeforeNumber)
        } else if self.others.contains(word) || is_initial(word) || is_dotted(word) {
            Some(AbbrevKind::Ambiguous)
        } else {
            None
        }
    }

    /// Whether `word` (without its final full stop) keeps the full stop as part of its token.
    pub(crate) fn is_known(&self, word: &str) -> bool {
        self.titles.contains(word)
            || self.before_numbers.contains(word)
            || self.others.contains(word)
    }
}

/// A single capital letter: the initial in "J. Smith".
pub(crate) fn is_initial(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
}

/// Letters separated by full stops, the final one already removed: "U.S", "e.g", "U.N".
pub(crate) fn is_dotted(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
}

/// Sentence splitter and word tokenizer, built once and shared (it holds compiled regexes).
#[derive(Debug, Clone)]
pub struct Segmenter {
    abbrevs: Abbreviations,
    sentences: sentences::Splitter,
    words: words::WordTokenizer,
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter::new()
    }
}

impl Segmenter {
    pub fn new() -> Self {
        Segmenter {
            abbrevs: Abbreviations::default(),
            sentences: sentences::Splitter::new(),
            words: words::WordTokenizer::new(),
        }
    }

    /// Sentence spans covering the non-whitespace text, each trimmed of surrounding whitespace.
    pub fn sentences(&self, text: &str) -> Vec<Span> {
        self.sentences
            .split(text, &CharIndex::new(text), &self.abbrevs)
    }

    /// Word tokens inside `within` (clamped to the text).
    pub fn tokens(&self, text: &str, within: Span) -> Vec<Span> {
        self.words
            .tokens(&CharIndex::new(text), within, &self.abbrevs)
    }

    /// Fill `doc.sentences` if empty and `doc.tokens` if empty. Existing tokens are never
    /// replaced: pre-tokenised input keeps its own tokenisation even when sentences are missing.
    pub fn segment(&self, doc: &mut Document) {
        let ix = CharIndex::new(&doc.text);
        if doc.sentences.is_empty() {
            doc.sentences = self.sentences.split(&doc.text, &ix, &self.abbrevs);
        }
        if doc.tokens.is_empty() {
            doc.tokens = doc
                .sentences
                .iter()
                .flat_map(|&s| self.words.tokens(&ix, s, &self.abbrevs))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, spans: &[Span]) -> Vec<String> {
        let ix = CharIndex::new(text);
        spans
            .iter()
            .map(|s| ix.slice(s.start, s.end).unwrap().to_string())
            .collect()
    }

    #[test]
    fn abbreviation_kinds() {
        let a = Abbreviations::default();
        assert_eq!(a.kind("Mr"), Some(AbbrevKind::Title));
        assert_eq!(a.kind("GEN"), Some(AbbrevKind::Title));
        assert_eq!(a.kind("Jan"), Some(AbbrevKind::BeforeNumber));
        assert_eq!(a.kind("U.S"), Some(AbbrevKind::Ambiguous));
        assert_eq!(a.kind("J"), Some(AbbrevKind::Ambiguous));
        assert_eq!(a.kind("Corp"), Some(AbbrevKind::Ambiguous));
        assert_eq!(a.kind("no"), None);
        assert_eq!(a.kind("said"), None);
        assert!(!is_dotted("U.Sa"));
    }

    #[test]
    fn segment_fills_sentences_and_tokens() {
        let seg = Segmenter::new();
        let mut doc = Document::new("d", "Mr. Smith went to Zürich. He didn’t stay 🙂.");
        seg.segment(&mut doc);
        assert_eq!(
            texts(&doc.text, &doc.sentences),
            ["Mr. Smith went to Zürich.", "He didn’t stay 🙂."]
        );
        assert_eq!(
            texts(&doc.text, &doc.tokens),
            [
                "Mr.", "Smith", "went", "to", "Zürich", ".", "He", "did", "n’t", "stay", "🙂", "."
            ]
        );
    }

    #[test]
    fn segment_keeps_existing_tokens() {
        let seg = Segmenter::new();
        let mut doc = Document::new("d", "A b. C d.");
        doc.tokens = vec![Span::new(0, 4), Span::new(5, 9)];
        seg.segment(&mut doc);
        assert_eq!(doc.tokens, vec![Span::new(0, 4), Span::new(5, 9)]);
        assert_eq!(doc.sentences, vec![Span::new(0, 4), Span::new(5, 9)]);
    }
}
