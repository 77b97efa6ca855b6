//! Candidate pairs: which entity mentions of a window are classified together.
//!
//! A window decides whole sentences (see `ner::features`), so every mention of a decided
//! sentence is in the window with all its sub-words, and a pair of mentions of one sentence is
//! classified from one encoder pass. Pairs are formed within `sentence_window` sentences (1:
//! the same sentence), in both orders, and kept only if the schema allows some label for their
//! types in that order (symmetric labels allow both orders).

use std::ops::Range;

use crate::ner::features::Window;
use crate::relations::schema::Schema;

/// An entity mention placed in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Index into the caller's list of mentions (the document's entities, or decoded spans).
    pub key: usize,
    /// Document word tokens `[first, last]` as a range.
    pub tokens: Range<usize>,
    /// Sub-word positions in the window, `[start, end)`.
    pub subwords: Range<usize>,
    /// Sub-word positions of its sentence group in the window, `[start, end)`.
    pub sentence: Range<usize>,
    /// Index into the schema's entity types.
    pub type_id: usize,
    /// Index of its sentence group in the document (`ner::features::sentence_groups`).
    pub group: usize,
}

/// A mention of a document given to [`place`]: its word tokens, type and sentence group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMention {
    pub tokens: Range<usize>,
    pub type_id: usize,
    pub group: usize,
}

/// One ordered pair to classify: indices into the window's mentions, and the labels the
/// schema allows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub head: usize,
    pub tail: usize,
    pub allowed: Vec<bool>,
}

/// The mentions among `spans` that this window decides, with their sub-word ranges and their
/// sentences' (`group_of`: the sentence group of each document token). A mention is the
/// window's when its first word is decided here and all its words are in the window.
pub fn place(w: &Window, spans: &[TokenMention], group_of: &[usize]) -> Vec<Mention> {
    let mut out = Vec::new();
    for (key, s) in spans.iter().enumerate() {
        if !w.decides.contains(&s.tokens.start) {
            continue;
        }
        let first = w.word_of.iter().position(|x| *x == Some(s.tokens.start));
        let last = w.word_of.iter().rposition(|x| *x == Some(s.tokens.end - 1));
        if let (Some(a), Some(b)) = (first, last) {
            if a <= b {
                // A sentence group is contiguous, and the window holds all of a decided one.
                let in_sentence = |x: &Option<usize>| x.is_some_and(|t| group_of[t] == s.group);
                let first = w.word_of.iter().position(in_sentence).unwrap_or(a);
                let last = w.word_of.iter().rposition(in_sentence).unwrap_or(b);
                out.push(Mention {
                    key,
                    tokens: s.tokens.clone(),
                    subwords: a..b + 1,
                    sentence: first..last + 1,
                    type_id: s.type_id,
                    group: s.group,
                });
            }
        }
    }
    out
}

/// Ordered pairs of `mentions` within `sentence_window` sentence groups that the schema allows.
pub fn candidates(mentions: &[Mention], schema: &Schema, sentence_window: usize) -> Vec<Candidate> {
    let window = sentence_window.max(1);
    let mut out = Vec::new();
    for (i, h) in mentions.iter().enumerate() {
        for (j, t) in mentions.iter().enumerate() {
            if i == j || h.group.abs_diff(t.group) >= window {
                continue;
            }
            let allowed = schema.mask(
                &schema.entity_types[h.type_id],
                &schema.entity_types[t.type_id],
            );
            if allowed.iter().any(|&a| a) {
                out.push(Candidate {
                    head: i,
                    tail: j,
                    allowed,
                });
            }
        }
    }
    out
}

/// The sentence group of each word token of a document, from `sentence_groups`.
pub fn group_of_tokens(groups: &[Range<usize>], n_tokens: usize) -> Vec<usize> {
    let mut out = vec![0; n_tokens];
    for (g, r) in groups.iter().enumerate() {
        for t in r.clone() {
            out[t] = g;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn schema() -> Schema {
        Schema::parse(
            r#"
name = "t"
entity_types = ["PER", "ORG"]
[[relations]]
name = "works for"
direction = "directed"
pairs = [["PER", "ORG"]]
[[relations]]
name = "met"
direction = "symmetric"
pairs = [["PER", "PER"]]
"#,
            Path::new("t.toml"),
        )
        .unwrap()
    }

    fn window() -> Window {
        // [CLS] w0 w1a w1b w2 w3 [SEP]; decides words 0..3 (w3 is context).
        let word_of = vec![None, Some(0), Some(1), Some(1), Some(2), Some(3), None];
        Window {
            doc: 0,
            input_ids: vec![0; 7],
            type_ids: vec![0; 7],
            first_of_word: vec![false, true, true, false, true, true, false],
            word_of,
            decides: 0..3,
        }
    }

    #[test]
    fn mentions_are_placed_on_their_sub_words() {
        let spans = [
            TokenMention {
                tokens: 0..2,
                type_id: 0,
                group: 0,
            },
            TokenMention {
                tokens: 2..3,
                type_id: 1,
                group: 0,
            },
            TokenMention {
                tokens: 3..4,
                type_id: 0,
                group: 1,
            },
        ];
        // Words 0-2 are sentence 0, word 3 sentence 1.
        let m = place(&window(), &spans, &[0, 0, 0, 1]);
        assert_eq!(
            m.len(),
            2,
            "the context word's mention is not this window's"
        );
        assert_eq!(m[0].subwords, 1..4);
        assert_eq!(m[1].subwords, 4..5);
        assert_eq!(m[0].sentence, 1..5);
        assert_eq!(m[1].sentence, 1..5);
        // With word 0 a sentence of its own, the second mention's sentence starts at word 1.
        let own = [TokenMention {
            tokens: 2..3,
            type_id: 1,
            group: 1,
        }];
        let m = place(&window(), &own, &[0, 1, 1, 2]);
        assert_eq!(m[0].sentence, 2..5);
    }

    #[test]
    fn candidates_follow_the_schema_and_the_sentence_window() {
        let s = schema();
        let mention = |key, type_id, group| Mention {
            key,
            tokens: key..key + 1,
            subwords: key + 1..key + 2,
            sentence: 1..5,
            type_id,
            group,
        };
        let ms = [
            mention(0, 0, 0),
            mention(1, 1, 0),
            mention(2, 0, 0),
            mention(3, 0, 1),
        ];
        let c = candidates(&ms, &s, 1);
        let pairs: Vec<(usize, usize)> = c.iter().map(|c| (c.head, c.tail)).collect();
        // PER->ORG (works for), PER<->PER both orders (met); never ORG->PER; not across sentences.
        assert_eq!(pairs, [(0, 1), (0, 2), (2, 0), (2, 1)]);
        assert_eq!(c[0].allowed, [true, false]);
        assert_eq!(c[1].allowed, [false, true]);
        assert_eq!(candidates(&ms, &s, 2).len(), 9);
    }
}
