//! The four SemEval-2013 (task 9.1) schemes, counted exactly as nervaluate 1.2.1 counts them:
//!
//! | scheme | a prediction is correct when | a wrong one is |
//! |---|---|---|
//! | `strict` | same boundaries and type | incorrect if it overlaps a gold entity |
//! | `exact` | same boundaries, any type | incorrect if it overlaps a gold entity |
//! | `partial` | same boundaries, any type | partial if it overlaps a gold entity |
//! | `ent_type` | same type, overlapping | incorrect if it overlaps one of another type |
//!
//! A prediction that overlaps no (unmatched) gold entity is spurious; a gold entity that no
//! prediction matched is missed. `possible = correct + incorrect + partial + missed`, `actual =
//! correct + incorrect + partial + spurious`; precision is `correct / actual` and recall
//! `correct / possible`, except in `partial` and `ent_type` where a partial match counts half
//! (`correct + 0.5 * partial`).
//!
//! Matching is nervaluate's greedy one: predictions in order (by start, then end, as nervaluate
//! reads them from tags), each scanning the gold entities in order and taking the first that
//! qualifies (in `ent_type`, the same-type one with the nearest boundaries); a gold entity
//! is matched at most once. Overlap uses nervaluate's default threshold: the overlap must be at
//! least 1% of the gold entity's length.
//!
//! nervaluate works on token indices; ertag works on character spans. When both documents'
//! entities fall on the gold document's token boundaries (always true for CoNLL input), they are
//! converted to token indices first, so overlap percentages and `ent_type`'s boundary distances
//! are the very numbers nervaluate computes. Otherwise characters are used: overlap is then the
//! same relation (any token in common iff any character in common), but the 1% threshold and the
//! distances are measured in characters.
//!
//! Disputed counting, where this module follows nervaluate 1.2.1 on purpose:
//! - nervaluate issue 29 (one gold entity predicted as two pieces): older versions counted both
//!   pieces as incorrect, so `possible` exceeded the number of gold entities. 1.2.1 matches a
//!   gold entity at most once: the first piece is incorrect (partial in `partial`), the second
//!   finds no unmatched gold entity and is spurious. So `possible` is the gold count, but one
//!   wrong prediction may cost both precision and recall twice.
//! - nervaluate issue 42 (where a spurious prediction is counted per type): old versions added a
//!   spurious prediction of a type absent from the gold to every type. 1.2.1 evaluates each type
//!   on the gold and predicted entities of that type only, so a spurious prediction counts under
//!   its own type, and a prediction with the right span but the wrong type is `incorrect`
//!   overall but, per type, spurious under its type and missed under the gold's. Per-type counts
//!   therefore do not add up to the overall ones.
//! - nervaluate issues 39/40 (a prediction spanning two gold entities): only the first gold
//!   entity is consumed; the second stays available and, if nothing else matches it, is missed.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::AddAssign;

use serde::Serialize;

use crate::document::Document;
use crate::eval::counts::Prf;

/// One of nervaluate's evaluation schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Strict,
    Exact,
    Partial,
    EntType,
}

impl Scheme {
    pub const ALL: [Scheme; 4] = [
        Scheme::Strict,
        Scheme::Exact,
        Scheme::Partial,
        Scheme::EntType,
    ];

    /// nervaluate's name for the scheme.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Strict => "strict",
            Scheme::Exact => "exact",
            Scheme::Partial => "partial",
            Scheme::EntType => "ent_type",
        }
    }

    /// Whether a partial match earns half credit in precision and recall (nervaluate's
    /// `partial_or_type`).
    fn half_credit(self) -> bool {
        matches!(self, Scheme::Partial | Scheme::EntType)
    }
}

/// Counts of one scheme; they add up over documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SchemeCounts {
    pub correct: usize,
    pub incorrect: usize,
    pub partial: usize,
    pub missed: usize,
    pub spurious: usize,
}

impl SchemeCounts {
    /// Gold entities accounted for: `correct + incorrect + partial + missed`.
    pub fn possible(&self) -> usize {
        self.correct + self.incorrect + self.partial + self.missed
    }

    /// Predictions accounted for: `correct + incorrect + partial + spurious`.
    pub fn actual(&self) -> usize {
        self.correct + self.incorrect + self.partial + self.spurious
    }

    /// Precision, recall and F1 under `scheme` (0 where a denominator is 0, as in nervaluate).
    pub fn scores(&self, scheme: Scheme) -> Prf {
        let credit = if scheme.half_credit() {
            self.correct as f64 + 0.5 * self.partial as f64
        } else {
            self.correct as f64
        };
        let div = |d: usize| if d == 0 { 0.0 } else { credit / d as f64 };
        let (precision, recall) = (div(self.actual()), div(self.possible()));
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

impl AddAssign for SchemeCounts {
    fn add_assign(&mut self, o: SchemeCounts) {
        self.correct += o.correct;
        self.incorrect += o.incorrect;
        self.partial += o.partial;
        self.missed += o.missed;
        self.spurious += o.spurious;
    }
}

/// The counts of all four schemes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SchemeSet {
    pub strict: SchemeCounts,
    pub exact: SchemeCounts,
    pub partial: SchemeCounts,
    pub ent_type: SchemeCounts,
}

impl SchemeSet {
    pub fn get(&self, scheme: Scheme) -> &SchemeCounts {
        match scheme {
            Scheme::Strict => &self.strict,
            Scheme::Exact => &self.exact,
            Scheme::Partial => &self.partial,
            Scheme::EntType => &self.ent_type,
        }
    }

    fn get_mut(&mut self, scheme: Scheme) -> &mut SchemeCounts {
        match scheme {
            Scheme::Strict => &mut self.strict,
            Scheme::Exact => &mut self.exact,
            Scheme::Partial => &mut self.partial,
            Scheme::EntType => &mut self.ent_type,
        }
    }

    /// Precision, recall and F1 of `scheme`.
    pub fn scores(&self, scheme: Scheme) -> Prf {
        self.get(scheme).scores(scheme)
    }
}

impl AddAssign for SchemeSet {
    fn add_assign(&mut self, o: SchemeSet) {
        for s in Scheme::ALL {
            *self.get_mut(s) += *o.get(s);
        }
    }
}

/// nervaluate's result for one document (or, summed, a corpus): overall and per entity type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NerEvalCounts {
    pub overall: SchemeSet,
    /// Each type evaluated on the entities of that type alone (see the module documentation).
    pub per_type: BTreeMap<String, SchemeSet>,
}

impl AddAssign for NerEvalCounts {
    fn add_assign(&mut self, o: NerEvalCounts) {
        self.overall += o.overall;
        for (label, set) in o.per_type {
            *self.per_type.entry(label).or_default() += set;
        }
    }
}

/// An entity as nervaluate holds it: `start..=end` (inclusive) in tokens or characters.
#[derive(Debug, Clone, PartialEq)]
struct Ent<'a> {
    label: &'a str,
    start: i64,
    end: i64,
}

/// Compare one document's prediction with its gold under all four schemes, overall and per type
/// (every type seen on either side).
pub fn nervaluate_counts(gold: &Document, pred: &Document) -> NerEvalCounts {
    let (trues, preds) = entities(gold, pred);
    let mut out = NerEvalCounts::default();
    for scheme in Scheme::ALL {
        *out.overall.get_mut(scheme) = evaluate(scheme, &trues, &preds);
    }
    let labels: BTreeSet<&str> = trues.iter().chain(&preds).map(|e| e.label).collect();
    for label in labels {
        let t: Vec<Ent> = trues.iter().filter(|e| e.label == label).cloned().collect();
        let p: Vec<Ent> = preds.iter().filter(|e| e.label == label).cloned().collect();
        let set = out.per_type.entry(label.to_string()).or_default();
        for scheme in Scheme::ALL {
            *set.get_mut(scheme) = evaluate(scheme, &t, &p);
        }
    }
    out
}

/// Both documents' entities, sorted by (start, end), in gold token indices when all of them fall
/// on gold token boundaries, else in characters.
fn entities<'a>(gold: &'a Document, pred: &'a Document) -> (Vec<Ent<'a>>, Vec<Ent<'a>>) {
    let tokens = &gold.tokens;
    let to_tokens = |d: &'a Document| -> Option<Vec<Ent<'a>>> {
        d.entities
            .iter()
            .map(|e| {
                let s = tokens.binary_search_by_key(&e.start, |t| t.start).ok()?;
                let l = tokens.binary_search_by_key(&e.end, |t| t.end).ok()?;
                (s <= l).then_some(Ent {
                    label: &e.label,
                    start: s as i64,
                    end: l as i64,
                })
            })
            .collect()
    };
    let in_chars = |d: &'a Document| -> Vec<Ent<'a>> {
        let ent = |e: &'a crate::document::Entity| Ent {
            label: &e.label,
            start: e.start as i64,
            end: e.end as i64 - 1,
        };
        d.entities.iter().map(ent).collect()
    };
    let (mut t, mut p) = match (to_tokens(gold), to_tokens(pred)) {
        (Some(t), Some(p)) if !tokens.is_empty() => (t, p),
        _ => (in_chars(gold), in_chars(pred)),
    };
    t.sort_by_key(|e| (e.start, e.end));
    p.sort_by_key(|e| (e.start, e.end));
    (t, p)
}

/// nervaluate's `_has_sufficient_overlap` with its default `min_overlap_percentage` of 1.
fn overlaps(pred: &Ent, gold: &Ent) -> bool {
    if pred.start > gold.end || pred.end < gold.start {
        return false;
    }
    let span = (pred.end.min(gold.end) - pred.start.max(gold.start) + 1) as f64;
    let gold_len = (gold.end - gold.start + 1) as f64;
    span / gold_len * 100.0 >= 1.0
}

fn same_bounds(a: &Ent, b: &Ent) -> bool {
    a.start == b.start && a.end == b.end
}

/// One scheme's `evaluate` from nervaluate 1.2.1's `strategies.py`, line for line.
fn evaluate(scheme: Scheme, trues: &[Ent], preds: &[Ent]) -> SchemeCounts {
    let mut r = SchemeCounts::default();
    let mut matched = vec![false; trues.len()];
    for pred in preds {
        // The gold entity this prediction is matched to, and whether it is a full match.
        let mut full: Option<usize> = None;
        let mut fallback: Option<usize> = None;
        match scheme {
            Scheme::Strict | Scheme::Exact => {
                for (i, t) in trues.iter().enumerate() {
                    if matched[i] {
                        continue;
                    }
                    let typed = scheme == Scheme::Exact || pred.label == t.label;
                    if typed && same_bounds(pred, t) {
                        full = Some(i);
                        break;
                    }
                    if fallback.is_none() && overlaps(pred, t) {
                        fallback = Some(i);
                    }
                }
            }
            Scheme::Partial => {
                for (i, t) in trues.iter().enumerate() {
                    if matched[i] || !overlaps(pred, t) {
                        continue;
                    }
                    if same_bounds(pred, t) {
                        full = Some(i);
                        break;
                    }
                    fallback.get_or_insert(i);
                }
            }
            Scheme::EntType => {
                let mut best: Option<i64> = None;
                for (i, t) in trues.iter().enumerate() {
                    if matched[i] || !overlaps(pred, t) {
                        continue;
                    }
                    let distance = (pred.start - t.start).abs() + (pred.end - t.end).abs();
                    if pred.label == t.label {
                        if best.is_none_or(|b| distance < b) {
                            full = Some(i);
                            best = Some(distance);
                        }
                    } else {
                        fallback.get_or_insert(i);
                    }
                }
            }
        }
        match (full, fallback) {
            (Some(i), _) => {
                r.correct += 1;
                matched[i] = true;
            }
            (None, Some(i)) => {
                if scheme == Scheme::Partial {
                    r.partial += 1;
                } else {
                    r.incorrect += 1;
                }
                matched[i] = true;
            }
            (None, None) => r.spurious += 1,
        }
    }
    r.missed = matched.iter().filter(|m| !**m).count();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Span;

    /// A document of `n` one-character tokens "a b c ..." with entities over token ranges
    /// `[start, end]` (inclusive, as nervaluate writes them).
    fn doc(n: usize, ents: &[(&str, usize, usize)]) -> Document {
        let text = vec!["a"; n].join(" ");
        let mut d = Document::new("d", text);
        d.tokens = (0..n).map(|i| Span::new(2 * i, 2 * i + 1)).collect();
        for &(label, s, e) in ents {
            d.add_entity(2 * s, 2 * e + 1, label).unwrap();
        }
        d
    }

    fn counts(c: &SchemeCounts) -> [usize; 5] {
        [c.correct, c.incorrect, c.partial, c.missed, c.spurious]
    }

    /// nervaluate's README example: expected counts from nervaluate 1.2.1.
    #[test]
    fn readme_example() {
        let gold = doc(8, &[("PER", 2, 4), ("LOC", 6, 6)]);
        let pred = doc(8, &[("PER", 2, 4), ("LOC", 5, 6)]);
        let r = nervaluate_counts(&gold, &pred);
        assert_eq!(counts(&r.overall.strict), [1, 1, 0, 0, 0]);
        assert_eq!(counts(&r.overall.exact), [1, 1, 0, 0, 0]);
        assert_eq!(counts(&r.overall.partial), [1, 0, 1, 0, 0]);
        assert_eq!(counts(&r.overall.ent_type), [2, 0, 0, 0, 0]);
        let p = r.overall.scores(Scheme::Partial);
        assert!((p.precision - 0.75).abs() < 1e-12 && (p.f1 - 0.75).abs() < 1e-12);
        assert_eq!(r.overall.strict.scores(Scheme::Strict).recall, 0.5);
    }

    /// Issue 29: one gold entity predicted in two pieces; issue 42: a wrong type counts per type
    /// as spurious under the predicted type and missed under the gold type.
    #[test]
    fn disputed_cases_follow_nervaluate_1_2_1() {
        let gold = doc(12, &[("PER", 1, 2), ("PER", 3, 10)]);
        let pred = doc(12, &[("PER", 1, 2), ("PER", 3, 5), ("PER", 6, 10)]);
        let r = nervaluate_counts(&gold, &pred);
        assert_eq!(counts(&r.overall.exact), [1, 1, 0, 0, 1]);
        assert_eq!(r.overall.exact.possible(), 2);
        assert_eq!(counts(&r.overall.partial), [1, 0, 1, 0, 1]);
        assert_eq!(counts(&r.overall.ent_type), [2, 0, 0, 0, 1]);

        let gold = doc(4, &[("PER", 0, 1)]);
        let pred = doc(4, &[("ORG", 0, 1)]);
        let r = nervaluate_counts(&gold, &pred);
        assert_eq!(counts(&r.overall.strict), [0, 1, 0, 0, 0]);
        assert_eq!(counts(&r.overall.exact), [1, 0, 0, 0, 0]);
        assert_eq!(counts(&r.per_type["PER"].strict), [0, 0, 0, 1, 0]);
        assert_eq!(counts(&r.per_type["ORG"].strict), [0, 0, 0, 0, 1]);
        assert_eq!(counts(&r.per_type["ORG"].exact), [0, 0, 0, 0, 1]);
    }

    #[test]
    fn ent_type_takes_the_nearest_gold_and_counts_add_up() {
        let gold = doc(10, &[("LOC", 0, 4), ("LOC", 5, 6)]);
        let pred = doc(10, &[("LOC", 3, 6)]);
        let r = nervaluate_counts(&gold, &pred);
        // Distance to [0,4] is 3 + 2 = 5, to [5,6] is 2: the second gold is matched.
        assert_eq!(counts(&r.overall.ent_type), [1, 0, 0, 1, 0]);
        let mut total = r.clone();
        total += r;
        assert_eq!(counts(&total.overall.ent_type), [2, 0, 0, 2, 0]);
        assert_eq!(total.per_type["LOC"].ent_type.possible(), 4);
    }
}
