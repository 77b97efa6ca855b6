//! From label probabilities over sub-words to entities over characters.
//!
//! A model scores sub-words; entities are made of words. Each word's distribution is
//! aggregated from its sub-words ([`Aggregation`]), each sentence takes the most probable tag
//! sequence its scheme allows ([`TagDecoding`]), and the tags are read by
//! [`crate::tags::decode`], the same reader that reads gold CoNLL files. Offsets come from
//! `Document::tokens`, never from the tokenizer, so they are right whatever the tokenizer did to
//! the text (lower-casing, stripped accents, `[UNK]`).

use crate::document::{Document, Entity};
use crate::error::{Error, Location, Result};
use crate::ner::features::{sentence_groups, Window};
use crate::offsets::CharIndex;
use crate::tags::{self, TagScheme};

/// How a word's label distribution is made from its sub-words'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Aggregation {
    /// The first sub-word's distribution (what token classifiers are usually trained on).
    #[default]
    First,
    /// The mean of the word's sub-word distributions.
    Average,
    /// The distribution of the sub-word that is most confident (highest maximum probability).
    Max,
}

/// How a sentence's tags are chosen from its words' label distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TagDecoding {
    /// The most probable sequence the tag scheme allows (constrained Viterbi): no `I-X` without
    /// its `B-X`, so nothing needs repair.
    #[default]
    Viterbi,
    /// Each word's most probable tag; invalid sequences are repaired as conlleval reads them.
    Argmax,
}

/// The chosen label index and its probability for each word of one sentence.
pub fn choose_tags<D: AsRef<[f32]>>(
    dists: &[D],
    labels: &[String],
    scheme: TagScheme,
    decoding: TagDecoding,
) -> Vec<(usize, f32)> {
    let path = match decoding {
        TagDecoding::Viterbi => tags::best_valid_sequence(dists, labels, scheme),
        TagDecoding::Argmax => None,
    };
    match path {
        Some(path) => path
            .iter()
            .zip(dists)
            .map(|(&l, d)| (l, d.as_ref()[l]))
            .collect(),
        None => dists.iter().map(|d| argmax(d.as_ref())).collect(),
    }
}

/// The label distributions of the words that `window` decides, as `(token index, probs)`.
/// `probs` holds the window's rows (at least `window.len()` rows of `n_labels` probabilities,
/// row-major; padding rows after them are ignored).
pub fn word_distributions(
    window: &Window,
    probs: &[f32],
    n_labels: usize,
    aggregation: Aggregation,
) -> Vec<(usize, Vec<f32>)> {
    let mut out: Vec<(usize, Vec<f32>)> = Vec::with_capacity(window.decides.len());
    // Sub-words in the window per decided word (at least one each: see `Featurizer`).
    let mut counts: Vec<usize> = Vec::with_capacity(window.decides.len());
    let mut best: Vec<f32> = Vec::with_capacity(window.decides.len());
    for (p, word) in window.word_of.iter().enumerate() {
        let Some(word) = *word else { continue };
        if !window.decides.contains(&word) {
            continue;
        }
        let row = &probs[p * n_labels..(p + 1) * n_labels];
        let row_max = row.iter().copied().fold(f32::MIN, f32::max);
        let new_word = out.last().is_none_or(|(w, _)| *w != word);
        if new_word {
            out.push((word, row.to_vec()));
            counts.push(1);
            best.push(row_max);
            continue;
        }
        let i = out.len() - 1;
        counts[i] += 1;
        match aggregation {
            Aggregation::First => {}
            Aggregation::Average => out[i].1.iter_mut().zip(row).for_each(|(a, b)| *a += b),
            Aggregation::Max => {
                if row_max > best[i] {
                    best[i] = row_max;
                    out[i].1.copy_from_slice(row);
                }
            }
        }
    }
    if aggregation == Aggregation::Average {
        for ((_, dist), n) in out.iter_mut().zip(&counts) {
            dist.iter_mut().for_each(|x| *x /= *n as f32);
        }
    }
    out
}

/// The index and probability of the most probable label (the first one on ties).
pub(crate) fn argmax(dist: &[f32]) -> (usize, f32) {
    dist.iter()
        .copied()
        .enumerate()
        .fold((0, f32::MIN), |b, (i, p)| if p > b.1 { (i, p) } else { b })
}

/// Entities of `doc` from one label distribution per token (`dists[t]` for `doc.tokens[t]`),
/// decoded sentence by sentence with `scheme` and `decoding`. Invalid tag sequences (from
/// `Argmax`) are repaired the conlleval way without a warning: models emit them, and that is
/// not the user's input being changed. Each entity's score is the mean over its words of the
/// chosen tag's probability; ids are `T1`, `T2`, ... in text order.
pub fn entities(
    doc: &Document,
    dists: &[Vec<f32>],
    labels: &[String],
    scheme: TagScheme,
    decoding: TagDecoding,
) -> Result<Vec<Entity>> {
    let loc = Location::default().in_doc(doc.id.clone());
    if dists.len() != doc.tokens.len() {
        return Err(Error::input(
            &loc,
            format!(
                "{} label distributions for {} tokens",
                dists.len(),
                doc.tokens.len()
            ),
        ));
    }
    let ix = CharIndex::new(&doc.text);
    let mut out = Vec::new();
    for group in sentence_groups(doc) {
        let chosen = choose_tags(&dists[group.clone()], labels, scheme, decoding);
        let tags: Vec<&str> = chosen.iter().map(|&(l, _)| labels[l].as_str()).collect();
        let (spans, _repairs) = tags::decode(&tags, scheme).map_err(|(i, reason)| {
            Error::input(&loc, format!("token {}: {reason}", group.start + i))
        })?;
        for span in spans {
            let (first, last) = (group.start + span.start, group.start + span.end - 1);
            let (start, end) = (doc.tokens[first].start, doc.tokens[last].end);
            let text = ix.slice(start, end).ok_or_else(|| {
                Error::input(&loc, format!("entity [{start}, {end}] is outside the text"))
            })?;
            let score = chosen[span.start..span.end]
                .iter()
                .map(|&(_, p)| p)
                .sum::<f32>()
                / (span.end - span.start) as f32;
            out.push(Entity {
                id: format!("T{}", out.len() + 1),
                start,
                end,
                label: span.label,
                text: text.to_string(),
                score: Some(score),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Span;

    fn window(word_of: Vec<Option<usize>>, decides: std::ops::Range<usize>) -> Window {
        let n = word_of.len();
        Window {
            doc: 0,
            input_ids: vec![0; n],
            type_ids: vec![0; n],
            first_of_word: vec![false; n],
            word_of,
            decides,
        }
    }

    #[test]
    fn aggregations_differ_as_documented() {
        // [CLS] w0 w0 w1 [SEP]; w0's second piece is more confident and prefers label 1.
        let w = window(vec![None, Some(0), Some(0), Some(1), None], 0..2);
        #[rustfmt::skip]
        let probs = [
            0.5, 0.5,
            0.6, 0.4,
            0.0, 1.0,
            0.9, 0.1,
            0.5, 0.5,
        ];
        let first = word_distributions(&w, &probs, 2, Aggregation::First);
        assert_eq!(first, [(0, vec![0.6, 0.4]), (1, vec![0.9, 0.1])]);
        let avg = word_distributions(&w, &probs, 2, Aggregation::Average);
        assert!((avg[0].1[0] - 0.3).abs() < 1e-6 && (avg[0].1[1] - 0.7).abs() < 1e-6);
        let max = word_distributions(&w, &probs, 2, Aggregation::Max);
        assert_eq!(max[0], (0, vec![0.0, 1.0]));
    }

    #[test]
    fn context_words_are_not_returned() {
        let w = window(vec![None, Some(3), Some(4), Some(5), None], 4..5);
        let probs = vec![0.5f32; 10];
        let got = word_distributions(&w, &probs, 2, Aggregation::First);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 4);
    }

    #[test]
    fn entities_take_offsets_from_tokens_and_repair_per_sentence() {
        let mut doc = Document::new("d", "Zürich’s mayor met Anna Ömer. Then left.");
        doc.sentences = vec![Span::new(0, 29), Span::new(30, 40)];
        doc.tokens = vec![
            Span::new(0, 6),   // Zürich
            Span::new(6, 8),   // ’s
            Span::new(9, 14),  // mayor
            Span::new(15, 18), // met
            Span::new(19, 23), // Anna
            Span::new(24, 28), // Ömer
            Span::new(28, 29), // .
            Span::new(30, 34), // Then
            Span::new(35, 39), // left
            Span::new(39, 40), // .
        ];
        let labels: Vec<String> = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
            .map(String::from)
            .to_vec();
        let one = |l: usize, p: f32| {
            let mut d = vec![(1.0 - p) / 4.0; 5];
            d[l] = p;
            d
        };
        // I-LOC at the start (repaired), B-PER I-PER, and an I-PER right after a sentence break.
        let dists = vec![
            one(4, 0.8),
            one(0, 0.9),
            one(0, 0.9),
            one(0, 0.9),
            one(1, 0.6),
            one(2, 0.8),
            one(0, 0.9),
            one(2, 0.5),
            one(0, 0.9),
            one(0, 0.9),
        ];
        let ents = entities(&doc, &dists, &labels, TagScheme::Iob2, TagDecoding::Argmax).unwrap();
        let got: Vec<_> = ents
            .iter()
            .map(|e| (e.id.as_str(), e.label.as_str(), e.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("T1", "LOC", "Zürich"),
                ("T2", "PER", "Anna Ömer"),
                ("T3", "PER", "Then")
            ]
        );
        assert!((ents[1].score.unwrap() - 0.7).abs() < 1e-6);
        // Scores are read within each sentence: "Then" is the second sentence's first word.
        assert!((ents[2].score.unwrap() - 0.5).abs() < 1e-6);
        assert_eq!((ents[1].start, ents[1].end), (19, 28));
        doc.entities = ents;
        assert!(doc.problems().is_empty(), "{:?}", doc.problems());
    }

    #[test]
    fn viterbi_reads_the_mention_the_whole_sentence_favours() {
        let mut doc = Document::new("d", "Anna Ömer left.");
        doc.sentences = vec![Span::new(0, 15)];
        doc.tokens = vec![
            Span::new(0, 4),
            Span::new(5, 9),
            Span::new(10, 14),
            Span::new(14, 15),
        ];
        let labels: Vec<String> = ["O", "B-PER", "I-PER"].map(String::from).to_vec();
        // "Anna" is O by a hair; "Ömer" is clearly inside a mention.
        let dists = vec![
            vec![0.5, 0.45, 0.05],
            vec![0.05, 0.05, 0.9],
            vec![0.9, 0.05, 0.05],
            vec![0.9, 0.05, 0.05],
        ];
        let texts = |decoding| -> Vec<String> {
            entities(&doc, &dists, &labels, TagScheme::Iob2, decoding)
                .unwrap()
                .into_iter()
                .map(|e| e.text)
                .collect()
        };
        // Argmax gives O I-PER, which conlleval reads as a mention of "Ömer" alone.
        assert_eq!(texts(TagDecoding::Argmax), ["Ömer"]);
        assert_eq!(texts(TagDecoding::Viterbi), ["Anna Ömer"]);
    }

    #[test]
    fn a_label_that_is_not_a_tag_is_an_error() {
        let mut doc = Document::new("d", "Hi");
        doc.tokens = vec![Span::new(0, 2)];
        let labels = vec!["PERSON".to_string()];
        let err = entities(
            &doc,
            &[vec![1.0]],
            &labels,
            TagScheme::Iob2,
            TagDecoding::Viterbi,
        )
        .unwrap_err();
        assert!(err.to_string().contains("PERSON"), "{err}");
    }
}
