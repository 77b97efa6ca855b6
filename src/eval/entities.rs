//! Named-entity measures that seqeval reports: exact-match counts per entity type (its default
//! and strict modes differ only in how tags are read into entities, which the CoNLL reader does:
//! see [`crate::formats::ConllOptions::strict_chunks`]) and token-level tag accuracy.
//!
//! seqeval's default mode reproduces conlleval (the CoNLL shared-task perl script, which is not
//! on PyPI): an `I-X` that does not continue an `X` starts a new entity. ertag's CoNLL reader
//! reads tags the same way ([`crate::tags::decode`]), so `entity_counts` over documents read
//! with default options gives conlleval's and seqeval's default figures; read with
//! `strict_chunks` it gives seqeval's `mode='strict'` figures.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::document::{Document, Span};
use crate::eval::counts::LabelCounts;
use crate::formats::conll::META_TAGS;
use crate::tags::{self, TagScheme, TagSpan};

/// Exact-match counts per entity type: an entity is a true positive when the prediction has an
/// entity with the same start, end (characters) and label.
///
/// Both sides are taken as *sets* of `(start, end, label)`, as seqeval does (it collects chunks
/// into Python sets), so an entity listed twice on one side counts once: a duplicated
/// prediction is neither rewarded nor punished twice. Every label seen on either side gets an
/// entry, even with zero support, because seqeval's report (and its macro average) lists labels
/// of both the gold and the prediction.
pub fn entity_counts(gold: &Document, pred: &Document) -> LabelCounts {
    let set = |d: &Document| -> BTreeSet<(String, usize, usize)> {
        d.entities
            .iter()
            .map(|e| (e.label.clone(), e.start, e.end))
            .collect()
    };
    let (g, p) = (set(gold), set(pred));
    let mut out = LabelCounts::new();
    for e in &g {
        let c = out.entry(e.0.clone()).or_default();
        if p.contains(e) {
            c.tp += 1;
        } else {
            c.fn_ += 1;
        }
    }
    for e in p.difference(&g) {
        out.entry(e.0.clone()).or_default().fp += 1;
    }
    for e in &p {
        out.entry(e.0.clone()).or_default();
    }
    out
}

/// Token-level tag accuracy as `(correct, total)` over the gold document's tokens (seqeval's
/// `accuracy_score` is `correct / total` summed over documents).
///
/// The gold tokenisation is used for both sides: a prediction is expected to tag the same
/// tokens (a pred that carries other tokens is still compared on the gold tokens, not refused,
/// because accuracy has no meaning across tokenisations and entity measures do not need it).
/// When both documents carry the raw tags (`meta["conll_tags"]`, from a CoNLL reader with
/// `keep_tags`) with one tag per gold token, those strings are compared, as seqeval does; so
/// `I-PER` where gold has `B-PER` is an error even though both read as the same entity.
/// Otherwise both sides are re-encoded as IOB2 from their entities (entities that do not fall
/// on token boundaries, or overlap an earlier one, cannot be tagged and are left out).
pub fn token_tag_counts(gold: &Document, pred: &Document) -> (usize, usize) {
    let n = gold.tokens.len();
    if let (Some(g), Some(p)) = (raw_tags(gold, n), raw_tags(pred, n)) {
        let correct = g.iter().zip(&p).filter(|(a, b)| a == b).count();
        return (correct, n);
    }
    let g = tags::encode(&token_spans(gold, &gold.tokens), n, TagScheme::Iob2);
    let p = tags::encode(&token_spans(pred, &gold.tokens), n, TagScheme::Iob2);
    let correct = g.iter().zip(&p).filter(|(a, b)| a == b).count();
    (correct, n)
}

/// The raw tags kept by the CoNLL reader, when there is exactly one per token.
fn raw_tags(doc: &Document, n: usize) -> Option<Vec<&str>> {
    let tags = doc.meta.get(META_TAGS)?.as_array()?;
    let tags: Vec<&str> = tags.iter().map(Value::as_str).collect::<Option<_>>()?;
    (tags.len() == n).then_some(tags)
}

/// `doc`'s entities as token spans over `tokens`, sorted, keeping only those that start and end
/// on token boundaries and do not overlap an earlier kept one (what a tag sequence can hold).
pub(crate) fn token_spans(doc: &Document, tokens: &[Span]) -> Vec<TagSpan> {
    let mut spans: Vec<TagSpan> = doc
        .entities
        .iter()
        .filter(|e| !e.label.is_empty())
        .filter_map(|e| {
            let start = tokens.binary_search_by_key(&e.start, |t| t.start).ok()?;
            let last = tokens.binary_search_by_key(&e.end, |t| t.end).ok()?;
            (start <= last).then(|| TagSpan::new(start, last + 1, e.label.as_str()))
        })
        .collect();
    spans.sort_by_key(|s| (s.start, s.end));
    let mut kept: Vec<TagSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        if kept.last().is_none_or(|k| k.end <= s.start) {
            kept.push(s);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::counts::Counts;

    /// "Peter Blackburn visited Bonn ." with tokens at word boundaries.
    fn doc(entities: &[(usize, usize, &str)]) -> Document {
        let mut d = Document::new("d", "Peter Blackburn visited Bonn .");
        d.tokens = vec![
            Span::new(0, 5),
            Span::new(6, 15),
            Span::new(16, 23),
            Span::new(24, 28),
            Span::new(29, 30),
        ];
        for &(s, e, l) in entities {
            d.add_entity(s, e, l).unwrap();
        }
        d
    }

    fn c(tp: usize, fp: usize, fn_: usize) -> Counts {
        Counts { tp, fp, fn_ }
    }

    #[test]
    fn exact_matches_per_type_with_duplicates_collapsed() {
        let gold = doc(&[(0, 15, "PER"), (24, 28, "LOC")]);
        let pred = doc(&[
            (0, 5, "PER"),
            (24, 28, "LOC"),
            (24, 28, "LOC"),
            (16, 23, "MISC"),
        ]);
        let counts = entity_counts(&gold, &pred);
        assert_eq!(counts["PER"], c(0, 1, 1));
        assert_eq!(counts["LOC"], c(1, 0, 0));
        assert_eq!(counts["MISC"], c(0, 1, 0));
        assert_eq!(counts.len(), 3);
    }

    #[test]
    fn token_accuracy_from_entities_and_from_raw_tags() {
        let gold = doc(&[(0, 15, "PER"), (24, 28, "LOC")]);
        let pred = doc(&[(0, 5, "PER"), (24, 28, "ORG")]);
        // gold B-PER I-PER O B-LOC O, pred B-PER O O B-ORG O.
        assert_eq!(token_tag_counts(&gold, &pred), (3, 5));
        let (mut g, mut p) = (gold.clone(), gold.clone());
        g.meta.insert(
            META_TAGS.into(),
            serde_json::json!(["B-PER", "I-PER", "O", "B-LOC", "O"]),
        );
        p.meta.insert(
            META_TAGS.into(),
            serde_json::json!(["I-PER", "I-PER", "O", "B-LOC", "O"]),
        );
        // Same entities, but the raw strings differ on the first token.
        assert_eq!(token_tag_counts(&g, &p), (4, 5));
        // Raw tags on one side only: compare re-encoded tags.
        assert_eq!(token_tag_counts(&g, &gold), (5, 5));
    }
}
