//! Rebuilding natural text from tokens.
//!
//! Pre-tokenised corpora such as CoNLL-2003 only store tokens, so their text is "Russia 's
//! envoy ( Reuters ) said ." and a sentence splitter tested on it would be tested on text no
//! news site prints. Joining the tokens the way a writer would ("Russia's envoy (Reuters)
//! said.") gives raw text whose sentence and token boundaries are known, which is what the
//! splitter evaluation and any benchmark that needs CoNLL as raw text start from.

use super::sentences::is_closing;
use crate::document::{Document, Entity, Relation, Span};
use crate::offsets::CharIndex;

/// Tokens written without a space before them.
const NO_SPACE_BEFORE: &[&str] = &[
    ",", ".", ";", ":", "!", "?", ")", "]", "}", "%", "...", "..", "…", "”", "’", "''", "»",
];

/// Tokens written without a space after them.
const NO_SPACE_AFTER: &[&str] = &["(", "[", "{", "“", "‘", "``", "`", "«", "„"];

/// PTB clitics, which attach to the word before ("Russia's", "don't").
const CLITICS: &[&str] = &["'s", "n't", "'m", "'d", "'ll", "'re", "'ve"];

/// Currency signs written against the amount that follows ("$5").
const CURRENCIES: &[&str] = &["$", "£", "€", "¥", "US$", "C$", "A$"];

/// Join `tokens` into natural text; returns the text and each token's character span in it.
///
/// Straight quotes carry no direction, so it is guessed: a quote that ends the token list
/// closes and one that starts it opens (corpora that split quoted speech into sentences leave
/// a quote at a sentence edge, and it belongs to that sentence); a double quote after a comma
/// or full stop (or single quote) and before a lower-case word closes (`," he said`); otherwise
/// they alternate.
/// A single straight quote after a word ending in "s" is a plural possessive ("Eagles'").
pub fn detokenize(tokens: &[&str]) -> (String, Vec<Span>) {
    let glue = glue(tokens);
    let mut text = String::new();
    let mut spans = Vec::with_capacity(tokens.len());
    let mut at = 0;
    for (i, tok) in tokens.iter().enumerate() {
        if i > 0 && !glue[i].0 && !glue[i - 1].1 {
            text.push(' ');
            at += 1;
        }
        let n = tok.chars().count();
        text.push_str(tok);
        spans.push(Span::new(at, at + n));
        at += n;
    }
    (text, spans)
}

/// For each token: (no space before it, no space after it).
fn glue(tokens: &[&str]) -> Vec<(bool, bool)> {
    let n = tokens.len();
    let mut in_double = false;
    let mut in_single = false;
    let mut out = Vec::with_capacity(n);
    for (i, &tok) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| tokens[p]);
        let next = tokens.get(i + 1).copied();
        let lone = n == 1;
        let g = match tok {
            "\"" => {
                let closes = if lone {
                    false
                } else if i + 1 == n {
                    true
                } else if i == 0 {
                    false
                } else if matches!(prev, Some("," | "." | "?" | "!" | "..." | "'" | "’"))
                    && next.is_some_and(|t| t.starts_with(char::is_lowercase))
                {
                    true
                } else {
                    in_double
                };
                in_double = !closes;
                (closes, !closes)
            }
            "'" => {
                let possessive =
                    !in_single && prev.is_some_and(|p| p.ends_with(['s', 'S']) && p.len() > 1);
                let closes = possessive || (i + 1 == n && !lone) || (in_single && i > 0);
                if !possessive {
                    in_single = !closes;
                }
                (closes, !closes)
            }
            _ if NO_SPACE_BEFORE.contains(&tok) => (true, false),
            _ if NO_SPACE_AFTER.contains(&tok) => (false, true),
            _ if is_clitic(tok) => (true, false),
            _ if CURRENCIES.contains(&tok) => (
                false,
                next.is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit())),
            ),
            _ => (false, false),
        };
        out.push(g);
    }
    out
}

fn is_clitic(tok: &str) -> bool {
    let normal = tok.replace('’', "'").to_lowercase();
    CLITICS.contains(&normal.as_str())
}

/// Whether a sentence with these tokens ends like a sentence (". ! ?", possibly followed by
/// closing quotes or brackets) rather than like a headline or dateline.
fn ends_terminal(tokens: &[&str]) -> bool {
    tokens
        .iter()
        .rev()
        .find(|t| !t.chars().all(is_closing) && **t != "''")
        .is_some_and(|t| t.ends_with(['.', '!', '?', '…']))
}

/// Rebuild a pre-tokenised document (tokens and sentences filled, text = tokens joined by
/// spaces) as raw news text: each sentence detokenized, followed by a space when it ends like a
/// sentence and by a line break when it does not (headlines, datelines such as "BRUSSELS
/// 1996-08-22"), since that is how a wire story lays them out.
///
/// Tokens, sentences, entities and relation evidence are remapped to the new text. Tokens keep
/// their characters, so an entity covers the same tokens and keeps its text unless a space
/// inside it was dropped (an entity ending in "(" or containing "'s"), in which case its text
/// is taken from the new text. Tokens outside every sentence are joined as sentences of their
/// own but not listed in `sentences`. A document without tokens is returned unchanged.
pub fn detokenize_document(doc: &Document) -> Document {
    if doc.tokens.is_empty() {
        return doc.clone();
    }
    let old = CharIndex::new(&doc.text);
    let mut order: Vec<usize> = (0..doc.tokens.len()).collect();
    order.sort_by_key(|&k| (doc.tokens[k].start, doc.tokens[k].end));
    let mut sentences = doc.sentences.clone();
    sentences.sort();
    // Consecutive tokens in the same sentence (or in the same gap between sentences) form one
    // group; `None` marks tokens outside every sentence.
    let mut groups: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    let mut j = 0;
    for &k in &order {
        let t = doc.tokens[k];
        // Both lists are sorted, so one pass finds each token's sentence.
        while j < sentences.len() && sentences[j].end <= t.start {
            j += 1;
        }
        let key = sentences
            .get(j)
            .is_some_and(|s| s.start <= t.start)
            .then_some(j);
        match groups.last_mut() {
            Some((g, members)) if *g == key => members.push(k),
            _ => groups.push((key, vec![k])),
        }
    }

    let mut text = String::new();
    let mut at = 0;
    let mut new_tokens = vec![Span::new(0, 0); doc.tokens.len()];
    let mut new_sentences = Vec::new();
    let mut char_map = vec![usize::MAX; old.char_len()];
    for (g, (key, members)) in groups.iter().enumerate() {
        let words: Vec<&str> = members
            .iter()
            .map(|&k| {
                old.slice(doc.tokens[k].start, doc.tokens[k].end)
                    .unwrap_or("")
            })
            .collect();
        let (sentence, spans) = detokenize(&words);
        for (&k, span) in members.iter().zip(&spans) {
            let moved = Span::new(span.start + at, span.end + at);
            new_tokens[k] = moved;
            let t = doc.tokens[k];
            for c in 0..t.len() {
                if let Some(slot) = char_map.get_mut(t.start + c) {
                    *slot = moved.start + c;
                }
            }
        }
        if key.is_some() {
            new_sentences.push(Span::new(at, at + sentence.chars().count()));
        }
        at += sentence.chars().count();
        text.push_str(&sentence);
        if g + 1 < groups.len() {
            text.push(if ends_terminal(&words) { ' ' } else { '\n' });
            at += 1;
        }
    }

    let remap = |s: Span| -> Option<Span> {
        let mapped = |c: &usize| char_map.get(*c).copied().filter(|&m| m != usize::MAX);
        let first = (s.start..s.end).find_map(|c| mapped(&c))?;
        let last = (s.start..s.end).rev().find_map(|c| mapped(&c))?;
        Some(Span::new(first, last + 1))
    };
    let new_ix = CharIndex::new(&text);
    let mut dropped = Vec::new();
    let entities: Vec<Entity> = doc
        .entities
        .iter()
        .filter_map(|e| match remap(e.span()) {
            Some(s) => Some(Entity {
                start: s.start,
                end: s.end,
                text: new_ix.slice(s.start, s.end).unwrap_or(&e.text).to_string(),
                ..e.clone()
            }),
            None => {
                dropped.push(e.id.clone());
                None
            }
        })
        .collect();
    // An entity over no token characters cannot be placed; relations need both arguments.
    let relations: Vec<Relation> = doc
        .relations
        .iter()
        .filter(|r| !dropped.contains(&r.head) && !dropped.contains(&r.tail))
        .map(|r| Relation {
            evidence: r.evidence.and_then(remap),
            ..r.clone()
        })
        .collect();

    Document {
        id: doc.id.clone(),
        text,
        sentences: new_sentences,
        tokens: new_tokens,
        entities,
        relations,
        meta: doc.meta.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::Segmenter;

    fn detok(tokens: &str) -> String {
        let toks: Vec<&str> = tokens.split(' ').collect();
        detokenize(&toks).0
    }

    #[test]
    fn punctuation_clitics_and_brackets() {
        assert_eq!(
            detok("Russia 's envoy ( Reuters ) said , we do n't know : 5 % ; $ 3.5 !"),
            "Russia's envoy (Reuters) said, we don't know: 5%; $3.5!"
        );
        assert_eq!(
            detok("Iran ’s envoy did n’t go ."),
            "Iran’s envoy didn’t go."
        );
        assert_eq!(detok("the Eagles ' franchise"), "the Eagles' franchise");
    }

    #[test]
    fn quotes() {
        assert_eq!(
            detok("He said , \" We will win . \" Then \" no \" ."),
            "He said, \"We will win.\" Then \"no\"."
        );
        assert_eq!(
            detok("We played well , \" said Rios . \""),
            "We played well,\" said Rios.\""
        );
        assert_eq!(detok("\" It is over ."), "\"It is over.");
        assert_eq!(
            detok("“ Curly ” and ‘ single ’ — fine"),
            "“Curly” and ‘single’ — fine"
        );
        assert_eq!(
            detok("said , ' keep going , ' \" he"),
            "said, 'keep going,'\" he"
        );
    }

    #[test]
    fn spans_point_at_tokens() {
        let toks = ["Zürich", "’s", "🙂", "(", "Iran", ")", "."];
        let (text, spans) = detokenize(&toks);
        assert_eq!(text, "Zürich’s 🙂 (Iran).");
        let ix = CharIndex::new(&text);
        for (t, s) in toks.iter().zip(&spans) {
            assert_eq!(ix.slice(s.start, s.end), Some(*t));
        }
    }

    /// A document as the CoNLL reader builds it: tokens joined by spaces, sentences by "\n".
    fn conll(sentences: &[&str]) -> Document {
        let text = sentences.join("\n");
        let mut doc = Document::new("d", text.clone());
        let mut at = 0;
        for s in sentences {
            let start = at;
            for t in s.split(' ') {
                let n = t.chars().count();
                doc.tokens.push(Span::new(at, at + n));
                at += n + 1;
            }
            doc.sentences.push(Span::new(start, at - 1));
        }
        doc
    }

    #[test]
    fn document_layout_and_remapping() {
        let mut doc = conll(&[
            "CRICKET - LEICESTERSHIRE WIN .",
            "LONDON 1996-08-30",
            "Phil Simmons took four for 38 on Friday ( Reuters ) .",
            "Leicestershire 's win was \" easy . \"",
            "It was .",
        ]);
        let lon = doc.add_entity(31, 37, "LOC").unwrap();
        let per = doc.add_entity(49, 61, "PER").unwrap();
        let org = doc.add_entity(103, 117, "ORG").unwrap();
        assert_eq!(doc.entity(&org).unwrap().text, "Leicestershire");
        doc.relations.push(Relation {
            head: per.clone(),
            tail: lon.clone(),
            label: "lives_in".into(),
            score: None,
            evidence: Some(Span::new(49, 102)),
        });
        let raw = detokenize_document(&doc);
        assert_eq!(
            raw.text,
            "CRICKET - LEICESTERSHIRE WIN. LONDON 1996-08-30\nPhil Simmons took four for 38 on \
             Friday (Reuters). Leicestershire's win was \"easy.\" It was."
        );
        let ix = CharIndex::new(&raw.text);
        for e in &raw.entities {
            assert_eq!(ix.slice(e.start, e.end), Some(e.text.as_str()));
        }
        let texts: Vec<&str> = raw.entities.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["LONDON", "Phil Simmons", "Leicestershire"]);
        assert_eq!(raw.relations.len(), 1);
        let ev = raw.relations[0].evidence.unwrap();
        assert_eq!(
            ix.slice(ev.start, ev.end),
            Some("Phil Simmons took four for 38 on Friday (Reuters).")
        );
        assert_eq!(raw.tokens.len(), doc.tokens.len());
        for (old, new) in doc.tokens.iter().zip(&raw.tokens) {
            assert_eq!(
                CharIndex::new(&doc.text).slice(old.start, old.end),
                ix.slice(new.start, new.end)
            );
        }
        // The splitter recovers every sentence of this reconstruction.
        assert_eq!(Segmenter::new().sentences(&raw.text), raw.sentences);
    }

    #[test]
    fn tokens_round_trip() {
        let seg = Segmenter::new();
        for line in [
            "Russia 's envoy did n't see the U.S. Treasury ( Reuters ) .",
            "“ Iran ’s envoy left Zürich , ” he said — 🙂 !",
            "Shares rose 3.5 % to 1,000 on 1996-08-22 at 12:30 , Mr. Smith said .",
            "The Anglo-Dutch group 's O'Brien said : \" We 're fine . \"",
        ] {
            let toks: Vec<&str> = line.split(' ').collect();
            let (text, spans) = detokenize(&toks);
            let n = text.chars().count();
            assert_eq!(seg.tokens(&text, Span::new(0, n)), spans, "{text}");
        }
    }

    #[test]
    fn untokenized_document_is_unchanged() {
        let doc = Document::new("d", "Plain text.");
        assert_eq!(detokenize_document(&doc), doc);
    }
}
