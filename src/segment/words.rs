//! Word tokenisation close to CoNLL-2003 / Penn Treebank conventions.
//!
//! The NER models were trained on CoNLL-style tokens, and gold corpora are compared token for
//! token, so tokens should fall where those corpora put them: punctuation and quotes apart,
//! clitics split the PTB way ("Russia" "'s", "do" "n't"), but numbers ("1,000", "1996-08-22",
//! "12:30"), hyphenated words ("Anglo-Dutch"), dotted abbreviations ("U.S.", "Mr."), URLs,
//! e-mail addresses and @handles kept whole. Entity boundaries are token boundaries, so
//! splitting a name is worse than keeping a rare oddity whole.
//!
//! One regex with ordered alternatives finds candidate tokens (leftmost-first, so an earlier
//! alternative wins at the same position); clitics and abbreviation full stops, which need a
//! word list or the sentence end, are settled afterwards in code.

use regex::Regex;

use super::sentences::is_closing;
use super::{is_dotted, is_initial, Abbreviations};
use crate::document::Span;
use crate::offsets::CharIndex;

/// The alternatives, tried in order at each position. Whitespace matches none of them, so it
/// separates tokens without being one.
const PATTERN: &str = r#"(?x)
    (?P<url> (?:https?://|www\.) [^\s<>"“”]* [^\s<>"“”.,;:!?)\]'’] )
  | (?P<email> [\w+\-]+ (?:\.[\w+\-]+)* @ [\w\-]+ (?:\.[\w\-]+)+ )
  | (?P<handle> [@\#] \w+ )
  | (?P<domain> [\p{L}\p{N}\-]+ (?:\.[\p{L}\p{N}\-]+)* \. (?:com|org|net|gov|edu|int) \b )
  # Dotted abbreviations, also as the first part of a compound: U.S., e.g., a.m., U.S.-led
  | (?P<dotted> (?:\p{L}\.){2,} (?:-[\p{L}\p{N}]+)* )
  # Currency signs with a country prefix, written against the amount: C$, US$, HK$
  | (?P<currency> \p{Lu}{1,3} \$ )
  # Signed numbers, bare decimals and phone numbers: +0.435, -5, .496, +27-11
  | (?P<signed> [+\-−]? \. \p{N}+ | [+\-−] \p{N}+ (?:[.,:/\-]\p{N}+)* )
  # Words and numbers, joined by hyphens or ampersands: Anglo-Dutch, 1996-08-22, 6-2, AT&T.
  # A number part may hold , . : / between digits; a word part inner apostrophes (O'Brien,
  # and clitics, split later).
  | (?P<word>
        (?: \p{N}+ (?:[.,:/]\p{N}+)+ [\p{L}\p{M}\p{N}]* | [\p{L}\p{M}\p{N}]+ (?:['’][\p{L}\p{M}\p{N}]+)* )
        (?: [\-‐‑&]
            (?: \p{N}+ (?:[.,:/]\p{N}+)+ [\p{L}\p{M}\p{N}]* | [\p{L}\p{M}\p{N}]+ (?:['’][\p{L}\p{M}\p{N}]+)* )
        )*
    )
  # Clitics written apart ("Russia 's"): the apostrophe is not an opening quote here.
  | (?P<clitic> ['’] (?i:s|m|d|ll|re|ve) \b )
  | (?P<run> \.{2,} | -{2,} | …)
  | (?P<other> \S \p{M}* )
"#;

/// PTB clitics, split off the end of a word (lower-cased, straight apostrophe).
const CLITICS: &[&str] = &["n't", "'s", "'m", "'d", "'ll", "'re", "'ve"];

#[derive(Debug, Clone)]
pub(crate) struct WordTokenizer {
    re: Regex,
}

impl WordTokenizer {
    pub(crate) fn new() -> Self {
        WordTokenizer {
            re: Regex::new(PATTERN).expect("token pattern compiles"),
        }
    }

    /// Tokens inside the character span `within` of the text that `ix` indexes.
    pub(crate) fn tokens(
        &self,
        ix: &CharIndex,
        within: Span,
        abbrevs: &Abbreviations,
    ) -> Vec<Span> {
        let len = ix.char_len();
        let (start, end) = (within.start.min(len), within.end.min(len));
        if start >= end {
            return Vec::new();
        }
        let (Some(base), Some(stop)) = (ix.byte(start), ix.byte(end)) else {
            return Vec::new();
        };
        let hay = &ix.text()[base..stop];
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some(caps) = self.re.captures_at(hay, pos) {
            let m = caps.get(0).expect("group 0 always matches");
            let mut pieces: Vec<(usize, usize)> = vec![(m.start(), m.end())];
            if caps.name("word").is_some() {
                let first = hay[..m.start()].trim().is_empty();
                pieces = split_word(hay, m.start(), m.end(), abbrevs, first);
            }
            pos = pieces.last().map_or(m.end(), |p| p.1);
            for (s, e) in pieces {
                let (Some(s), Some(e)) = (ix.char(base + s), ix.char(base + e)) else {
                    continue;
                };
                out.push(Span::new(s, e));
            }
        }
        out
    }
}

/// Settle a `word` match `hay[s..e]`: split a final clitic, or take the full stop that follows
/// when the word is an abbreviation, or a suspended hyphen. `first` says the word opens the
/// span.
fn split_word(
    hay: &str,
    s: usize,
    e: usize,
    abbrevs: &Abbreviations,
    first: bool,
) -> Vec<(usize, usize)> {
    let word = &hay[s..e];
    if let Some(cut) = clitic_start(word) {
        return vec![(s, s + cut), (s + cut, e)];
    }
    let rest = &hay[e..];
    // A suspended hyphen stays with its word: "pre- and post-war", "43- month".
    if rest.starts_with('-') && rest[1..].starts_with(char::is_whitespace) {
        return vec![(s, e + 1)];
    }
    if !rest.starts_with('.') || rest.starts_with("..") {
        return vec![(s, e)];
    }
    // Where the sentence is over after this full stop (only closing quotes, brackets and
    // space follow), the full stop is the sentence's own, except after a known abbreviation,
    // which has no second full stop to give ("... of Acme Corp.").
    let final_stop = rest[1..]
        .chars()
        .all(|c| c.is_whitespace() || is_closing(c));
    let numbering = first && word.chars().all(|c| c.is_ascii_digit()) && !final_stop;
    let keep =
        abbrevs.is_known(word) || is_dotted(word) || (is_initial(word) && !final_stop) || numbering;
    if keep {
        vec![(s, e + 1)]
    } else {
        vec![(s, e)]
    }
}

/// Byte offset in `word` where a final clitic starts, if it has one and something before it.
fn clitic_start(word: &str) -> Option<usize> {
    let normal = word.replace('’', "'").to_lowercase();
    // `to_lowercase` and the apostrophe swap can change lengths; count back in characters.
    let clitic = CLITICS.iter().find(|c| normal.ends_with(*c))?;
    let n = clitic.chars().count();
    let cut = word.char_indices().rev().nth(n - 1)?.0;
    (cut > 0).then_some(cut)
}

#[cfg(test)]
mod tests {
    use super::super::Segmenter;
    use crate::document::Span;

    fn toks(text: &str) -> Vec<String> {
        let seg = Segmenter::new();
        let n = text.chars().count();
        seg.tokens(text, Span::new(0, n))
            .iter()
            .map(|s| text.chars().skip(s.start).take(s.len()).collect())
            .collect()
    }

    #[test]
    fn punctuation_is_split() {
        assert_eq!(
            toks("Hello, world (really): \"yes\"; no! Why?"),
            [
                "Hello", ",", "world", "(", "really", ")", ":", "\"", "yes", "\"", ";", "no", "!",
                "Why", "?"
            ]
        );
        assert_eq!(
            toks("“Quoted” and ‘single’ -- done..."),
            ["“", "Quoted", "”", "and", "‘", "single", "’", "--", "done", "..."]
        );
    }

    #[test]
    fn abbreviations_keep_their_dots() {
        assert_eq!(
            toks("Mr. Smith of the U.S. and U.N. met J. Doe on Jan. 5 at Acme Inc."),
            [
                "Mr.", "Smith", "of", "the", "U.S.", "and", "U.N.", "met", "J.", "Doe", "on",
                "Jan.", "5", "at", "Acme", "Inc."
            ]
        );
        // A sentence-final full stop after an ordinary word or an initial is its own token.
        assert_eq!(
            toks("They won Group B."),
            ["They", "won", "Group", "B", "."]
        );
        assert_eq!(
            toks("He left the U.S.."),
            ["He", "left", "the", "U.S.", "."]
        );
        assert_eq!(toks("It ended."), ["It", "ended", "."]);
    }

    #[test]
    fn numbers_stay_whole() {
        assert_eq!(
            toks("1,000 people paid $3.5 on 1996-08-22 at 12:30, 1/2 of them +0.435 .496 6-2."),
            [
                "1,000",
                "people",
                "paid",
                "$",
                "3.5",
                "on",
                "1996-08-22",
                "at",
                "12:30",
                ",",
                "1/2",
                "of",
                "them",
                "+0.435",
                ".496",
                "6-2",
                "."
            ]
        );
        assert_eq!(toks("3. Ian Woosnam 67"), ["3.", "Ian", "Woosnam", "67"]);
        assert_eq!(
            toks("fell C$0.45 to US$ 3, call +27-11 482 1003"),
            ["fell", "C$", "0.45", "to", "US$", "3", ",", "call", "+27-11", "482", "1003"]
        );
        assert_eq!(toks("It rose 5%."), ["It", "rose", "5", "%", "."]);
    }

    #[test]
    fn hyphens_urls_emails_handles() {
        assert_eq!(
            toks("Anglo-Dutch Al-Qaeda 20-year-old AT&T U.S.-led pre- and post-war"),
            [
                "Anglo-Dutch",
                "Al-Qaeda",
                "20-year-old",
                "AT&T",
                "U.S.-led",
                "pre-",
                "and",
                "post-war"
            ]
        );
        assert_eq!(
            toks("See https://example.com/a?b=1. Mail jeffrey.hodgson@reuters.com, @Reuters."),
            [
                "See",
                "https://example.com/a?b=1",
                ".",
                "Mail",
                "jeffrey.hodgson@reuters.com",
                ",",
                "@Reuters",
                "."
            ]
        );
    }

    #[test]
    fn clitics_split_the_ptb_way() {
        assert_eq!(
            toks("Russia's envoy don't can't I'm O'Brien's Eagles' SILVA'S"),
            [
                "Russia", "'s", "envoy", "do", "n't", "ca", "n't", "I", "'m", "O'Brien", "'s",
                "Eagles", "'", "SILVA", "'S"
            ]
        );
        assert_eq!(toks("Iran’s didn’t"), ["Iran", "’s", "did", "n’t"]);
        assert_eq!(toks("Russia 's"), ["Russia", "'s"]);
        assert_eq!(toks("'keep it'"), ["'", "keep", "it", "'"]);
    }

    #[test]
    fn non_ascii_offsets_are_characters() {
        let text = "Iran’s envoy in Zürich 🙂 said “no”—twice.";
        let seg = Segmenter::new();
        let spans = seg.tokens(text, Span::new(0, text.chars().count()));
        let got: Vec<(usize, usize)> = spans.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(
            got,
            [
                (0, 4),
                (4, 6),
                (7, 12),
                (13, 15),
                (16, 22),
                (23, 24),
                (25, 29),
                (30, 31),
                (31, 33),
                (33, 34),
                (34, 35),
                (35, 40),
                (40, 41)
            ]
        );
    }

    #[test]
    fn tokens_stay_inside_the_span() {
        let text = "First one. Mr. Smith left.";
        let seg = Segmenter::new();
        let spans = seg.tokens(text, Span::new(11, 26));
        assert_eq!(spans.first(), Some(&Span::new(11, 14)));
        assert_eq!(spans.last(), Some(&Span::new(25, 26)));
        assert!(seg.tokens(text, Span::new(30, 40)).is_empty());
    }
}
