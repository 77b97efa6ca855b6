//! Counting matches and turning counts into precision, recall and F1 with their averages.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use serde::Serialize;

/// Matches of one label in one or more documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Predicted and in the gold.
    pub tp: usize,
    /// Predicted, not in the gold.
    pub fp: usize,
    /// In the gold, not predicted.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Gold items of this label.
    pub fn support(&self) -> usize {
        self.tp + self.fn_
    }

    pub fn prf(&self) -> Prf {
        Prf {
            precision: self.precision(),
            recall: self.recall(),
            f1: self.f1(),
        }
    }
}

/// 0/0 is 0, as conlleval, seqeval (zero_division=0) and nervaluate count it.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// Counts per label; labels sorted so every report lists them in the same order.
pub type LabelCounts = BTreeMap<String, Counts>;

/// Add `other` into `total`, label by label.
pub fn add_counts(total: &mut LabelCounts, other: &LabelCounts) {
    for (label, c) in other {
        *total.entry(label.clone()).or_default() += *c;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// One row of a score table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    pub label: String,
    #[serde(flatten)]
    pub prf: Prf,
    pub support: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Per-label scores with micro, macro and weighted averages, as seqeval's classification report
/// gives them: micro from summed counts; macro the mean of per-label figures; weighted the mean
/// weighted by support.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreTable {
    pub per_label: Vec<LabelScore>,
    pub micro: Prf,
    #[serde(rename = "macro")]
    pub macro_: Prf,
    pub weighted: Prf,
    pub total: Counts,
}

impl ScoreTable {
    pub fn from_counts(counts: &LabelCounts) -> Self {
        let per_label: Vec<LabelScore> = counts
            .iter()
            .map(|(label, c)| LabelScore {
                label: label.clone(),
                prf: c.prf(),
                support: c.support(),
                counts: *c,
            })
            .collect();
        let mut total = Counts::default();
        for c in counts.values() {
            total += *c;
        }
        let n = per_label.len().max(1) as f64;
        let mean = |f: fn(&Prf) -> f64| per_label.iter().map(|s| f(&s.prf)).sum::<f64>() / n;
        let support: usize = per_label.iter().map(|s| s.support).sum();
        let weighted = |f: fn(&Prf) -> f64| {
            if support == 0 {
                0.0
            } else {
                per_label
                    .iter()
                    .map(|s| f(&s.prf) * s.support as f64)
                    .sum::<f64>()
                    / support as f64
            }
        };
        ScoreTable {
            micro: total.prf(),
            macro_: Prf {
                precision: mean(|p| p.precision),
                recall: mean(|p| p.recall),
                f1: mean(|p| p.f1),
            },
            weighted: Prf {
                precision: weighted(|p| p.precision),
                recall: weighted(|p| p.recall),
                f1: weighted(|p| p.f1),
            },
            per_label,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_match_a_hand_computed_example() {
        let mut counts = LabelCounts::new();
        counts.insert(
            "LOC".into(),
            Counts {
                tp: 3,
                fp: 1,
                fn_: 1,
            },
        );
        counts.insert(
            "PER".into(),
            Counts {
                tp: 1,
                fp: 0,
                fn_: 3,
            },
        );
        let t = ScoreTable::from_counts(&counts);
        // micro: tp 4, fp 1, fn 4 -> P 0.8, R 0.5, F1 8/13.
        assert!((t.micro.precision - 0.8).abs() < 1e-12);
        assert!((t.micro.recall - 0.5).abs() < 1e-12);
        assert!((t.micro.f1 - 8.0 / 13.0).abs() < 1e-12);
        // macro F1: LOC 0.75, PER 0.4 -> 0.575; weighted by support 4 and 4 -> the same.
        assert!((t.macro_.f1 - 0.575).abs() < 1e-12);
        assert!((t.weighted.f1 - 0.575).abs() < 1e-12);
        assert_eq!(t.per_label[0].label, "LOC");
        assert_eq!(t.total.support(), 8);
    }

    #[test]
    fn empty_counts_score_zero() {
        let t = ScoreTable::from_counts(&LabelCounts::new());
        assert_eq!(t.micro.f1, 0.0);
        assert_eq!(Counts::default().precision(), 0.0);
    }
}
