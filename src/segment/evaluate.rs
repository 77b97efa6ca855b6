//! Measuring the segmenter against pre-tokenised gold corpora.
//!
//! Gold documents (CoNLL-2003 and the like) are rebuilt as raw text with
//! [`detokenize_document`], which also says where their sentences and tokens now lie; the
//! segmenter then runs on that raw text as it would on a news story, and its boundaries are
//! compared with the gold ones by exact offset.

use std::collections::HashSet;
use std::fmt;
use std::ops::AddAssign;

use super::{detokenize_document, Segmenter};
use crate::document::{Document, Span};
use crate::eval::Counts;
use crate::offsets::CharIndex;

/// Counts of gold, predicted and matching boundaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoundaryScores {
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl BoundaryScores {
    /// The same figures as the evaluation harness computes them (0 for an empty denominator,
    /// so "nothing predicted" never looks perfect).
    fn counts(&self) -> Counts {
        Counts {
            tp: self.correct,
            fp: self.predicted - self.correct,
            fn_: self.gold - self.correct,
        }
    }

    pub fn precision(&self) -> f64 {
        self.counts().precision()
    }

    pub fn recall(&self) -> f64 {
        self.counts().recall()
    }

    pub fn f1(&self) -> f64 {
        self.counts().f1()
    }

    fn count<T: std::hash::Hash + Eq>(gold: &HashSet<T>, predicted: &HashSet<T>) -> Self {
        BoundaryScores {
            gold: gold.len(),
            predicted: predicted.len(),
            correct: gold.intersection(predicted).count(),
        }
    }
}

impl AddAssign for BoundaryScores {
    fn add_assign(&mut self, o: Self) {
        self.gold += o.gold;
        self.predicted += o.predicted;
        self.correct += o.correct;
    }
}

impl fmt::Display for BoundaryScores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "P {:.2} R {:.2} F1 {:.2} (gold {}, predicted {}, correct {})",
            100.0 * self.precision(),
            100.0 * self.recall(),
            100.0 * self.f1(),
            self.gold,
            self.predicted,
            self.correct
        )
    }
}

/// Sentence-end boundaries of the segmenter on the raw-text reconstruction of each gold
/// document.
///
/// Every sentence end counts, the end of the document included: it is the simplest rule, it is
/// the usual one, and it keeps one-sentence documents (a lone headline) in the score. The
/// final end is almost always right, so it lifts the figures a little; with documents of 15
/// sentences on average in CoNLL-2003 the effect is small.
pub fn sentence_boundaries(segmenter: &Segmenter, gold: &[Document]) -> BoundaryScores {
    let mut scores = BoundaryScores::default();
    for doc in gold {
        let raw = detokenize_document(doc);
        let (g, p) = sentence_ends(segmenter, &raw);
        scores += BoundaryScores::count(&g, &p);
    }
    scores
}

/// Token spans of the segmenter (sentences, then tokens in each) on the raw-text
/// reconstruction; a token counts as correct only when both its start and end match a gold
/// token. End to end on purpose: this is what the pipeline does with raw text.
pub fn token_spans(segmenter: &Segmenter, gold: &[Document]) -> BoundaryScores {
    let mut scores = BoundaryScores::default();
    for doc in gold {
        let raw = detokenize_document(doc);
        let mut pred = Document::new(raw.id.clone(), raw.text.clone());
        segmenter.segment(&mut pred);
        let g: HashSet<Span> = raw.tokens.iter().copied().collect();
        let p: HashSet<Span> = pred.tokens.iter().copied().collect();
        scores += BoundaryScores::count(&g, &p);
    }
    scores
}

/// A sentence end that the segmenter missed or invented, with the text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundaryError {
    pub doc_id: String,
    /// Character offset of the end in the reconstructed text.
    pub offset: usize,
    /// True for a gold end the segmenter missed, false for one it invented.
    pub missed: bool,
    /// Up to 40 characters either side, the boundary marked `|`, line breaks shown as `⏎`.
    pub context: String,
}

impl fmt::Display for BoundaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.missed { "missed" } else { "spurious" };
        write!(
            f,
            "{kind} {}@{}: {}",
            self.doc_id, self.offset, self.context
        )
    }
}

/// The first `limit` sentence-end errors, in document order, for reading what goes wrong.
pub fn sentence_boundary_errors(
    segmenter: &Segmenter,
    gold: &[Document],
    limit: usize,
) -> Vec<BoundaryError> {
    let mut out = Vec::new();
    for doc in gold {
        let raw = detokenize_document(doc);
        let (g, p) = sentence_ends(segmenter, &raw);
        let mut wrong: Vec<(usize, bool)> = g
            .difference(&p)
            .map(|&o| (o, true))
            .chain(p.difference(&g).map(|&o| (o, false)))
            .collect();
        wrong.sort();
        let ix = CharIndex::new(&raw.text);
        for (offset, missed) in wrong {
            if out.len() >= limit {
                return out;
            }
            let show = |s: usize, e: usize| ix.slice(s, e).unwrap_or("").replace('\n', "⏎");
            let context = format!(
                "{}|{}",
                show(offset.saturating_sub(40), offset),
                show(offset, (offset + 40).min(ix.char_len()))
            );
            out.push(BoundaryError {
                doc_id: raw.id.clone(),
                offset,
                missed,
                context,
            });
        }
    }
    out
}

fn sentence_ends(segmenter: &Segmenter, raw: &Document) -> (HashSet<usize>, HashSet<usize>) {
    let gold = raw.sentences.iter().map(|s| s.end).collect();
    let predicted = segmenter
        .sentences(&raw.text)
        .iter()
        .map(|s| s.end)
        .collect();
    (gold, predicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conll(id: &str, sentences: &[&str]) -> Document {
        let text = sentences.join("\n");
        let mut doc = Document::new(id, text.clone());
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
    fn scores() {
        let s = BoundaryScores {
            gold: 10,
            predicted: 8,
            correct: 6,
        };
        assert!((s.precision() - 0.75).abs() < 1e-9);
        assert!((s.recall() - 0.6).abs() < 1e-9);
        assert!((s.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-9);
        assert_eq!(BoundaryScores::default().f1(), 0.0);
        assert!(s.to_string().starts_with("P 75.00 R 60.00"));
    }

    #[test]
    fn counts_on_small_gold() {
        let seg = Segmenter::new();
        let gold = [
            conll("a", &["Mr. Smith went to the U.S. Senate .", "He left ."]),
            conll("b", &["BRUSSELS 1996-08-22", "Prices rose 3.5 % ."]),
        ];
        let s = sentence_boundaries(&seg, &gold);
        assert_eq!((s.gold, s.predicted, s.correct), (4, 4, 4));
        let t = token_spans(&seg, &gold);
        assert_eq!(t.gold, 18);
        assert_eq!(t.correct, t.gold);
        assert!(sentence_boundary_errors(&seg, &gold, 10).is_empty());

        let odd = [conll("c", &["Talks with Gen. Lee .", "It ended ."])];
        let s = sentence_boundaries(&seg, &odd);
        assert_eq!((s.gold, s.predicted, s.correct), (2, 2, 2));
        // A gold split after an initial is taken back by the splitter.
        let wrong = [conll("d", &["He met J.", "Smith ."])];
        let errors = sentence_boundary_errors(&seg, &wrong, 10);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].missed);
        assert_eq!(errors[0].context, "He met J.| Smith.");
    }
}
