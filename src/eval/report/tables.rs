//! The report as [`Table`]s: the one place that decides rows, columns and number formats, so
//! that terminal, Markdown and HTML output show the same figures.

use super::{AlignSummary, Interval, Report, ScoreSection, Table, ThresholdPoint};

/// A score as a percentage with two decimals.
pub fn pct(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// An interval as `[low, high]` in percent, or `-` when there is none.
pub fn pct_ci(ci: Option<Interval>) -> String {
    match ci {
        Some(c) => format!("[{}, {}]", pct(c.low), pct(c.high)),
        None => "-".into(),
    }
}

/// Rows of a threshold sweep shown in text tables: enough to read the trade-off.
const SWEEP_ROWS: usize = 11;

/// At most `n` points spread evenly over the sweep, first and last included.
fn sample_points(points: &[ThresholdPoint], n: usize) -> Vec<&ThresholdPoint> {
    if points.len() <= n {
        return points.iter().collect();
    }
    let mut idx: Vec<usize> = (0..n).map(|k| k * (points.len() - 1) / (n - 1)).collect();
    idx.dedup();
    idx.into_iter().map(|i| &points[i]).collect()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

impl ScoreSection {
    pub fn table(&self) -> Table {
        let s = &self.scores;
        let mut rows: Vec<Vec<String>> = s
            .per_label
            .iter()
            .map(|l| {
                vec![
                    l.label.clone(),
                    pct(l.prf.precision),
                    pct(l.prf.recall),
                    pct(l.prf.f1),
                    l.support.to_string(),
                    l.counts.tp.to_string(),
                    l.counts.fp.to_string(),
                    l.counts.fn_.to_string(),
                ]
            })
            .collect();
        let total = s.total;
        for (name, prf) in [
            ("micro avg", s.micro),
            ("macro avg", s.macro_),
            ("weighted avg", s.weighted),
        ] {
            let counts = if name == "micro avg" {
                [total.tp, total.fp, total.fn_].map(|n| n.to_string())
            } else {
                ["".into(), "".into(), "".into()]
            };
            let mut r = vec![
                name.to_string(),
                pct(prf.precision),
                pct(prf.recall),
                pct(prf.f1),
                total.support().to_string(),
            ];
            r.extend(counts);
            rows.push(r);
        }
        let mut notes = Vec::new();
        if self.micro_f1_ci.is_some() || self.macro_f1_ci.is_some() {
            notes.push(format!(
                "95% CI: micro F1 {}, macro F1 {}",
                pct_ci(self.micro_f1_ci),
                pct_ci(self.macro_f1_ci)
            ));
        }
        Table {
            title: self.name.clone(),
            header: row(&["label", "P", "R", "F1", "support", "tp", "fp", "fn"]),
            rows,
            notes,
        }
    }
}

impl Report {
    /// Every table of the report, in reading order.
    pub fn tables(&self) -> Vec<Table> {
        let mut out = Vec::new();
        let mut summary = vec![
            row(&["gold", &self.gold]),
            row(&["prediction", &self.pred]),
            row(&["documents", &self.documents.to_string()]),
        ];
        let a = &self.alignment;
        if *a != AlignSummary::default() {
            summary.push(row(&[
                "missing predictions",
                &a.missing_predictions.to_string(),
            ]));
            summary.push(row(&[
                "extra predictions",
                &a.extra_predictions.to_string(),
            ]));
            summary.push(row(&["text mismatches", &a.text_mismatches.to_string()]));
            summary.push(row(&["unknown labels", &a.unknown_labels.to_string()]));
        }
        if let Some(b) = self.bootstrap {
            summary.push(row(&[
                "bootstrap",
                &format!("{} resamples of documents, seed {}", b.resamples, b.seed),
            ]));
        }
        out.push(Table {
            title: "evaluation".into(),
            header: row(&["", ""]),
            rows: summary,
            notes: Vec::new(),
        });
        if let Some(e) = &self.entities {
            out.push(e.table());
        }
        if let Some(t) = &self.token_accuracy {
            out.push(Table {
                title: "token accuracy".into(),
                header: row(&["", "correct", "total", "accuracy", "95% CI"]),
                rows: vec![vec![
                    "tokens".into(),
                    t.correct.to_string(),
                    t.total.to_string(),
                    pct(t.accuracy),
                    pct_ci(t.ci),
                ]],
                notes: Vec::new(),
            });
        }
        if !self.nervaluate.is_empty() {
            out.push(Table {
                title: "entities (nervaluate schemes)".into(),
                header: row(&[
                    "scheme",
                    "correct",
                    "incorrect",
                    "partial",
                    "missed",
                    "spurious",
                    "P",
                    "R",
                    "F1",
                    "F1 95% CI",
                ]),
                rows: self
                    .nervaluate
                    .iter()
                    .map(|n| {
                        vec![
                            n.scheme.clone(),
                            n.correct.to_string(),
                            n.incorrect.to_string(),
                            n.partial.to_string(),
                            n.missed.to_string(),
                            n.spurious.to_string(),
                            pct(n.precision),
                            pct(n.recall),
                            pct(n.f1),
                            pct_ci(n.f1_ci),
                        ]
                    })
                    .collect(),
                notes: Vec::new(),
            });
        }
        out.extend(self.relations.iter().map(|r| r.table()));
        for c in &self.confusion {
            let mut header = vec!["gold \\ pred".to_string()];
            header.extend(c.labels.iter().cloned());
            out.push(Table {
                title: c.name.clone(),
                header,
                rows: c
                    .labels
                    .iter()
                    .zip(&c.matrix)
                    .map(|(l, r)| {
                        let mut v = vec![l.clone()];
                        v.extend(r.iter().map(|n| n.to_string()));
                        v
                    })
                    .collect(),
                notes: Vec::new(),
            });
        }
        for t in &self.thresholds {
            let mut notes = Vec::new();
            if let Some(b) = t.best {
                notes.push(format!(
                    "best threshold {:.2}: F1 {}",
                    b.threshold,
                    pct(b.f1)
                ));
            }
            if t.points.len() > SWEEP_ROWS {
                notes.push(format!(
                    "{SWEEP_ROWS} of {} thresholds shown; all are in the JSON report and the HTML curve",
                    t.points.len()
                ));
            }
            if !t.best_per_label.is_empty() {
                let per: Vec<String> = t
                    .best_per_label
                    .iter()
                    .map(|(l, th)| format!("{l} {th:.2}"))
                    .collect();
                notes.push(format!("best per label: {}", per.join(", ")));
            }
            out.push(Table {
                title: t.name.clone(),
                header: row(&["threshold", "P", "R", "F1"]),
                rows: sample_points(&t.points, SWEEP_ROWS)
                    .into_iter()
                    .map(|p| {
                        vec![
                            format!("{:.2}", p.threshold),
                            pct(p.precision),
                            pct(p.recall),
                            pct(p.f1),
                        ]
                    })
                    .collect(),
                notes,
            });
        }
        if let Some(c) = &self.comparison {
            out.push(Table {
                title: format!("comparison: {} minus {}", c.pred, self.pred),
                header: row(&["measure", "pred", "compare", "difference", "95% CI", "p"]),
                rows: c
                    .measures
                    .iter()
                    .map(|m| {
                        let p = &m.paired;
                        vec![
                            m.measure.clone(),
                            pct(p.base),
                            pct(p.other),
                            format!("{:+.2}", 100.0 * p.difference),
                            pct_ci(p.interval),
                            p.p_value.map_or("-".into(), |v| format!("{v:.4}")),
                        ]
                    })
                    .collect(),
                notes: vec![
                    c.method.clone(),
                    "macro averages run over the labels of both predictions".into(),
                ],
            });
        }
        out
    }
}
