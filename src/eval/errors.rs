//! Listing every false positive and false negative with what kind of error it is, for reading
//! through a model's mistakes.
//!
//! Exact matches (strict: span and type; for relations, label and both arguments' spans and
//! types) are set aside first, exactly as the scores count them. The rest are paired greedily,
//! most specific kind first; each listed item holds at most one false positive and one false
//! negative, so the items with a prediction are the false positives of the strict score and
//! those with a gold item its false negatives.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use crate::document::{Document, Entity, Span};
use crate::offsets::CharIndex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Entity,
    Relation,
}

/// The kinds of error, in the order [`write_errors`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ErrorKind {
    /// Entity overlapping a gold one of the same type, with other boundaries.
    #[serde(rename = "boundary")]
    Boundary,
    /// Entity with a gold span but another type.
    #[serde(rename = "type")]
    Type,
    /// Entity overlapping a gold one of another type, with other boundaries.
    #[serde(rename = "boundary+type")]
    BoundaryType,
    /// Relation between the gold arguments with another label.
    #[serde(rename = "label")]
    Label,
    /// Relation with the gold label and arguments, reversed (label not symmetric).
    #[serde(rename = "direction")]
    Direction,
    /// Relation with the gold label but an argument wrong (boundaries or type): one argument
    /// right and the other anything, or both overlapping the gold ones.
    #[serde(rename = "argument")]
    Argument,
    /// Gold item with no predicted counterpart.
    #[serde(rename = "missed")]
    Missed,
    /// Predicted item with no gold counterpart.
    #[serde(rename = "spurious")]
    Spurious,
}

impl ErrorKind {
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::Boundary => "boundary",
            ErrorKind::Type => "type",
            ErrorKind::BoundaryType => "boundary+type",
            ErrorKind::Label => "label",
            ErrorKind::Direction => "direction",
            ErrorKind::Argument => "argument",
            ErrorKind::Missed => "missed",
            ErrorKind::Spurious => "spurious",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityItem {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub text: String,
}

impl EntityItem {
    fn new(e: &Entity) -> Self {
        EntityItem {
            start: e.start,
            end: e.end,
            label: e.label.clone(),
            text: e.text.clone(),
        }
    }

    fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

impl std::fmt::Display for EntityItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{},{}) {:?}",
            self.label, self.start, self.end, self.text
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelationItem {
    pub label: String,
    pub head: EntityItem,
    pub tail: EntityItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl std::fmt::Display for RelationItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({}, {})", self.label, self.head, self.tail)?;
        if let Some(s) = self.score {
            write!(f, " score {s:.3}")?;
        }
        Ok(())
    }
}

/// A gold or predicted entity or relation; written as the bare object in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Item {
    Entity(EntityItem),
    Relation(RelationItem),
}

impl Item {
    fn extent(&self) -> (usize, usize) {
        match self {
            Item::Entity(e) => (e.start, e.end),
            Item::Relation(r) => (r.head.start.min(r.tail.start), r.head.end.max(r.tail.end)),
        }
    }
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Entity(e) => e.fmt(f),
            Item::Relation(r) => r.fmt(f),
        }
    }
}

/// One error: a false negative (`gold`), a false positive (`pred`), or one of each when they
/// are the same thing gone wrong. One line of JSON Lines each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorItem {
    pub doc_id: String,
    pub target: Target,
    pub kind: ErrorKind,
    /// The sentence(s) around the item, or its line when the document has no sentences.
    pub context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gold: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pred: Option<Item>,
}

/// The sentences overlapping `[start, end)`, else the line(s) containing it, trimmed.
fn context(doc: &Document, start: usize, end: usize) -> String {
    let idx = CharIndex::new(&doc.text);
    let (s, e) = {
        let hits: Vec<&Span> = doc
            .sentences
            .iter()
            .filter(|s| s.overlaps(Span::new(start, end.max(start + 1))))
            .collect();
        match (hits.first(), hits.last()) {
            (Some(a), Some(b)) => (a.start, b.end),
            _ => (start, end),
        }
    };
    let t = &doc.text;
    let bs = idx.byte(s).unwrap_or(t.len());
    let be = idx.byte(e).unwrap_or(t.len()).max(bs);
    if doc.sentences.is_empty() || (s, e) == (start, end) {
        let ls = t[..bs].rfind('\n').map_or(0, |i| i + 1);
        let le = t[be..].find('\n').map_or(t.len(), |i| be + i);
        t[ls..le].trim().to_string()
    } else {
        t[bs..be].trim().to_string()
    }
}

fn item(
    gold: &Document,
    target: Target,
    kind: ErrorKind,
    g: Option<Item>,
    p: Option<Item>,
) -> ErrorItem {
    let (s, e) = g.as_ref().or(p.as_ref()).map_or((0, 0), Item::extent);
    ErrorItem {
        doc_id: gold.id.clone(),
        target,
        kind,
        context: context(gold, s, e),
        gold: g,
        pred: p,
    }
}

fn overlap(a: Span, b: Span) -> usize {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}

/// Pair unused predictions with unused gold items, pass by pass: each pass is a kind and a
/// score (`None`: no match; higher: better partner). Returns (kind, gold index, pred index).
type Pass<'a, T> = (ErrorKind, &'a dyn Fn(&T, &T) -> Option<usize>);

fn pair_off<T>(
    gold: &[T],
    pred: &[T],
    passes: &[Pass<'_, T>],
) -> Vec<(ErrorKind, Option<usize>, Option<usize>)> {
    let mut g_used = vec![false; gold.len()];
    let mut p_used = vec![false; pred.len()];
    let mut out = Vec::new();
    for (kind, score) in passes {
        for (j, p) in pred.iter().enumerate() {
            if p_used[j] {
                continue;
            }
            let best = gold
                .iter()
                .enumerate()
                .filter(|(i, _)| !g_used[*i])
                .filter_map(|(i, g)| score(g, p).map(|s| (s, i)))
                .max_by_key(|&(s, i)| (s, std::cmp::Reverse(i)));
            if let Some((_, i)) = best {
                g_used[i] = true;
                p_used[j] = true;
                out.push((*kind, Some(i), Some(j)));
            }
        }
    }
    let missed = (0..gold.len()).filter(|i| !g_used[*i]);
    out.extend(missed.map(|i| (ErrorKind::Missed, Some(i), None)));
    let spurious = (0..pred.len()).filter(|j| !p_used[*j]);
    out.extend(spurious.map(|j| (ErrorKind::Spurious, None, Some(j))));
    out
}

/// Items on each side not exactly on the other, deduplicated by `key`, in key order.
fn unmatched<T, K: Ord + Clone>(
    gold: Vec<T>,
    pred: Vec<T>,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Vec<T>) {
    let dedup = |v: Vec<T>| {
        let mut m: BTreeMap<K, T> = BTreeMap::new();
        for x in v {
            m.entry(key(&x)).or_insert(x);
        }
        m
    };
    let (mut g, mut p) = (dedup(gold), dedup(pred));
    let common: Vec<K> = g.keys().filter(|k| p.contains_key(*k)).cloned().collect();
    for k in &common {
        g.remove(k);
        p.remove(k);
    }
    (g.into_values().collect(), p.into_values().collect())
}

fn sort_by_position(items: &mut [ErrorItem]) {
    items.sort_by_key(|e| {
        let (s, en) = e
            .gold
            .as_ref()
            .or(e.pred.as_ref())
            .map_or((0, 0), Item::extent);
        (s, en, e.kind)
    });
}

/// Entity errors of one document: `type`, `boundary`, `boundary+type` (paired in that order of
/// preference, a boundary partner chosen by largest overlap), then `missed` and `spurious`.
pub fn entity_errors(gold: &Document, pred: &Document) -> Vec<ErrorItem> {
    let key = |e: &EntityItem| (e.start, e.end, e.label.clone());
    let (g, p) = unmatched(
        gold.entities.iter().map(EntityItem::new).collect(),
        pred.entities.iter().map(EntityItem::new).collect(),
        key,
    );
    let same_span = |a: &EntityItem, b: &EntityItem| (a.span() == b.span()).then_some(0);
    let same_type = |a: &EntityItem, b: &EntityItem| {
        let o = overlap(a.span(), b.span());
        (a.label == b.label && o > 0).then_some(o)
    };
    let other_type = |a: &EntityItem, b: &EntityItem| {
        let o = overlap(a.span(), b.span());
        (o > 0).then_some(o)
    };
    let passes: [Pass<'_, EntityItem>; 3] = [
        (ErrorKind::Type, &same_span),
        (ErrorKind::Boundary, &same_type),
        (ErrorKind::BoundaryType, &other_type),
    ];
    let mut out: Vec<ErrorItem> = pair_off(&g, &p, &passes)
        .into_iter()
        .map(|(kind, i, j)| {
            let gi = i.map(|i| Item::Entity(g[i].clone()));
            let pj = j.map(|j| Item::Entity(p[j].clone()));
            item(gold, Target::Entity, kind, gi, pj)
        })
        .collect();
    sort_by_position(&mut out);
    out
}

fn relation_items(doc: &Document) -> Vec<RelationItem> {
    let ents: HashMap<&str, &Entity> = doc.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    doc.relations
        .iter()
        .filter_map(|r| {
            Some(RelationItem {
                label: r.label.clone(),
                head: EntityItem::new(ents.get(r.head.as_str())?),
                tail: EntityItem::new(ents.get(r.tail.as_str())?),
                score: r.score,
            })
        })
        .collect()
}

/// Relation errors of one document, matched strictly (label, direction, argument spans and
/// types): `label`, `direction`, `argument` (in that order of preference), then `missed` and
/// `spurious`. Labels in `symmetric` match in either direction and never make a `direction`
/// error. Relations naming unknown entity ids are left out.
pub fn relation_errors(
    gold: &Document,
    pred: &Document,
    symmetric: &BTreeSet<String>,
) -> Vec<ErrorItem> {
    let arg = |e: &EntityItem| (e.start, e.end, e.label.clone());
    let key = |r: &RelationItem| {
        let (mut h, mut t) = (arg(&r.head), arg(&r.tail));
        if symmetric.contains(&r.label) && t < h {
            std::mem::swap(&mut h, &mut t);
        }
        (h, t, r.label.clone())
    };
    let (g, p) = unmatched(relation_items(gold), relation_items(pred), key);
    let same = |a: &EntityItem, b: &EntityItem| a == b;
    // (head, tail) of `b` in the roles of `a`'s (head, tail): as stated, and swapped when
    // `a`'s label is symmetric.
    let roles = |a: &RelationItem, b: &RelationItem| {
        let mut v = vec![(b.head.clone(), b.tail.clone())];
        if symmetric.contains(&a.label) {
            v.push((b.tail.clone(), b.head.clone()));
        }
        v
    };
    let label = |g: &RelationItem, p: &RelationItem| {
        let either_way = symmetric.contains(&g.label) || symmetric.contains(&p.label);
        let hit = same(&g.head, &p.head) && same(&g.tail, &p.tail)
            || either_way && same(&g.head, &p.tail) && same(&g.tail, &p.head);
        (hit && g.label != p.label).then_some(0)
    };
    let direction = |g: &RelationItem, p: &RelationItem| {
        let hit = g.label == p.label
            && !symmetric.contains(&g.label)
            && same(&g.head, &p.tail)
            && same(&g.tail, &p.head);
        hit.then_some(0)
    };
    let argument = |g: &RelationItem, p: &RelationItem| {
        if g.label != p.label {
            return None;
        }
        roles(g, p)
            .iter()
            .filter_map(|(h, t)| {
                let (oh, ot) = (
                    overlap(h.span(), g.head.span()),
                    overlap(t.span(), g.tail.span()),
                );
                let right = same(h, &g.head) || same(t, &g.tail);
                (right || oh > 0 && ot > 0).then_some(oh + ot)
            })
            .max()
    };
    let passes: [Pass<'_, RelationItem>; 3] = [
        (ErrorKind::Label, &label),
        (ErrorKind::Direction, &direction),
        (ErrorKind::Argument, &argument),
    ];
    let mut out: Vec<ErrorItem> = pair_off(&g, &p, &passes)
        .into_iter()
        .map(|(kind, i, j)| {
            let gi = i.map(|i| Item::Relation(g[i].clone()));
            let pj = j.map(|j| Item::Relation(p[j].clone()));
            item(gold, Target::Relation, kind, gi, pj)
        })
        .collect();
    sort_by_position(&mut out);
    out
}

/// A readable report: one section per (target, kind), entities first, each error as
/// `doc  gold: ...  pred: ...` followed by its indented context.
pub fn write_errors(items: &[ErrorItem], w: &mut impl Write) -> io::Result<()> {
    let mut groups: BTreeMap<(Target, ErrorKind), Vec<&ErrorItem>> = BTreeMap::new();
    for e in items {
        groups.entry((e.target, e.kind)).or_default().push(e);
    }
    for (i, ((target, kind), group)) in groups.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        let target = match target {
            Target::Entity => "entity",
            Target::Relation => "relation",
        };
        writeln!(w, "== {target} {}: {} ==", kind.name(), group.len())?;
        for e in group {
            write!(w, "{}", e.doc_id)?;
            if let Some(g) = &e.gold {
                write!(w, "  gold: {g}")?;
            }
            if let Some(p) = &e.pred {
                write!(w, "  pred: {p}")?;
            }
            writeln!(w)?;
            writeln!(w, "    | {}", e.context.replace('\n', " "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::relations::tests::doc;

    const T: &str = "Putin met Erdogan in Ankara. Putin flew home.\nTurkey was silent.";

    fn kinds(items: &[ErrorItem]) -> Vec<&'static str> {
        items.iter().map(|e| e.kind.name()).collect()
    }

    #[test]
    fn entity_error_kinds() {
        let g = doc(
            T,
            &[
                (0, 5, "PER"),
                (10, 17, "PER"),
                (21, 27, "LOC"),
                (29, 34, "PER"),
                (46, 52, "LOC"),
            ],
            &[],
        );
        let p = doc(
            T,
            &[
                (0, 5, "PER"),
                (10, 17, "ORG"),
                (18, 27, "LOC"),
                (29, 39, "ORG"),
                (40, 44, "LOC"),
            ],
            &[],
        );
        let errs = entity_errors(&g, &p);
        assert_eq!(
            kinds(&errs),
            vec!["type", "boundary", "boundary+type", "spurious", "missed"]
        );
        // Each item is at most one false positive and one false negative.
        assert_eq!(errs.iter().filter(|e| e.pred.is_some()).count(), 4);
        assert_eq!(errs.iter().filter(|e| e.gold.is_some()).count(), 4);
        assert_eq!(errs[4].context, "Turkey was silent.");
        assert_eq!(
            errs[0].context,
            "Putin met Erdogan in Ankara. Putin flew home."
        );
        assert!(errs
            .iter()
            .all(|e| e.target == Target::Entity && e.doc_id == "d1"));
        let json = serde_json::to_value(&errs[2]).unwrap();
        assert_eq!(json["kind"], "boundary+type");
        assert_eq!(json["gold"]["text"], "Putin");
        assert_eq!(json["pred"]["label"], "ORG");

        // With sentences, the context is the sentence.
        let mut g2 = g.clone();
        g2.sentences = vec![Span::new(0, 28), Span::new(29, 45), Span::new(46, 64)];
        let errs = entity_errors(&g2, &p);
        assert_eq!(errs[2].context, "Putin flew home.");
        assert!(entity_errors(&g, &g).is_empty());
    }

    fn rel_docs() -> (Document, Document) {
        let ents = [
            (0, 5, "PER"),
            (10, 17, "PER"),
            (21, 27, "LOC"),
            (29, 34, "PER"),
        ];
        let g = doc(
            T,
            &ents,
            &[
                (0, 1, "meets", None),
                (1, 2, "located_in", None),
                (0, 2, "visits", None),
                (3, 2, "located_in", None),
                (3, 1, "family", None),
            ],
        );
        let mut pents = ents;
        pents[3] = (29, 39, "PER");
        let p = doc(
            T,
            &pents,
            &[
                (1, 0, "meets", Some(0.9)),
                (1, 2, "leads", None),
                (2, 0, "visits", None),
                (3, 2, "located_in", None),
                (1, 2, "meets", None),
            ],
        );
        (g, p)
    }

    #[test]
    fn relation_error_kinds() {
        let (g, p) = rel_docs();
        let sym: BTreeSet<String> = ["meets".to_string()].into();
        let errs = relation_errors(&g, &p, &sym);
        let mut ks = kinds(&errs);
        ks.sort();
        assert_eq!(
            ks,
            vec!["argument", "direction", "label", "missed", "spurious"]
        );
        let find = |k: ErrorKind| errs.iter().find(|e| e.kind == k).unwrap();
        let lab = find(ErrorKind::Label);
        let (Some(Item::Relation(gr)), Some(Item::Relation(pr))) = (&lab.gold, &lab.pred) else {
            panic!("label error without both sides");
        };
        assert_eq!(
            (gr.label.as_str(), pr.label.as_str()),
            ("located_in", "leads")
        );
        assert!(
            matches!(&find(ErrorKind::Direction).gold, Some(Item::Relation(r)) if r.label == "visits")
        );
        assert!(
            matches!(&find(ErrorKind::Argument).pred, Some(Item::Relation(r)) if r.head.text == "Putin flew")
        );
        assert!(
            matches!(&find(ErrorKind::Missed).gold, Some(Item::Relation(r)) if r.label == "family")
        );
        assert!(
            matches!(&find(ErrorKind::Spurious).pred, Some(Item::Relation(r)) if r.label == "meets")
        );

        // meets not symmetric: the reversed meets becomes a direction error too.
        let errs = relation_errors(&g, &p, &BTreeSet::new());
        let dirs: Vec<&ErrorItem> = errs
            .iter()
            .filter(|e| e.kind == ErrorKind::Direction)
            .collect();
        assert_eq!(dirs.len(), 2);
        // visits declared symmetric: the reversed visits is no error at all.
        let sym: BTreeSet<String> = ["meets".to_string(), "visits".to_string()].into();
        let errs = relation_errors(&g, &p, &sym);
        assert!(errs.iter().all(|e| e.kind != ErrorKind::Direction));
    }

    #[test]
    fn written_report_groups_by_kind() {
        let (g, p) = rel_docs();
        let mut items = entity_errors(&g, &p);
        items.extend(relation_errors(&g, &p, &BTreeSet::new()));
        let mut out = Vec::new();
        write_errors(&items, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("== entity boundary: 1 ==\nd1  gold: PER [29,34) \"Putin\"  pred: PER [29,39) \"Putin flew\"\n    | Putin met"), "{text}");
        assert!(text.contains("== relation direction: 2 =="), "{text}");
        assert!(
            text.contains("pred: meets(PER [10,17) \"Erdogan\", PER [0,5) \"Putin\") score 0.900"),
            "{text}"
        );
    }
}
