//! Relation extraction scores in the settings of end-to-end relation extraction papers
//! (Bekoulis et al. 2018; Taillé et al. 2020, "Let's Stop Incorrect Comparisons in End-to-end
//! Relation Extraction"), which differ in what an argument must get right.
//!
//! As everywhere in [`crate::eval`], one gold document and its prediction give additive
//! [`LabelCounts`]; sets of keys are compared, so a relation predicted twice counts once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::counts::{Counts, LabelCounts, Prf};
use crate::document::{Document, Entity, Relation, Span};

/// What a predicted relation's arguments must get right to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationSetting {
    /// Label, direction, and both arguments' boundaries and types ("strict" in Taillé et al.).
    Strict,
    /// Label, direction and both arguments' boundaries; argument types ignored.
    Boundaries,
    /// Relation classification given the gold entities: arguments matched by boundaries, and a
    /// predicted relation counts only when both of its argument spans are spans of gold
    /// entities. A predicted relation with an argument that is no gold mention is ignored
    /// (neither true nor false positive), so entity recognition errors do not leak into the
    /// score. Gold relations all count: a gold relation not predicted is a false negative.
    GoldEntities,
}

impl RelationSetting {
    pub const ALL: [RelationSetting; 3] = [
        RelationSetting::Strict,
        RelationSetting::Boundaries,
        RelationSetting::GoldEntities,
    ];

    /// The name used in reports and on the command line (same as the serde name).
    pub fn name(&self) -> &'static str {
        match self {
            RelationSetting::Strict => "strict",
            RelationSetting::Boundaries => "boundaries",
            RelationSetting::GoldEntities => "gold_entities",
        }
    }

    fn uses_types(&self) -> bool {
        matches!(self, RelationSetting::Strict)
    }
}

impl std::fmt::Display for RelationSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How one argument is identified: by span (mention level) or by normalised text (document
/// level), with its type only in the strict setting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ArgKey {
    span: Option<Span>,
    text: Option<String>,
    label: Option<String>,
}

/// (head, tail, label); for symmetric labels head <= tail so both directions are one key.
pub(crate) type RelKey = (ArgKey, ArgKey, String);

/// Case-folded, whitespace-collapsed surface text: the identity of an argument at document
/// level, since a story names the same entity with several mentions and coreference is not
/// annotated. "Vladimir  Putin" and "vladimir putin" are one argument; "Putin" is another.
pub fn normalise_text(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

fn entity_text(doc: &Document, e: &Entity) -> String {
    if e.text.is_empty() {
        let idx = crate::offsets::CharIndex::new(&doc.text);
        idx.slice(e.start, e.end).unwrap_or("").to_string()
    } else {
        e.text.clone()
    }
}

fn arg_key(doc: &Document, e: &Entity, setting: RelationSetting, doc_level: bool) -> ArgKey {
    ArgKey {
        span: (!doc_level).then(|| e.span()),
        text: doc_level.then(|| normalise_text(&entity_text(doc, e))),
        label: setting.uses_types().then(|| e.label.clone()),
    }
}

/// The key of each relation whose arguments exist, in document order, with its score
/// (unscored relations, e.g. gold or rule output, score 1.0). Relations naming an unknown
/// entity id are skipped: the document validator reports them.
pub(crate) fn relation_keys(
    doc: &Document,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
    only_spans: Option<&BTreeSet<Span>>,
) -> Vec<(RelKey, f32)> {
    let by_id: HashMap<&str, &Entity> = doc.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    doc.relations
        .iter()
        .filter_map(|r: &Relation| {
            let h = by_id.get(r.head.as_str())?;
            let t = by_id.get(r.tail.as_str())?;
            if let Some(spans) = only_spans {
                if !spans.contains(&h.span()) || !spans.contains(&t.span()) {
                    return None;
                }
            }
            let mut hk = arg_key(doc, h, setting, doc_level);
            let mut tk = arg_key(doc, t, setting, doc_level);
            if symmetric.contains(&r.label) && tk < hk {
                std::mem::swap(&mut hk, &mut tk);
            }
            Some(((hk, tk, r.label.clone()), r.score.unwrap_or(1.0)))
        })
        .collect()
}

/// Gold keys and predicted keys (each with the highest score among its mentions, since the key
/// is predicted at a threshold as soon as one mention is) for one document.
fn key_sets(
    gold: &Document,
    pred: &Document,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
) -> (BTreeSet<RelKey>, BTreeMap<RelKey, f32>) {
    let gold_spans: BTreeSet<Span>;
    let only = if setting == RelationSetting::GoldEntities {
        gold_spans = gold.entities.iter().map(Entity::span).collect();
        Some(&gold_spans)
    } else {
        None
    };
    let g: BTreeSet<RelKey> = relation_keys(gold, setting, symmetric, doc_level, None)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut p: BTreeMap<RelKey, f32> = BTreeMap::new();
    for (k, s) in relation_keys(pred, setting, symmetric, doc_level, only) {
        let e = p.entry(k).or_insert(s);
        if s > *e {
            *e = s;
        }
    }
    (g, p)
}

/// True/false positives and false negatives per relation label for one document.
///
/// Mention level compares sets of (head span, head type, tail span, tail type, label), types
/// only in [`RelationSetting::Strict`]. With `doc_level`, arguments are their
/// [`normalise_text`] instead of spans, so a relation stated three times in a story counts
/// once. Labels in `symmetric` match in either direction.
pub fn relation_counts(
    gold: &Document,
    pred: &Document,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
) -> LabelCounts {
    let (g, p) = key_sets(gold, pred, setting, symmetric, doc_level);
    let mut counts = LabelCounts::new();
    for k in &g {
        let c = counts.entry(k.2.clone()).or_default();
        if p.contains_key(k) {
            c.tp += 1;
        } else {
            c.fn_ += 1;
        }
    }
    for k in p.keys().filter(|k| !g.contains(*k)) {
        counts.entry(k.2.clone()).or_default().fp += 1;
    }
    counts
}

/// Micro-averaged scores when only relations scoring at least `threshold` are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdPoint {
    pub threshold: f32,
    pub counts: Counts,
    #[serde(flatten)]
    pub prf: Prf,
}

/// Every predicted key of a corpus as (label, score, correct), with gold totals per label.
struct Scored {
    items: Vec<(String, f32, bool)>,
    gold: BTreeMap<String, usize>,
}

fn collect<'a>(
    pairs: impl IntoIterator<Item = (&'a Document, &'a Document)>,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
) -> Scored {
    let mut s = Scored {
        items: Vec::new(),
        gold: BTreeMap::new(),
    };
    for (gold, pred) in pairs {
        let (g, p) = key_sets(gold, pred, setting, symmetric, doc_level);
        for k in &g {
            *s.gold.entry(k.2.clone()).or_default() += 1;
        }
        for (k, score) in p {
            let ok = g.contains(&k);
            s.items.push((k.2, score, ok));
        }
    }
    // Highest score first; sorted once, then every threshold is one step of a sweep.
    s.items.sort_by(|a, b| b.1.total_cmp(&a.1));
    s
}

/// Sweep `items` (sorted by descending score) and call `f(threshold, tp, fp)` once per distinct
/// score, with the counts of keeping every item scoring at least that threshold.
fn sweep<'a>(
    items: impl Iterator<Item = &'a (String, f32, bool)>,
    mut f: impl FnMut(f32, usize, usize),
) {
    let mut items = items.peekable();
    let (mut tp, mut fp) = (0, 0);
    while let Some((_, score, ok)) = items.next() {
        if *ok {
            tp += 1;
        } else {
            fp += 1;
        }
        if items.peek().is_none_or(|next| next.1 != *score) {
            f(*score, tp, fp);
        }
    }
}

fn counts(tp: usize, fp: usize, gold: usize) -> Counts {
    Counts {
        tp,
        fp,
        fn_: gold - tp,
    }
}

/// Micro P/R/F1 over all labels at each distinct predicted score, in ascending threshold order
/// (a precision-recall curve). A relation without a score counts as scoring 1.0. Sorting once
/// makes this O(n log n) in the number of predicted relations.
pub fn threshold_sweep<'a>(
    pairs: impl IntoIterator<Item = (&'a Document, &'a Document)>,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
) -> Vec<ThresholdPoint> {
    let s = collect(pairs, setting, symmetric, doc_level);
    let gold: usize = s.gold.values().sum();
    let mut points = Vec::new();
    sweep(s.items.iter(), |threshold, tp, fp| {
        let c = counts(tp, fp, gold);
        points.push(ThresholdPoint {
            threshold,
            counts: c,
            prf: c.prf(),
        });
    });
    points.reverse();
    points
}

/// For each label with at least one prediction, the threshold giving the best F1 on these
/// documents and that F1. Ties go to the highest threshold (fewest predictions). Labels never
/// predicted are left out: no threshold helps them.
pub fn best_thresholds<'a>(
    pairs: impl IntoIterator<Item = (&'a Document, &'a Document)>,
    setting: RelationSetting,
    symmetric: &BTreeSet<String>,
    doc_level: bool,
) -> BTreeMap<String, (f32, f64)> {
    let s = collect(pairs, setting, symmetric, doc_level);
    let labels: BTreeSet<&String> = s.items.iter().map(|i| &i.0).collect();
    let mut best = BTreeMap::new();
    for label in labels {
        let gold = s.gold.get(label).copied().unwrap_or(0);
        let mut top: Option<(f32, f64)> = None;
        sweep(s.items.iter().filter(|i| &i.0 == label), |t, tp, fp| {
            let f1 = counts(tp, fp, gold).f1();
            if top.is_none_or(|(_, b)| f1 > b) {
                top = Some((t, f1));
            }
        });
        if let Some(t) = top {
            best.insert(label.clone(), t);
        }
    }
    best
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A document over `text` with entities (start, end, label) named T1.. in order and
    /// relations (head index, tail index, label, score).
    pub(crate) fn doc(
        text: &str,
        ents: &[(usize, usize, &str)],
        rels: &[(usize, usize, &str, Option<f32>)],
    ) -> Document {
        let mut d = Document::new("d1", text);
        for &(s, e, l) in ents {
            d.add_entity(s, e, l).unwrap();
        }
        for &(h, t, l, score) in rels {
            d.relations.push(Relation {
                head: d.entities[h].id.clone(),
                tail: d.entities[t].id.clone(),
                label: l.into(),
                score,
                evidence: None,
            });
        }
        d
    }

    pub(crate) const TEXT: &str = "Putin met Erdogan in Ankara. Putin flew home.";
    // Putin 0..5 PER, Erdogan 10..17 PER, Ankara 21..27 LOC, Putin 29..34 PER.

    fn c(tp: usize, fp: usize, fn_: usize) -> Counts {
        Counts { tp, fp, fn_ }
    }

    fn sym(labels: &[&str]) -> BTreeSet<String> {
        labels.iter().map(|s| s.to_string()).collect()
    }

    fn gold() -> Document {
        doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")],
            &[(0, 1, "meets", None), (0, 2, "located_in", None)],
        )
    }

    #[test]
    fn settings_differ_on_argument_types_and_boundaries() {
        // Erdogan typed ORG; Ankara's span too long.
        let pred = doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "ORG"), (21, 28, "LOC")],
            &[(0, 1, "meets", None), (0, 2, "located_in", None)],
        );
        let g = gold();
        let none = BTreeSet::new();
        let strict = relation_counts(&g, &pred, RelationSetting::Strict, &none, false);
        assert_eq!(strict["meets"], c(0, 1, 1));
        assert_eq!(strict["located_in"], c(0, 1, 1));
        let bound = relation_counts(&g, &pred, RelationSetting::Boundaries, &none, false);
        assert_eq!(bound["meets"], c(1, 0, 0));
        assert_eq!(bound["located_in"], c(0, 1, 1));
        // Gold entities: the located_in prediction's tail is no gold mention, so it is ignored.
        let ge = relation_counts(&g, &pred, RelationSetting::GoldEntities, &none, false);
        assert_eq!(ge["meets"], c(1, 0, 0));
        assert_eq!(ge["located_in"], c(0, 0, 1));
    }

    #[test]
    fn symmetric_labels_match_either_direction_and_count_once() {
        let g = gold();
        let pred = doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")],
            &[
                (1, 0, "meets", None),
                (0, 1, "meets", None),
                (2, 0, "located_in", None),
            ],
        );
        let s = sym(&["meets"]);
        let r = relation_counts(&g, &pred, RelationSetting::Strict, &s, false);
        assert_eq!(r["meets"], c(1, 0, 0));
        // located_in is directed: reversed is one false positive and one false negative.
        assert_eq!(r["located_in"], c(0, 1, 1));
        // Without the symmetric set, both meets directions are distinct keys.
        let r = relation_counts(&g, &pred, RelationSetting::Strict, &BTreeSet::new(), false);
        assert_eq!(r["meets"], c(1, 1, 0));
    }

    #[test]
    fn document_level_deduplicates_by_normalised_text() {
        // Gold states located_in for both Putin mentions; the prediction finds the second only,
        // with different case, and repeats it.
        let text = "Putin met Erdogan in Ankara. PUTIN  flew home.";
        let mut g = doc(
            text,
            &[(0, 5, "PER"), (21, 27, "LOC"), (29, 34, "PER")],
            &[(0, 1, "located_in", None), (2, 1, "located_in", None)],
        );
        g.entities[2].text = "PUTIN ".into();
        let p = doc(
            text,
            &[(29, 34, "PER"), (21, 27, "LOC")],
            &[(0, 1, "located_in", None), (0, 1, "located_in", None)],
        );
        let none = BTreeSet::new();
        let m = relation_counts(&g, &p, RelationSetting::Strict, &none, false);
        assert_eq!(m["located_in"], c(1, 0, 1));
        let d = relation_counts(&g, &p, RelationSetting::Strict, &none, true);
        assert_eq!(d["located_in"], c(1, 0, 0));
        assert_eq!(normalise_text(" Vladimir \n PUTIN "), "vladimir putin");
    }

    #[test]
    fn dangling_relations_are_skipped() {
        let g = gold();
        let mut p = gold();
        p.relations[0].tail = "T99".into();
        let r = relation_counts(&g, &p, RelationSetting::Strict, &BTreeSet::new(), false);
        assert_eq!(r["meets"], c(0, 0, 1));
        assert_eq!(r["located_in"], c(1, 0, 0));
    }

    #[test]
    fn threshold_sweep_on_a_hand_example() {
        // Gold: meets(0,1), located_in(0,2). Predicted: meets 0.9 (right), located_in 0.4
        // (right), meets(1,2) 0.6 (wrong), located_in(1,2) unscored = 1.0 (wrong).
        let g = gold();
        let p = doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")],
            &[
                (0, 1, "meets", Some(0.9)),
                (0, 2, "located_in", Some(0.4)),
                (1, 2, "meets", Some(0.6)),
                (1, 2, "located_in", None),
            ],
        );
        let none = BTreeSet::new();
        let pts = threshold_sweep([(&g, &p)], RelationSetting::Strict, &none, false);
        let ts: Vec<f32> = pts.iter().map(|p| p.threshold).collect();
        assert_eq!(ts, vec![0.4, 0.6, 0.9, 1.0]);
        assert_eq!(pts[0].counts, c(2, 2, 0));
        assert_eq!(pts[1].counts, c(1, 2, 1));
        assert_eq!(pts[2].counts, c(1, 1, 1));
        assert_eq!(pts[3].counts, c(0, 1, 2));
        assert!((pts[2].prf.f1 - 0.5).abs() < 1e-12);
        // The lowest threshold reproduces relation_counts.
        let all = relation_counts(&g, &p, RelationSetting::Strict, &none, false);
        let mut total = Counts::default();
        all.values().for_each(|x| total += *x);
        assert_eq!(pts[0].counts, total);

        let best = best_thresholds([(&g, &p)], RelationSetting::Strict, &none, false);
        // meets: at 0.9 P 1 R 1 -> F1 1.0; located_in: at 0.4 tp 1 fp 1 -> F1 2/3.
        assert_eq!(best["meets"], (0.9, 1.0));
        assert_eq!(best["located_in"].0, 0.4);
        assert!((best["located_in"].1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn sweep_over_a_thousand_documents_adds_up() {
        let g = gold();
        let docs: Vec<(Document, Document)> = (0..1000)
            .map(|i| {
                let mut p = doc(
                    TEXT,
                    &[(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")],
                    &[],
                );
                for (k, (h, t)) in [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)]
                    .into_iter()
                    .enumerate()
                {
                    for label in ["meets", "located_in", "leads"] {
                        p.relations.push(Relation {
                            head: format!("T{}", h + 1),
                            tail: format!("T{}", t + 1),
                            label: label.into(),
                            score: Some(((i * 7 + k * 13) % 97) as f32 / 97.0),
                            evidence: None,
                        });
                    }
                }
                (g.clone(), p)
            })
            .collect();
        let it = || docs.iter().map(|(g, p)| (g, p));
        let pts = threshold_sweep(it(), RelationSetting::Strict, &BTreeSet::new(), false);
        let best = best_thresholds(it(), RelationSetting::Strict, &BTreeSet::new(), false);
        assert_eq!(pts.len(), 97);
        assert_eq!(pts[0].counts.tp, 2000);
        assert_eq!(best.len(), 3);
    }

    #[test]
    fn setting_names_round_trip() {
        for s in RelationSetting::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<RelationSetting>(&json).unwrap(), s);
        }
    }
}
