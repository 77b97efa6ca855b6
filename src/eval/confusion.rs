//! Confusion matrices of entity types and relation labels, with a `none` row and column for
//! items found on one side only.
//!
//! Items are paired by position (entity span, or the two argument spans of a relation), so a
//! cell says "gold had this label where the prediction had that one". Matrices of documents add
//! up like the counts of [`crate::eval::counts`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::AddAssign;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::document::{Document, Entity, Span};

/// The row and column of items with no counterpart: a gold item nobody predicted falls in
/// column `none`, a predicted item with no gold in row `none`.
pub const NONE: &str = "none";

/// Counts of (gold label, predicted label) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confusion {
    /// Keyed by (gold, predicted); [`NONE`] on either side for unmatched items.
    pub counts: BTreeMap<(String, String), usize>,
}

impl Confusion {
    pub fn add(&mut self, gold: &str, pred: &str, n: usize) {
        *self
            .counts
            .entry((gold.to_string(), pred.to_string()))
            .or_default() += n;
    }

    pub fn get(&self, gold: &str, pred: &str) -> usize {
        self.counts
            .get(&(gold.to_string(), pred.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Every label seen on either side, sorted, with [`NONE`] last (if present).
    pub fn labels(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.counts.keys().flat_map(|(g, p)| [g, p]).collect();
        let mut labels: Vec<String> = set.into_iter().filter(|l| *l != NONE).cloned().collect();
        if self.counts.keys().any(|(g, p)| g == NONE || p == NONE) {
            labels.push(NONE.to_string());
        }
        labels
    }

    /// One row per gold label (in [`Confusion::labels`] order), each giving the count for every
    /// predicted label in the same order: ready to print as a table.
    pub fn rows(&self) -> Vec<(String, Vec<usize>)> {
        let labels = self.labels();
        labels
            .iter()
            .map(|g| (g.clone(), labels.iter().map(|p| self.get(g, p)).collect()))
            .collect()
    }

    /// A plain-text table: gold labels down, predicted labels across.
    pub fn render(&self) -> String {
        let labels = self.labels();
        let rows = self.rows();
        let w0 = labels.iter().map(|l| l.len()).max().unwrap_or(0).max(9);
        let widths: Vec<usize> = labels
            .iter()
            .enumerate()
            .map(|(j, l)| {
                let max_n = rows.iter().map(|r| r.1[j].to_string().len()).max();
                l.len().max(max_n.unwrap_or(1))
            })
            .collect();
        let mut out = format!("{:<w0$}", "gold\\pred");
        for (l, w) in labels.iter().zip(&widths) {
            out.push_str(&format!("  {l:>w$}"));
        }
        out.push('\n');
        for (g, counts) in &rows {
            out.push_str(&format!("{g:<w0$}"));
            for (n, w) in counts.iter().zip(&widths) {
                out.push_str(&format!("  {n:>w$}"));
            }
            out.push('\n');
        }
        out
    }
}

impl AddAssign<&Confusion> for Confusion {
    fn add_assign(&mut self, o: &Confusion) {
        for ((g, p), n) in &o.counts {
            *self.counts.entry((g.clone(), p.clone())).or_default() += n;
        }
    }
}

impl AddAssign for Confusion {
    fn add_assign(&mut self, o: Confusion) {
        *self += &o;
    }
}

/// JSON cannot key a map by pairs, so a matrix is written as its labels and rows:
/// `{"labels": [...], "rows": [[...], ...]}`, row i for gold label i.
impl Serialize for Confusion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Confusion", 2)?;
        st.serialize_field("labels", &self.labels())?;
        let rows: Vec<Vec<usize>> = self.rows().into_iter().map(|r| r.1).collect();
        st.serialize_field("rows", &rows)?;
        st.end()
    }
}

/// Add the pairing of gold and predicted label sets found at one position: equal labels on
/// the diagonal, the others paired off in sorted order, leftovers against [`NONE`].
fn add_position(m: &mut Confusion, gold: &BTreeSet<&str>, pred: &BTreeSet<&str>) {
    for l in gold.intersection(pred) {
        m.add(l, l, 1);
    }
    let mut g_rest = gold.difference(pred);
    let mut p_rest = pred.difference(gold);
    loop {
        match (g_rest.next(), p_rest.next()) {
            (None, None) => break,
            (g, p) => m.add(g.copied().unwrap_or(NONE), p.copied().unwrap_or(NONE), 1),
        }
    }
}

fn add_all<K: Ord>(
    m: &mut Confusion,
    gold: BTreeMap<K, BTreeSet<&str>>,
    mut pred: BTreeMap<K, BTreeSet<&str>>,
) {
    let empty = BTreeSet::new();
    for (k, g) in &gold {
        add_position(m, g, pred.get(k).unwrap_or(&empty));
        pred.remove(k);
    }
    for p in pred.values() {
        add_position(m, &empty, p);
    }
}

fn labels_by_span(d: &Document) -> BTreeMap<Span, BTreeSet<&str>> {
    let mut m: BTreeMap<Span, BTreeSet<&str>> = BTreeMap::new();
    for e in &d.entities {
        m.entry(e.span()).or_default().insert(e.label.as_str());
    }
    m
}

/// Entity types of one document, paired by exact span. Duplicate mentions (same span and type)
/// count once, as in the entity scores.
pub fn entity_confusion(gold: &Document, pred: &Document) -> Confusion {
    let mut m = Confusion::default();
    add_all(&mut m, labels_by_span(gold), labels_by_span(pred));
    m
}

fn labels_by_pair<'a>(
    d: &'a Document,
    symmetric: &BTreeSet<String>,
) -> BTreeMap<(Span, Span), BTreeSet<&'a str>> {
    let ents: HashMap<&str, &Entity> = d.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut m: BTreeMap<(Span, Span), BTreeSet<&str>> = BTreeMap::new();
    for r in &d.relations {
        let (Some(h), Some(t)) = (ents.get(r.head.as_str()), ents.get(r.tail.as_str())) else {
            continue;
        };
        let (mut hs, mut ts) = (h.span(), t.span());
        if symmetric.contains(&r.label) && ts < hs {
            std::mem::swap(&mut hs, &mut ts);
        }
        m.entry((hs, ts)).or_default().insert(r.label.as_str());
    }
    m
}

/// Relation labels of one document over argument pairs matched by boundaries (head span, tail
/// span), argument types ignored. A pair with a relation on one side only is a `none` cell.
/// Pairs of symmetric labels are keyed in span order, so they meet their gold counterpart in
/// either direction; a symmetric label confused with a directed one stated the other way round
/// therefore shows as two `none` cells. Relations naming unknown entity ids are skipped.
pub fn relation_confusion(
    gold: &Document,
    pred: &Document,
    symmetric: &BTreeSet<String>,
) -> Confusion {
    let mut m = Confusion::default();
    add_all(
        &mut m,
        labels_by_pair(gold, symmetric),
        labels_by_pair(pred, symmetric),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::relations::tests::{doc, TEXT};

    #[test]
    fn entity_confusion_with_none() {
        // Putin PER right; Erdogan PER predicted ORG; Ankara missed; "flew" predicted LOC.
        let g = doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")],
            &[],
        );
        let p = doc(
            TEXT,
            &[(0, 5, "PER"), (10, 17, "ORG"), (35, 39, "LOC")],
            &[],
        );
        let m = entity_confusion(&g, &p);
        assert_eq!(m.labels(), vec!["LOC", "ORG", "PER", "none"]);
        assert_eq!(m.get("PER", "PER"), 1);
        assert_eq!(m.get("PER", "ORG"), 1);
        assert_eq!(m.get("LOC", NONE), 1);
        assert_eq!(m.get(NONE, "LOC"), 1);
        let rows = m.rows();
        assert_eq!(rows[0], ("LOC".to_string(), vec![0, 0, 0, 1]));
        assert_eq!(rows[3], ("none".to_string(), vec![1, 0, 0, 0]));
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.starts_with("{\"labels\":[\"LOC\",\"ORG\",\"PER\",\"none\"],\"rows\":[[0,0,0,1]")
        );
        // Additive over documents.
        let mut total = m.clone();
        total += &m;
        assert_eq!(total.get("PER", "ORG"), 2);
        assert!(total.render().contains("gold\\pred"));
    }

    #[test]
    fn relation_confusion_over_boundary_matched_pairs() {
        let ents = [(0, 5, "PER"), (10, 17, "PER"), (21, 27, "LOC")];
        let g = doc(
            TEXT,
            &ents,
            &[(0, 1, "meets", None), (0, 2, "located_in", None)],
        );
        // meets stated backwards (symmetric: fine), located_in called visits, an extra
        // relation, argument types differ (ignored).
        let p = doc(
            TEXT,
            &[(0, 5, "ORG"), (10, 17, "PER"), (21, 27, "GPE")],
            &[
                (1, 0, "meets", None),
                (0, 2, "visits", None),
                (1, 2, "located_in", None),
            ],
        );
        let s: BTreeSet<String> = ["meets".to_string()].into();
        let m = relation_confusion(&g, &p, &s);
        assert_eq!(m.get("meets", "meets"), 1);
        assert_eq!(m.get("located_in", "visits"), 1);
        assert_eq!(m.get(NONE, "located_in"), 1);
        // Not symmetric: the reversed meets is a miss plus a spurious pair.
        let m = relation_confusion(&g, &p, &BTreeSet::new());
        assert_eq!(m.get("meets", NONE), 1);
        assert_eq!(m.get(NONE, "meets"), 1);
    }
}
