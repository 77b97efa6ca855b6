//! Sentence splitting for raw English news.
//!
//! Unicode's sentence boundaries (UAX #29, from `unicode-segmentation`) already do most of the
//! work that a news splitter needs: no break inside decimals ("3.5") or dotted capitals
//! ("U.S"), none before a lower-case continuation ("U.S. officials"), closing quotes and
//! brackets kept with the sentence they close (`."`, `.)`), dashes never a boundary, and a
//! break after every line break, which is how headlines and datelines without final
//! punctuation end. What it cannot know is English abbreviations: it breaks "Mr. | Smith",
//! "Jan. | 16", "J. | Smith" and "U.S. | Treasury". So its boundaries are candidates, and this
//! module takes some of them back. It adds only one kind: a free-standing dash after a full
//! stop, which UAX #29 treats as a continuation but which in news opens a sign-off ("-- Warsaw
//! Newsroom") or a bulleted item.

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

use super::{AbbrevKind, Abbreviations};
use crate::document::Span;
use crate::offsets::CharIndex;

/// Words that typically open a sentence. After an ambiguous abbreviation ("U.S.", "Inc.", an
/// initial) a capitalised word is far more often a name continuing the sentence ("U.S.
/// Treasury", "J. Smith"); these function words are the evidence that a new sentence starts.
const STARTERS: &str = "\
    The A An He She It They We I You His Her Its Their Our My Your This That These Those \
    There Here But And Or So Yet In On At For From With By As If When While After Before \
    Although Though Because Since Some Many Most All Both Each No Not Now Then Also However \
    Meanwhile Still What Who Why How Where Last Earlier Later Under Only Even Despite During \
    According Other Others Asked Analysts Officials Police";

/// Sentence splitter: UAX #29 candidates, corrected.
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    /// A full stop (or ? !), closing quotes or brackets, then a free-standing dash: a Reuters
    /// sign-off ("said. -- Warsaw Newsroom") or a bulleted item ("exports. - Speaker of ...").
    /// UAX #29 never breaks before a dash (rule SB8a), so these become candidates here; the
    /// group is the space before the dash.
    dash_after_stop: Regex,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Splitter {
            dash_after_stop: Regex::new(r#"[.!?…]['"”’)\]]*(\s+)(?:-{1,3}|–|—)\s"#)
                .expect("dash pattern compiles"),
        }
    }

    /// Split `text` into trimmed sentence spans (characters). `ix` indexes `text`.
    pub(crate) fn split(&self, text: &str, ix: &CharIndex, abbrevs: &Abbreviations) -> Vec<Span> {
        let mut sentences: Vec<(usize, usize)> = Vec::new();
        for (start, piece) in text.split_sentence_bound_indices() {
            let trimmed = piece.trim();
            if trimmed.is_empty() {
                continue;
            }
            let s = start + (piece.len() - piece.trim_start().len());
            let mut from = s;
            let mut candidates = Vec::new();
            for caps in self.dash_after_stop.captures_iter(trimmed) {
                let space = caps.get(1).expect("group 1 always matches");
                candidates.push((from, s + space.start()));
                from = s + space.end();
            }
            candidates.push((from, s + trimmed.len()));
            for next in candidates {
                match sentences.last_mut() {
                    Some(last) if joins(text, *last, next, abbrevs) => last.1 = next.1,
                    _ => sentences.push(next),
                }
            }
        }
        sentences
            .into_iter()
            .map(|(s, e)| {
                // UAX #29, `trim` and the pattern only cut at character boundaries.
                let start = ix.char(s).expect("sentence starts on a character boundary");
                let end = ix.char(e).expect("sentence ends on a character boundary");
                Span::new(start, end)
            })
            .collect()
    }
}

/// Whether the candidate boundary between byte ranges `prev` and `next` is false, so that the
/// two belong to one sentence.
fn joins(text: &str, prev: (usize, usize), next: (usize, usize), abbrevs: &Abbreviations) -> bool {
    let gap = &text[prev.1..next.0];
    // News puts one paragraph, headline or dateline per line: a line break always ends.
    if gap.chars().any(is_line_break) {
        return false;
    }
    let before = &text[prev.0..prev.1];
    let after = &text[next.0..next.1];
    // English puts a space after a sentence; without one (`"...I request`, `3.The`) the
    // break is a quirk of punctuation runs. Ideographic stops ("。") need no space and keep it.
    if gap.is_empty()
        && before
            .trim_end_matches(is_closing)
            .ends_with(['.', '!', '?', '…'])
    {
        return true;
    }
    let last_word = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .trim_start_matches(is_opening);
    // "(U.S.)" is an abbreviation as much as "U.S." is; a closing quote is not stripped, since
    // after `U.S."` the sentence is usually over.
    let unbracketed = last_word.trim_end_matches([')', ']']);

    if let Some(stem) = unbracketed.strip_suffix('.') {
        // A list number alone ("3. Ian Woosnam") belongs to the line it numbers.
        if last_word.len() == before.len()
            && !stem.is_empty()
            && stem.chars().all(|c| c.is_ascii_digit())
        {
            return true;
        }
        return match abbrevs.kind(stem) {
            Some(AbbrevKind::Title) => true,
            Some(AbbrevKind::BeforeNumber) => after.starts_with(|c: char| c.is_numeric()),
            Some(AbbrevKind::Ambiguous) => !starts_sentence(after),
            None => false,
        };
    }

    // UAX #29 breaks after "?" or "!" even when the sentence goes on in lower case, as in
    // `"Why?" he asked.` (it only checks the case after a full stop).
    let end = before.trim_end_matches(is_closing);
    (end.ends_with('?') || end.ends_with('!')) && after.starts_with(char::is_lowercase)
}

/// Whether `after` visibly opens a new sentence: an opening quote or a typical sentence-initial
/// word. Not a bracket ("11 a.m. (0800 GMT)") nor a dash ("Scorers: U.S. - Joe-Max Moore").
fn starts_sentence(after: &str) -> bool {
    if after.starts_with(['"', '\'', '“', '‘', '„', '«']) {
        return true;
    }
    let word: &str = after
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    STARTERS.split_whitespace().any(|w| w == word)
}

pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

pub(crate) fn is_opening(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '„' | '‚' | '«' | '‹' | '(' | '[' | '{'
    )
}

pub(crate) fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | '»' | '›' | ')' | ']' | '}')
}

#[cfg(test)]
mod tests {
    use super::super::Segmenter;
    use crate::offsets::CharIndex;

    fn split(text: &str) -> Vec<String> {
        let ix = CharIndex::new(text);
        Segmenter::new()
            .sentences(text)
            .iter()
            .map(|s| ix.slice(s.start, s.end).unwrap().to_string())
            .collect()
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        assert_eq!(
            split("Mr. Smith met Gen. Lee in the U.S. Senate on Jan. 16. They talked."),
            [
                "Mr. Smith met Gen. Lee in the U.S. Senate on Jan. 16.",
                "They talked."
            ]
        );
        assert_eq!(
            split("J. Smith of Acme Corp. Ltd. spoke. He left."),
            ["J. Smith of Acme Corp. Ltd. spoke.", "He left."]
        );
        assert_eq!(
            split("U.S. officials said No. 2 was next. It was."),
            ["U.S. officials said No. 2 was next.", "It was."]
        );
    }

    #[test]
    fn abbreviations_can_still_end_sentences() {
        assert_eq!(
            split("He moved to the U.S. The move was quick."),
            ["He moved to the U.S.", "The move was quick."]
        );
        assert_eq!(
            split("It was founded in Jan. Sales rose."),
            ["It was founded in Jan.", "Sales rose."]
        );
        assert_eq!(
            split("They won Group B. \"We did it.\""),
            ["They won Group B.", "\"We did it.\""]
        );
    }

    #[test]
    fn decimals_and_list_numbers() {
        assert_eq!(
            split("Shares rose 3.5 percent. Bonds fell 0.25."),
            ["Shares rose 3.5 percent.", "Bonds fell 0.25."]
        );
        assert_eq!(
            split("Leading scores:\n3. Ian Woosnam 67\n4. Nick Faldo 68"),
            ["Leading scores:", "3. Ian Woosnam 67", "4. Nick Faldo 68"]
        );
    }

    #[test]
    fn headline_and_dateline_end_at_line_break() {
        assert_eq!(
            split("Putin Outlines Russia’s Role\nBRUSSELS 1996-08-22\nThe EU said so.\n\n"),
            [
                "Putin Outlines Russia’s Role",
                "BRUSSELS 1996-08-22",
                "The EU said so."
            ]
        );
        // Even after an abbreviation.
        assert_eq!(split("Talks with Mr.\nSmith"), ["Talks with Mr.", "Smith"]);
    }

    #[test]
    fn quotes_stay_with_their_sentence() {
        assert_eq!(
            split("\"We will win.\" He smiled. 'Fine.' She left."),
            ["\"We will win.\"", "He smiled.", "'Fine.'", "She left."]
        );
        assert_eq!(
            split("“We will win.” He smiled (briefly.) She left."),
            ["“We will win.”", "He smiled (briefly.)", "She left."]
        );
        assert_eq!(
            split("“Why?” he asked. ‘Because!’ she said."),
            ["“Why?” he asked.", "‘Because!’ she said."]
        );
    }

    #[test]
    fn dashes_are_not_boundaries() {
        assert_eq!(
            split("Talks – which began Monday — ended. Nothing - nothing - changed."),
            [
                "Talks – which began Monday — ended.",
                "Nothing - nothing - changed."
            ]
        );
    }

    #[test]
    fn dash_after_full_stop_opens_sign_off_or_bullet() {
        assert_eq!(
            split("Rates held, the bank said. -- Warsaw Newsroom +48 22 653 9700"),
            [
                "Rates held, the bank said.",
                "-- Warsaw Newsroom +48 22 653 9700"
            ]
        );
        assert_eq!(
            split("Exports rose. - Speaker Habib Boulares said so.\" — Next item"),
            [
                "Exports rose.",
                "- Speaker Habib Boulares said so.\"",
                "— Next item"
            ]
        );
        assert_eq!(split("Talks with Mr. - no."), ["Talks with Mr. - no."]);
        assert_eq!(
            split("He said. \"...I ask.\""),
            ["He said.", "\"...I ask.\""]
        );
        assert_eq!(split("好。你好。"), ["好。", "你好。"]);
    }

    #[test]
    fn bracketed_abbreviations() {
        assert_eq!(
            split(
                "Tim Henman (Britain) beat Doug Flach (U.S.) 6-3 6-4. They meet at 11 a.m. \
                   (0800 GMT) in Naqoura."
            ),
            [
                "Tim Henman (Britain) beat Doug Flach (U.S.) 6-3 6-4.",
                "They meet at 11 a.m. (0800 GMT) in Naqoura."
            ]
        );
    }

    #[test]
    fn offsets_are_characters() {
        let text = "  Iran’s envoy left Zürich 🙂. He returned.  ";
        let spans = Segmenter::new().sentences(text);
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].start, spans[0].end), (2, 29));
        assert_eq!((spans[1].start, spans[1].end), (30, 42));
        assert_eq!(
            split(text),
            ["Iran’s envoy left Zürich 🙂.", "He returned."]
        );
    }

    #[test]
    fn empty_and_blank_text() {
        assert!(split("").is_empty());
        assert!(split(" \n\t ").is_empty());
    }

    #[test]
    fn seed_story() {
        // The seed story, shipped in examples/.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/putin-calls.txt");
        let text = std::fs::read_to_string(path).unwrap();
        let got = split(&text);
        let starts_with = |i: usize, s: &str| {
            assert!(got[i].starts_with(s), "sentence {i}: {:?}", got[i]);
        };
        starts_with(0, "Russian President Vladimir Putin took an active role");
        assert!(got[0].ends_with("Masoud Pezeshkian."));
        starts_with(1, "These high-level calls");
        assert!(got[1].ends_with("the broader security situation."));
        starts_with(2, "The Kremlin confirmed");
        // Headline lines without final punctuation are sentences of their own.
        assert!(got.contains(&"Putin Outlines Russia’s Role as a Regional Mediator".to_string()));
        assert!(got.contains(&"Iran Faces Protests and Rising International Pressure".to_string()));
        let quote = got
            .iter()
            .find(|s| s.contains("“basic approaches"))
            .unwrap();
        assert!(quote.starts_with("According to the Kremlin"));
        assert!(quote.ends_with("during his call with Netanyahu."));
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        assert!(
            got.len() > lines,
            "{} sentences from {lines} lines",
            got.len()
        );
        assert!(got.iter().all(|s| !s.contains('\n') && s.trim() == s));
    }
}
