//! The evaluation report: every figure `ertag eval` prints, in one serialisable value.
//!
//! [`Report`] is what `--json` writes, so its field names are an interface: change them only
//! with a version bump. The other renderers (terminal, Markdown, HTML) all start from the same
//! [`Table`]s built by [`Report::tables`], so the three never disagree about a number.
//!
//! Sections are built from per-document counts (one item per aligned document pair), which is
//! what lets every score carry a bootstrap interval and a paired comparison.

mod html;
mod tables;
mod text;

use serde::Serialize;

use super::align::AlignSummary;
use super::bootstrap::{self, Interval, LabelIndex, Paired, Settings};
use super::counts::{Counts, LabelCounts, ScoreTable};
use super::nervaluate::{Scheme, SchemeCounts};

pub use html::render_html;
pub use tables::{pct, pct_ci};
pub use text::{render_markdown, render_terminal};

/// Version of the JSON layout below.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub gold: String,
    pub pred: String,
    /// Document pairs scored.
    pub documents: usize,
    pub alignment: AlignSummary,
    /// How intervals were computed; `None` when `--bootstrap 0`.
    pub bootstrap: Option<Settings>,
    /// Exact-match entity scores (span and type).
    pub entities: Option<ScoreSection>,
    pub token_accuracy: Option<Accuracy>,
    /// SemEval-2013 schemes as nervaluate reports them.
    pub nervaluate: Vec<NerScheme>,
    /// Relation scores, one section per setting and level.
    pub relations: Vec<ScoreSection>,
    pub confusion: Vec<ConfusionMatrix>,
    pub thresholds: Vec<ThresholdCurve>,
    pub comparison: Option<Comparison>,
}

impl Report {
    pub fn new(gold: &str, pred: &str, documents: usize, alignment: AlignSummary) -> Self {
        Report {
            format_version: FORMAT_VERSION,
            gold: gold.to_string(),
            pred: pred.to_string(),
            documents,
            alignment,
            bootstrap: None,
            entities: None,
            token_accuracy: None,
            nervaluate: Vec::new(),
            relations: Vec::new(),
            confusion: Vec::new(),
            thresholds: Vec::new(),
            comparison: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}

/// Per-label precision, recall and F1 with averages and their intervals.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreSection {
    /// Human-readable title, e.g. `relations (strict, mention level)`.
    pub name: String,
    /// Relation setting (`strict`, `boundaries`, `gold_entities`); `None` for entities.
    pub setting: Option<String>,
    /// `mention` or `document`; `None` for entities.
    pub level: Option<String>,
    pub scores: ScoreTable,
    pub micro_f1_ci: Option<Interval>,
    pub macro_f1_ci: Option<Interval>,
}

impl ScoreSection {
    /// Sum per-document counts and, when `boot` is given, bootstrap micro and macro F1 over
    /// documents (dense label vectors, so resampling only adds integers).
    pub fn build(name: &str, per_doc: &[LabelCounts], boot: Option<Settings>) -> Self {
        let index = LabelIndex::of(per_doc);
        let dense: Vec<Vec<Counts>> = per_doc.iter().map(|d| index.dense(d)).collect();
        let totals = index.to_map(&bootstrap::total(&dense));
        let ci = |f: fn(&[Counts]) -> f64| {
            boot.and_then(|s| bootstrap::interval(&dense, |v: &Vec<Counts>| f(v), s))
        };
        ScoreSection {
            name: name.to_string(),
            setting: None,
            level: None,
            scores: ScoreTable::from_counts(&totals),
            micro_f1_ci: ci(bootstrap::micro_f1),
            macro_f1_ci: ci(bootstrap::macro_f1),
        }
    }

    pub fn relation(mut self, setting: &str, level: &str) -> Self {
        self.setting = Some(setting.to_string());
        self.level = Some(level.to_string());
        self
    }
}

/// Token-level tag accuracy.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    pub correct: usize,
    pub total: usize,
    pub accuracy: f64,
    pub ci: Option<Interval>,
}

impl Accuracy {
    /// From `(correct, total)` per document.
    pub fn build(per_doc: &[(usize, usize)], boot: Option<Settings>) -> Self {
        let acc = |&(ok, n): &(usize, usize)| if n == 0 { 0.0 } else { ok as f64 / n as f64 };
        let (correct, total) = bootstrap::total(per_doc);
        Accuracy {
            correct,
            total,
            accuracy: acc(&(correct, total)),
            ci: boot.and_then(|s| bootstrap::interval(per_doc, acc, s)),
        }
    }
}

/// One nervaluate scheme (`strict`, `exact`, `partial`, `ent_type`).
#[derive(Debug, Clone, Serialize)]
pub struct NerScheme {
    pub scheme: String,
    pub correct: usize,
    pub incorrect: usize,
    pub partial: usize,
    pub missed: usize,
    pub spurious: usize,
    pub possible: usize,
    pub actual: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub f1_ci: Option<Interval>,
}

impl NerScheme {
    /// Sum one scheme's per-document counts; bootstrap its F1 over documents.
    pub fn build(scheme: Scheme, per_doc: &[SchemeCounts], boot: Option<Settings>) -> Self {
        let c = bootstrap::total(per_doc);
        let prf = c.scores(scheme);
        NerScheme {
            scheme: scheme.name().to_string(),
            correct: c.correct,
            incorrect: c.incorrect,
            partial: c.partial,
            missed: c.missed,
            spurious: c.spurious,
            possible: c.possible(),
            actual: c.actual(),
            precision: prf.precision,
            recall: prf.recall,
            f1: prf.f1,
            f1_ci: boot.and_then(|s| {
                bootstrap::interval(per_doc, |c: &SchemeCounts| c.scores(scheme).f1, s)
            }),
        }
    }
}

/// A confusion matrix: `matrix[g][p]` mentions of gold label `labels[g]` predicted as
/// `labels[p]`; the label `none` stands for "no matching mention" on either side.
#[derive(Debug, Clone, Serialize)]
pub struct ConfusionMatrix {
    pub name: String,
    pub labels: Vec<String>,
    pub matrix: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    pub fn from_counts(name: &str, c: &super::confusion::Confusion) -> Self {
        let rows = c.rows();
        ConfusionMatrix {
            name: name.to_string(),
            labels: rows.iter().map(|(l, _)| l.clone()).collect(),
            matrix: rows.into_iter().map(|(_, r)| r).collect(),
        }
    }
}

/// Scores when predictions below a score threshold are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdPoint {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// A sweep of thresholds (a precision/recall curve) and the best one for F1.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdCurve {
    pub name: String,
    pub points: Vec<ThresholdPoint>,
    pub best: Option<ThresholdPoint>,
    /// Best threshold per label, when the sweep gives them.
    pub best_per_label: Vec<(String, f64)>,
}

/// `--compare`: a second prediction against the same gold.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The second prediction file.
    pub pred: String,
    /// How the p-value was computed, for readers of the JSON.
    pub method: String,
    pub measures: Vec<ComparisonRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub measure: String,
    #[serde(flatten)]
    pub paired: Paired,
}

impl ComparisonRow {
    /// Micro and macro F1 rows for one measure given per-document counts of both predictions
    /// (same documents, same order). Labels come from both sides, so a label only one system
    /// predicts still counts in the macro average of both.
    pub fn f1_rows(
        measure: &str,
        base: &[LabelCounts],
        other: &[LabelCounts],
        s: Settings,
    ) -> Vec<ComparisonRow> {
        let all: Vec<LabelCounts> = base.iter().chain(other).cloned().collect();
        let index = LabelIndex::of(&all);
        let dense =
            |d: &[LabelCounts]| -> Vec<Vec<Counts>> { d.iter().map(|c| index.dense(c)).collect() };
        let (a, b) = (dense(base), dense(other));
        vec![
            ComparisonRow {
                measure: format!("{measure} micro F1"),
                paired: bootstrap::paired(&a, &b, |v: &Vec<Counts>| bootstrap::micro_f1(v), s),
            },
            ComparisonRow {
                measure: format!("{measure} macro F1"),
                paired: bootstrap::paired(&a, &b, |v: &Vec<Counts>| bootstrap::macro_f1(v), s),
            },
        ]
    }
}

/// Description of the comparison method written into the report.
pub const COMPARISON_METHOD: &str = "difference = compare minus pred; 95% interval: paired \
    bootstrap over documents; p-value: two-sided approximate randomisation (each document's \
    two predictions swapped with probability 1/2)";

/// A rendered-agnostic table: what the terminal, Markdown and HTML renderers all print.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Notes printed under the table.
    pub notes: Vec<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small report with every section filled, and a label that needs escaping.
    pub(crate) fn sample() -> Report {
        let mut d1 = LabelCounts::new();
        d1.insert(
            "PER".into(),
            Counts {
                tp: 3,
                fp: 1,
                fn_: 0,
            },
        );
        d1.insert(
            "<script>alert(1)</script>".into(),
            Counts {
                tp: 1,
                fp: 0,
                fn_: 1,
            },
        );
        let mut d2 = LabelCounts::new();
        d2.insert(
            "PER".into(),
            Counts {
                tp: 2,
                fp: 0,
                fn_: 2,
            },
        );
        let docs = vec![d1, d2];
        let settings = Settings {
            resamples: 200,
            seed: 1,
        };
        let boot = Some(settings);
        let mut r = Report::new("gold.jsonl", "pred.jsonl", 2, AlignSummary::default());
        r.bootstrap = boot;
        r.entities = Some(ScoreSection::build("entities", &docs, boot));
        r.token_accuracy = Some(Accuracy::build(&[(9, 10), (5, 10)], boot));
        r.relations.push(
            ScoreSection::build("relations (strict, mention level)", &docs, boot)
                .relation("strict", "mention"),
        );
        r.confusion.push(ConfusionMatrix {
            name: "entity type confusion".into(),
            labels: vec!["LOC".into(), "PER".into(), "none".into()],
            matrix: vec![vec![5, 1, 2], vec![0, 7, 1], vec![1, 2, 0]],
        });
        let pts: Vec<ThresholdPoint> = (0..=10)
            .map(|i| {
                let t = i as f64 / 10.0;
                ThresholdPoint {
                    threshold: t,
                    precision: 0.5 + 0.5 * t,
                    recall: 1.0 - 0.8 * t,
                    f1: 0.0,
                }
            })
            .map(|mut p| {
                p.f1 = 2.0 * p.precision * p.recall / (p.precision + p.recall);
                p
            })
            .collect();
        r.thresholds.push(ThresholdCurve {
            name: "relation threshold sweep".into(),
            best: pts.iter().copied().max_by(|a, b| a.f1.total_cmp(&b.f1)),
            points: pts,
            best_per_label: vec![("located_in".into(), 0.4)],
        });
        let better: Vec<LabelCounts> = docs
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.get_mut("PER").unwrap().tp += 1;
                d
            })
            .collect();
        r.comparison = Some(Comparison {
            pred: "pred2.jsonl".into(),
            method: COMPARISON_METHOD.into(),
            measures: ComparisonRow::f1_rows("entities", &docs, &better, settings),
        });
        r
    }

    #[test]
    fn json_field_names_are_stable() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        for key in [
            "format_version",
            "gold",
            "pred",
            "documents",
            "alignment",
            "bootstrap",
            "entities",
            "token_accuracy",
            "nervaluate",
            "relations",
            "confusion",
            "thresholds",
            "comparison",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let e = &v["entities"];
        assert_eq!(e["scores"]["per_label"][1]["label"], "PER");
        assert!(e["scores"]["micro"]["f1"].is_f64());
        assert!(e["scores"]["macro"]["f1"].is_f64());
        assert!(e["micro_f1_ci"]["low"].is_f64() && e["micro_f1_ci"]["high"].is_f64());
        assert_eq!(v["relations"][0]["setting"], "strict");
        assert_eq!(v["relations"][0]["level"], "mention");
        assert_eq!(v["token_accuracy"]["correct"], 14);
        assert_eq!(v["bootstrap"]["resamples"], 200);
        let m = &v["comparison"]["measures"][0];
        assert_eq!(m["measure"], "entities micro F1");
        for k in ["base", "other", "difference", "interval", "p_value"] {
            assert!(m.get(k).is_some(), "comparison lacks {k}");
        }
    }

    #[test]
    fn section_totals_and_intervals() {
        let s = sample();
        let e = s.entities.unwrap();
        assert_eq!(e.scores.total.tp, 6);
        let ci = e.micro_f1_ci.unwrap();
        assert!(ci.low <= e.scores.micro.f1 && e.scores.micro.f1 <= ci.high);
        assert!((s.token_accuracy.unwrap().accuracy - 0.7).abs() < 1e-12);
    }
}
