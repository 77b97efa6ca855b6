//! Ensembles: combine several models' annotations of the same documents into one.
//!
//! Each member is a model's output on the same documents (same ids, same text). An entity
//! mention (span and type) is kept when more than half of the members predict it; a relation
//! mention's score is the mean of the members' scores for it, a member that did not output it
//! counting 0, and it is kept at the threshold or above when both of its arguments were kept.
//! A strict majority keeps the result a valid annotation: two overlapping mentions cannot both
//! be predicted by more than half of the members, since no member predicts both.
//!
//! Members usually output only relations above their own thresholds, so a relation that most
//! members score just under theirs is lost to the mean. Run the members with a low
//! `--relation-threshold` (0.05, say) so that the mean sees their scores.

use std::collections::{BTreeMap, HashMap};

use crate::document::{Document, Entity, Relation, Span};
use crate::error::{Error, Result};
use crate::relations::document_level;

/// An entity mention as the members are compared on: span and type.
type MentionKey = (usize, usize, String);

/// How relations are combined.
#[derive(Debug, Clone)]
pub struct VoteOptions {
    /// Keep a relation whose mean score is at least this.
    pub threshold: f32,
    /// Labels whose arguments may come in either order (a symmetric label is one relation
    /// whichever way a member wrote it).
    pub symmetric: Vec<String>,
}

impl Default for VoteOptions {
    fn default() -> Self {
        VoteOptions {
            threshold: 0.5,
            symmetric: Vec::new(),
        }
    }
}

/// Combine `members` (one list of documents per model; `names` says where each came from, for
/// errors). Documents are matched by id; the result follows the first member's order and keeps
/// its text, sentences, tokens and other fields.
pub fn vote(
    members: &[Vec<Document>],
    names: &[String],
    opts: &VoteOptions,
) -> Result<Vec<Document>> {
    let Some(first) = members.first() else {
        return Err(Error::Usage("an ensemble needs at least one member".into()));
    };
    let by_id: Vec<HashMap<&str, &Document>> = members
        .iter()
        .map(|docs| docs.iter().map(|d| (d.id.as_str(), d)).collect())
        .collect();
    for (m, docs) in members.iter().enumerate() {
        if docs.len() != first.len() {
            return Err(Error::Usage(format!(
                "{}: {} documents, but {} has {}: every member must annotate the same documents",
                names[m],
                docs.len(),
                names[0],
                first.len()
            )));
        }
    }
    first
        .iter()
        .map(|doc| {
            let mut group = Vec::with_capacity(members.len());
            for (m, index) in by_id.iter().enumerate() {
                let other = index.get(doc.id.as_str()).ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: document {:?} is missing (it is in {})",
                        names[m], doc.id, names[0]
                    ))
                })?;
                if other.text != doc.text {
                    return Err(Error::Usage(format!(
                        "{}: document {:?} has another text than in {}",
                        names[m], doc.id, names[0]
                    )));
                }
                group.push(*other);
            }
            Ok(vote_document(&group, opts))
        })
        .collect()
}

/// One document's vote (every member's copy of it in `group`).
fn vote_document(group: &[&Document], opts: &VoteOptions) -> Document {
    let n = group.len() as f32;
    // Mentions: votes and summed scores (a gold-like mention without a score counts 1).
    let mut mentions: BTreeMap<MentionKey, (usize, f32)> = BTreeMap::new();
    let mut relations: BTreeMap<(MentionKey, MentionKey, String), (f32, Option<Span>)> =
        BTreeMap::new();
    for doc in group {
        let key_of: HashMap<&str, MentionKey> = doc
            .entities
            .iter()
            .map(|e| (e.id.as_str(), (e.start, e.end, e.label.clone())))
            .collect();
        for e in &doc.entities {
            let v = mentions
                .entry((e.start, e.end, e.label.clone()))
                .or_default();
            v.0 += 1;
            v.1 += e.score.unwrap_or(1.0);
        }
        for r in &doc.relations {
            let (Some(h), Some(t)) = (key_of.get(r.head.as_str()), key_of.get(r.tail.as_str()))
            else {
                continue;
            };
            let (mut h, mut t) = (h.clone(), t.clone());
            if opts.symmetric.contains(&r.label) && t < h {
                std::mem::swap(&mut h, &mut t);
            }
            let v = relations.entry((h, t, r.label.clone())).or_default();
            v.0 += r.score.unwrap_or(1.0);
            v.1 = v.1.or(r.evidence);
        }
    }
    let mut out = group[0].clone();
    out.entities.clear();
    out.relations.clear();
    let mut ids: HashMap<MentionKey, String> = HashMap::new();
    let chars: Vec<char> = out.text.chars().collect();
    for (key, (votes, score)) in mentions {
        if 2 * votes <= group.len() {
            continue;
        }
        let id = format!("T{}", out.entities.len() + 1);
        out.entities.push(Entity {
            id: id.clone(),
            start: key.0,
            end: key.1,
            label: key.2.clone(),
            text: chars[key.0..key.1].iter().collect(),
            score: Some(score / n),
        });
        ids.insert(key, id);
    }
    for ((h, t, label), (sum, evidence)) in relations {
        let score = sum / n;
        if score < opts.threshold {
            continue;
        }
        if let (Some(head), Some(tail)) = (ids.get(&h), ids.get(&t)) {
            out.relations.push(Relation {
                head: head.clone(),
                tail: tail.clone(),
                label,
                score: Some(score),
                evidence,
            });
        }
    }
    out.actors = document_level::actors(&out);
    out.triples =
        document_level::triples(&out, &out.actors, |l| opts.symmetric.iter().any(|s| s == l));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Ann met Bob in Rome ." with the given mentions ((start, end, type, score)) and
    /// relations ((head index, tail index, label, score)).
    fn doc(mentions: &[(usize, usize, &str, f32)], rels: &[(usize, usize, &str, f32)]) -> Document {
        let mut d = Document::new("d1", "Ann met Bob in Rome .");
        for &(s, e, label, score) in mentions {
            d.add_entity(s, e, label).unwrap();
            d.entities.last_mut().unwrap().score = Some(score);
        }
        for &(h, t, label, score) in rels {
            d.relations.push(Relation {
                head: d.entities[h].id.clone(),
                tail: d.entities[t].id.clone(),
                label: label.into(),
                score: Some(score),
                evidence: None,
            });
        }
        d
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}")).collect()
    }

    const ANN: (usize, usize, &str, f32) = (0, 3, "PER", 0.9);
    const BOB: (usize, usize, &str, f32) = (8, 11, "PER", 0.8);
    const ROME: (usize, usize, &str, f32) = (15, 19, "LOC", 1.0);

    #[test]
    fn a_mention_needs_a_majority_and_a_relation_a_mean_score() {
        let members = vec![
            vec![doc(
                &[ANN, BOB, ROME],
                &[(0, 1, "met", 0.9), (0, 2, "in", 0.6)],
            )],
            vec![doc(&[ANN, BOB], &[(0, 1, "met", 0.7)])],
            // Bob as ORG in one member only: outvoted.
            vec![doc(&[ANN, (8, 11, "ORG", 0.6)], &[(0, 1, "met", 0.8)])],
        ];
        let out = vote(&members, &names(3), &VoteOptions::default()).unwrap();
        let d = &out[0];
        let got: Vec<_> = d
            .entities
            .iter()
            .map(|e| (e.start, e.end, e.label.as_str(), e.text.as_str()))
            .collect();
        // Rome: one vote of three.
        assert_eq!(got, [(0, 3, "PER", "Ann"), (8, 11, "PER", "Bob")]);
        assert!((d.entities[1].score.unwrap() - (0.8 + 0.8) / 3.0).abs() < 1e-6);
        // Ann -> Bob: the third member's "met" joins ORG Bob, another mention: (0.9 + 0.7) / 3.
        assert_eq!(d.relations.len(), 1);
        let r = &d.relations[0];
        assert_eq!(
            (r.head.as_str(), r.tail.as_str(), r.label.as_str()),
            ("T1", "T2", "met")
        );
        assert!((r.score.unwrap() - 1.6 / 3.0).abs() < 1e-6);
        assert_eq!(d.triples.len(), 1);
    }

    #[test]
    fn a_relation_under_the_threshold_or_on_a_dropped_mention_is_left_out() {
        let members = vec![
            vec![doc(
                &[ANN, BOB, ROME],
                &[(0, 1, "met", 0.9), (0, 2, "in", 1.0)],
            )],
            vec![doc(&[ANN, BOB], &[(0, 1, "met", 0.2)])],
        ];
        // Two members: a mention needs both.
        let opts = VoteOptions {
            threshold: 0.6,
            ..Default::default()
        };
        let out = vote(&members, &names(2), &opts).unwrap();
        assert_eq!(out[0].entities.len(), 2);
        assert!(out[0].relations.is_empty(), "{:?}", out[0].relations);
        let opts = VoteOptions {
            threshold: 0.55,
            ..Default::default()
        };
        let out = vote(&members, &names(2), &opts).unwrap();
        assert_eq!(out[0].relations.len(), 1);
    }

    #[test]
    fn a_symmetric_label_is_one_relation_whichever_way_a_member_wrote_it() {
        let members = vec![
            vec![doc(&[ANN, BOB], &[(0, 1, "met", 0.8)])],
            vec![doc(&[ANN, BOB], &[(1, 0, "met", 0.6)])],
        ];
        let directed = vote(&members, &names(2), &VoteOptions::default()).unwrap();
        assert!(directed[0].relations.is_empty());
        let opts = VoteOptions {
            symmetric: vec!["met".into()],
            ..Default::default()
        };
        let out = vote(&members, &names(2), &opts).unwrap();
        assert_eq!(out[0].relations.len(), 1);
        assert!((out[0].relations[0].score.unwrap() - 0.7).abs() < 1e-6);
    }

    #[test]
    fn members_must_annotate_the_same_documents() {
        let a = vec![doc(&[ANN], &[])];
        let mut other = doc(&[ANN], &[]);
        other.id = "d2".into();
        let err = vote(&[a.clone(), vec![other]], &names(2), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("m1: document \"d1\" is missing"), "{err}");
        let mut changed = doc(&[], &[]);
        changed.text = "Ann met Bob in Paris .".into();
        let err = vote(&[a.clone(), vec![changed]], &names(2), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("another text"), "{err}");
        let err = vote(&[a, vec![]], &names(2), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("m1: 0 documents"), "{err}");
    }
}
