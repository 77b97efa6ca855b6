//! Confidence intervals and significance from resampling documents.
//!
//! Scores on a test set are estimates: another sample of news stories would give other numbers.
//! Because every measure is a sum of per-document counts, we can resample *documents* (the unit
//! that was sampled, and inside which errors are correlated) with replacement, re-sum their
//! counts, recompute the statistic, and read the 2.5th and 97.5th percentiles of the resampled
//! statistics: the percentile bootstrap (Efron & Tibshirani 1993; Koehn 2004 for NLP).
//!
//! Comparisons of two systems on the same gold use the same resampled documents for both
//! (a *paired* bootstrap), so the interval is for the difference itself. Its p-value comes from
//! approximate randomisation (Noreen 1989; Riezler & Maxwell 2005): under the null hypothesis
//! that the two systems are interchangeable, swapping their outputs on any document does not
//! change the expected difference; we swap each document with probability 1/2 and count how
//! often the shuffled |difference| reaches the observed one. It is two-sided and, unlike the
//! "shifted" paired-bootstrap test, makes no assumption about the shape of the distribution.
//!
//! Everything is seeded (splitmix64; the crate has no `rand` dependency) so that a report is
//! reproducible to the last digit. Speed: the inner loop only adds plain counts by index; turn
//! label maps into dense vectors over a fixed label list first ([`LabelIndex`]).

use serde::Serialize;

use super::counts::{Counts, LabelCounts};

/// Resamples when `--bootstrap` is not given.
pub const DEFAULT_RESAMPLES: usize = 1000;
/// Seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 42;
/// Coverage of every interval reported.
pub const LEVEL: f64 = 0.95;

/// splitmix64 (Steele, Lea & Flood 2014): tiny, fast, and good enough for choosing indices.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for any corpus size).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }
}

/// Counts that add up over documents. A trait of our own rather than `AddAssign`, so that it
/// works by reference (no clone in the inner loop) and can be given to label maps and tuples.
pub trait Summable: Clone + Default {
    fn add_from(&mut self, other: &Self);
}

impl Summable for Counts {
    fn add_from(&mut self, other: &Self) {
        *self += *other;
    }
}

impl Summable for usize {
    fn add_from(&mut self, other: &Self) {
        *self += *other;
    }
}

impl<A: Summable, B: Summable> Summable for (A, B) {
    fn add_from(&mut self, other: &Self) {
        self.0.add_from(&other.0);
        self.1.add_from(&other.1);
    }
}

/// Element-wise; a shorter vector is extended, so `Vec::new()` is a valid zero.
impl<T: Summable> Summable for Vec<T> {
    fn add_from(&mut self, other: &Self) {
        if self.len() < other.len() {
            self.resize(other.len(), T::default());
        }
        for (a, b) in self.iter_mut().zip(other) {
            a.add_from(b);
        }
    }
}

impl Summable for super::nervaluate::SchemeCounts {
    fn add_from(&mut self, other: &Self) {
        *self += *other;
    }
}

/// Works, but allocates: prefer [`LabelIndex::dense`] for resampling.
impl Summable for LabelCounts {
    fn add_from(&mut self, other: &Self) {
        super::counts::add_counts(self, other);
    }
}

/// A fixed, sorted list of labels, so that per-document [`LabelCounts`] become dense vectors
/// that add by index.
#[derive(Debug, Clone, Default)]
pub struct LabelIndex {
    pub labels: Vec<String>,
}

impl LabelIndex {
    /// Every label seen in any document, sorted like [`LabelCounts`].
    pub fn of(docs: &[LabelCounts]) -> Self {
        let mut labels: Vec<String> = docs.iter().flat_map(|d| d.keys().cloned()).collect();
        labels.sort();
        labels.dedup();
        LabelIndex { labels }
    }

    pub fn dense(&self, counts: &LabelCounts) -> Vec<Counts> {
        self.labels
            .iter()
            .map(|l| counts.get(l).copied().unwrap_or_default())
            .collect()
    }

    /// Back to a map (for [`super::ScoreTable`]); labels absent from `dense` count zero.
    pub fn to_map(&self, dense: &[Counts]) -> LabelCounts {
        self.labels
            .iter()
            .zip(
                dense
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(Counts::default())),
            )
            .map(|(l, c)| (l.clone(), c))
            .collect()
    }
}

/// Micro F1 of dense per-label counts: F1 of the summed counts.
pub fn micro_f1(dense: &[Counts]) -> f64 {
    let mut total = Counts::default();
    for c in dense {
        total += *c;
    }
    total.f1()
}

/// Macro F1 of dense per-label counts. A label with no gold and no prediction in a resample
/// still counts as 0, as in the full-corpus score, so that resamples average the same labels.
pub fn macro_f1(dense: &[Counts]) -> f64 {
    if dense.is_empty() {
        return 0.0;
    }
    dense.iter().map(|c| c.f1()).sum::<f64>() / dense.len() as f64
}

/// A percentile interval from resampling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// How the resampling was done, reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
        }
    }
}

/// Sum of all items.
pub fn total<T: Summable>(items: &[T]) -> T {
    let mut acc = T::default();
    for it in items {
        acc.add_from(it);
    }
    acc
}

/// The `q` quantile of sorted values, interpolating linearly between ranks (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn percentile_interval(mut stats: Vec<f64>) -> Option<Interval> {
    if stats.is_empty() {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - LEVEL) / 2.0;
    Some(Interval {
        low: quantile(&stats, tail),
        high: quantile(&stats, 1.0 - tail),
    })
}

/// The statistic on `resamples` bootstrap samples of `items` (one item per document).
fn resampled<T, F>(items: &[T], stat: &F, s: Settings) -> Vec<f64>
where
    T: Summable,
    F: Fn(&T) -> f64,
{
    let mut rng = SplitMix64::new(s.seed);
    let n = items.len();
    let mut acc = T::default();
    (0..s.resamples)
        .map(|_| {
            acc = T::default();
            for _ in 0..n {
                acc.add_from(&items[rng.below(n)]);
            }
            stat(&acc)
        })
        .collect()
}

/// 95% percentile-bootstrap interval of `stat` over documents. `None` when there is nothing to
/// resample (no documents, or `resamples == 0`).
pub fn interval<T, F>(items: &[T], stat: F, s: Settings) -> Option<Interval>
where
    T: Summable,
    F: Fn(&T) -> f64,
{
    if items.is_empty() || s.resamples == 0 {
        return None;
    }
    percentile_interval(resampled(items, &stat, s))
}

/// A paired comparison of two predictions of the same gold documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Paired {
    /// The statistic for the first prediction (`--pred`).
    pub base: f64,
    /// The statistic for the second prediction (`--compare`).
    pub other: f64,
    /// `other - base`.
    pub difference: f64,
    /// Paired-bootstrap 95% interval of the difference.
    pub interval: Option<Interval>,
    /// Two-sided approximate-randomisation p-value, `(hits + 1) / (resamples + 1)`.
    pub p_value: Option<f64>,
}

/// Compare `stat` on two predictions, document by document: `base[i]` and `other[i]` must be
/// counts for the same gold document. See the module documentation for the method.
pub fn paired<T, F>(base: &[T], other: &[T], stat: F, s: Settings) -> Paired
where
    T: Summable,
    F: Fn(&T) -> f64,
{
    assert_eq!(base.len(), other.len(), "paired items must align");
    let a = stat(&total(base));
    let b = stat(&total(other));
    let observed = b - a;
    let n = base.len();
    if n == 0 || s.resamples == 0 {
        return Paired {
            base: a,
            other: b,
            difference: observed,
            interval: None,
            p_value: None,
        };
    }
    // Paired bootstrap: the same documents for both sides.
    let mut rng = SplitMix64::new(s.seed);
    let (mut acc_a, mut acc_b) = (T::default(), T::default());
    let diffs: Vec<f64> = (0..s.resamples)
        .map(|_| {
            acc_a = T::default();
            acc_b = T::default();
            for _ in 0..n {
                let i = rng.below(n);
                acc_a.add_from(&base[i]);
                acc_b.add_from(&other[i]);
            }
            stat(&acc_b) - stat(&acc_a)
        })
        .collect();
    // Approximate randomisation: swap each document's two outputs with probability 1/2.
    // A different stream from the bootstrap's, still fixed by the seed.
    let mut rng = SplitMix64::new(s.seed ^ 0xA5A5_A5A5_A5A5_A5A5);
    let eps = 1e-12;
    let mut hits = 0usize;
    for _ in 0..s.resamples {
        acc_a = T::default();
        acc_b = T::default();
        for i in 0..n {
            if rng.coin() {
                acc_a.add_from(&other[i]);
                acc_b.add_from(&base[i]);
            } else {
                acc_a.add_from(&base[i]);
                acc_b.add_from(&other[i]);
            }
        }
        if (stat(&acc_b) - stat(&acc_a)).abs() + eps >= observed.abs() {
            hits += 1;
        }
    }
    Paired {
        base: a,
        other: b,
        difference: observed,
        interval: percentile_interval(diffs),
        p_value: Some((hits + 1) as f64 / (s.resamples + 1) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(tp: usize, fp: usize, fn_: usize) -> Counts {
        Counts { tp, fp, fn_ }
    }

    /// 200 documents with varied counts over two labels.
    fn docs() -> Vec<Vec<Counts>> {
        let mut rng = SplitMix64::new(7);
        (0..200)
            .map(|_| {
                vec![
                    c(rng.below(5), rng.below(2), rng.below(2)),
                    c(rng.below(3), rng.below(3), rng.below(2)),
                ]
            })
            .collect()
    }

    #[test]
    fn splitmix_is_seeded_and_in_range() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(42);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let mut r = SplitMix64::new(42);
        assert_eq!(a, (0..5).map(|_| r.next_u64()).collect::<Vec<_>>());
        // Reference value of splitmix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut r = SplitMix64::new(1);
        let mut seen = [0usize; 10];
        for _ in 0..10_000 {
            seen[r.below(10)] += 1;
        }
        assert!(seen.iter().all(|&k| (800..1200).contains(&k)), "{seen:?}");
    }

    #[test]
    fn same_seed_same_interval_other_seed_other_interval() {
        let d = docs();
        let s = Settings::default();
        let a = interval(&d, |v: &Vec<Counts>| micro_f1(v), s).unwrap();
        let b = interval(&d, |v: &Vec<Counts>| micro_f1(v), s).unwrap();
        assert_eq!(a, b);
        let other = Settings { seed: 43, ..s };
        let c = interval(&d, |v: &Vec<Counts>| micro_f1(v), other).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn interval_contains_the_point_estimate() {
        let d = docs();
        let point = micro_f1(&total(&d));
        let ci = interval(&d, |v: &Vec<Counts>| micro_f1(v), Settings::default()).unwrap();
        assert!(ci.low < point && point < ci.high, "{ci:?} vs {point}");
        // 200 documents: the interval is a few points wide, not degenerate, not huge.
        assert!(ci.high - ci.low > 0.01 && ci.high - ci.low < 0.2, "{ci:?}");
        let point = macro_f1(&total(&d));
        let ci = interval(&d, |v: &Vec<Counts>| macro_f1(v), Settings::default()).unwrap();
        assert!(ci.low < point && point < ci.high, "{ci:?} vs {point}");
    }

    #[test]
    fn identical_documents_give_a_zero_width_interval() {
        // Every resample of identical documents sums to the same counts: a known answer.
        let d = vec![vec![c(3, 1, 0)]; 50];
        let ci = interval(&d, |v: &Vec<Counts>| micro_f1(v), Settings::default()).unwrap();
        assert!((ci.low - 6.0 / 7.0).abs() < 1e-12 && (ci.high - 6.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn binomial_accuracy_interval_matches_the_normal_approximation() {
        // 1000 documents of one token each, 80% correct: the 95% interval is about
        // 0.8 +- 1.96 * sqrt(0.8 * 0.2 / 1000) = 0.8 +- 0.0248.
        let d: Vec<(usize, usize)> = (0..1000).map(|i| ((i % 5 != 0) as usize, 1)).collect();
        let ci = interval(
            &d,
            |&(ok, n): &(usize, usize)| ok as f64 / n as f64,
            Settings::default(),
        )
        .unwrap();
        assert!((ci.low - 0.775).abs() < 0.006, "{ci:?}");
        assert!((ci.high - 0.825).abs() < 0.006, "{ci:?}");
    }

    #[test]
    fn nothing_to_resample_gives_none() {
        let d: Vec<Vec<Counts>> = Vec::new();
        assert!(interval(&d, |v: &Vec<Counts>| micro_f1(v), Settings::default()).is_none());
        let off = Settings {
            resamples: 0,
            ..Settings::default()
        };
        assert!(interval(&docs(), |v: &Vec<Counts>| micro_f1(v), off).is_none());
    }

    #[test]
    fn label_index_round_trips_and_sums_like_maps() {
        let mut a = LabelCounts::new();
        a.insert("PER".into(), c(1, 0, 1));
        let mut b = LabelCounts::new();
        b.insert("LOC".into(), c(2, 1, 0));
        b.insert("PER".into(), c(0, 1, 0));
        let idx = LabelIndex::of(&[a.clone(), b.clone()]);
        assert_eq!(idx.labels, ["LOC", "PER"]);
        let dense = total(&[idx.dense(&a), idx.dense(&b)]);
        assert_eq!(idx.to_map(&dense), total(&[a, b]));
    }

    #[test]
    fn paired_comparison_detects_a_real_difference_and_not_a_null_one() {
        let base = docs();
        // The other system finds one more true positive in every document.
        let better: Vec<Vec<Counts>> = base
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d[0].tp += 1;
                d
            })
            .collect();
        let s = Settings::default();
        let p = paired(&base, &better, |v: &Vec<Counts>| micro_f1(v), s);
        assert!(p.difference > 0.0);
        let ci = p.interval.unwrap();
        assert!(ci.low > 0.0 && ci.low < p.difference && p.difference < ci.high);
        assert!(p.p_value.unwrap() < 0.01, "{p:?}");
        // Against itself: no difference, p = 1.
        let same = paired(&base, &base, |v: &Vec<Counts>| micro_f1(v), s);
        assert_eq!(same.difference, 0.0);
        assert_eq!(same.p_value, Some(1.0));
        assert_eq!(p, paired(&base, &better, |v: &Vec<Counts>| micro_f1(v), s));
    }

    #[test]
    fn a_thousand_documents_resample() {
        let idx_docs: Vec<Vec<Counts>> = (0..1000)
            .map(|i| (0..4).map(|l| c(i % 7 + l, i % 3, i % 2)).collect())
            .collect();
        let ci = interval(
            &idx_docs,
            |v: &Vec<Counts>| micro_f1(v),
            Settings::default(),
        );
        assert!(ci.is_some());
    }
}
