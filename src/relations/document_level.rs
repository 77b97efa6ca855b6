//! Document-level output: the actors of a story (its entity mentions grouped by a simple
//! in-document coreference) and the unique (head actor, tail actor, label) triples its relation
//! mentions state, each with its best score and the sentences that support it.
//!
//! The coreference is deliberately simple and predictable, so that a user can tell why two
//! mentions were merged. Two mentions of the same entity type are one actor when:
//! 1. their texts are equal, ignoring case, whitespace and a possessive `'s`;
//! 2. one is a person's name and the other ends with it or starts with it, word for word
//!    ("Putin" and "Vladimir Putin"), and that longer name is the only one in the story that fits;
//! 3. one is the initials of the other ("EU" and "European Union").
//!
//! Different names are never merged on world knowledge: "Moscow", "the Kremlin" and "Russia"
//! stay three actors, because the text rarely says that they are one (see the guidelines, H2).

use std::collections::{BTreeMap, HashMap};

use crate::document::{Actor, Document, Triple};

/// Normalised mention text: lower case, single spaces, no possessive.
fn norm(text: &str) -> String {
    let t = text.trim();
    let t = t
        .strip_suffix("'s")
        .or_else(|| t.strip_suffix("’s"))
        .unwrap_or(t);
    t.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn initials(words: &[&str]) -> String {
    words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .filter_map(|w| w.chars().next())
        .collect()
}

/// Group `doc`'s entities into actors (rules in the module doc).
pub fn actors(doc: &Document) -> Vec<Actor> {
    let n = doc.entities.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        p[i] = r;
        r
    }
    let union = |p: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            p[ra.max(rb)] = ra.min(rb);
        }
    };
    let keys: Vec<String> = doc.entities.iter().map(|e| norm(&e.text)).collect();
    // Rule 1: equal texts.
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, e) in doc.entities.iter().enumerate() {
        match first.get(&(e.label.as_str(), keys[i].as_str())) {
            Some(&j) => union(&mut parent, i, j),
            None => {
                first.insert((e.label.as_str(), keys[i].as_str()), i);
            }
        }
    }
    // Rules 2 and 3: a short form that fits exactly one longer name of the same type.
    let distinct: Vec<(usize, &str)> = first.iter().map(|(&(_, k), &i)| (i, k)).collect();
    for (i, key) in &distinct {
        let label = &doc.entities[*i].label;
        let words: Vec<&str> = key.split(' ').collect();
        let fits: Vec<usize> = distinct
            .iter()
            .filter(|(j, _)| j != i && &doc.entities[*j].label == label)
            .filter(|(j, other)| {
                let ow: Vec<&str> = other.split(' ').collect();
                let by_name = label == "PER"
                    && ow.len() > words.len()
                    && (ow.ends_with(&words) || ow.starts_with(&words));
                let orig: Vec<&str> = doc.entities[*j].text.split_whitespace().collect();
                let acronym = words.len() == 1
                    && ow.len() >= 2
                    && initials(&orig).to_lowercase() == words[0]
                    && words[0].len() >= 2;
                by_name || acronym
            })
            .map(|(j, _)| *j)
            .collect();
        if let [j] = fits[..] {
            union(&mut parent, *i, j);
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by_key(|g| g.iter().map(|&i| doc.entities[i].start).min());
    out.into_iter()
        .enumerate()
        .map(|(k, mut g)| {
            g.sort_by_key(|&i| (doc.entities[i].start, doc.entities[i].end));
            let longest = *g
                .iter()
                .max_by_key(|&&i| (doc.entities[i].text.chars().count(), std::cmp::Reverse(i)))
                .expect("a group has a member");
            Actor {
                id: format!("A{}", k + 1),
                name: doc.entities[longest].text.clone(),
                label: doc.entities[longest].label.clone(),
                mentions: g.iter().map(|&i| doc.entities[i].id.clone()).collect(),
            }
        })
        .collect()
}

/// The unique triples of `doc`'s relations over `actors`; `symmetric` says which labels hold
/// in both directions (their triples are stored with the first-mentioned actor as head).
pub fn triples(doc: &Document, actors: &[Actor], symmetric: impl Fn(&str) -> bool) -> Vec<Triple> {
    let actor_of: HashMap<&str, usize> = actors
        .iter()
        .enumerate()
        .flat_map(|(a, actor)| actor.mentions.iter().map(move |m| (m.as_str(), a)))
        .collect();
    let mut out: BTreeMap<(usize, usize, &str), Triple> = BTreeMap::new();
    for r in &doc.relations {
        let (Some(&h), Some(&t)) = (actor_of.get(r.head.as_str()), actor_of.get(r.tail.as_str()))
        else {
            continue;
        };
        if h == t {
            continue;
        }
        let (h, t) = if symmetric(&r.label) && t < h {
            (t, h)
        } else {
            (h, t)
        };
        let e = out
            .entry((h, t, r.label.as_str()))
            .or_insert_with(|| Triple {
                head: actors[h].id.clone(),
                tail: actors[t].id.clone(),
                label: r.label.clone(),
                score: None,
                mentions: 0,
                evidence: Vec::new(),
            });
        e.mentions += 1;
        e.score = match (e.score, r.score) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(s) = r.evidence {
            if !e.evidence.contains(&s) {
                e.evidence.push(s);
                e.evidence.sort();
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Relation, Span};

    fn doc() -> Document {
        let text = "Vladimir Putin called Netanyahu. Putin and the European Union (EU) met. \
                    Moscow and Russia.";
        let mut d = Document::new("d", text);
        for (w, l) in [
            ("Vladimir Putin", "PER"),
            ("Netanyahu", "PER"),
            ("Putin", "PER"),
            ("European Union", "ORG"),
            ("EU", "ORG"),
            ("Moscow", "LOC"),
            ("Russia", "LOC"),
        ] {
            let from = d.entities.last().map_or(0, |e| e.end);
            let s = text[from..].find(w).unwrap() + from;
            d.add_entity(s, s + w.len(), l).unwrap();
        }
        d
    }

    #[test]
    fn short_names_acronyms_and_repeats_join_their_actor() {
        let d = doc();
        let a = actors(&d);
        let names: Vec<(&str, Vec<&str>)> = a
            .iter()
            .map(|x| {
                (
                    x.name.as_str(),
                    x.mentions.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("Vladimir Putin", vec!["T1", "T3"]),
                ("Netanyahu", vec!["T2"]),
                ("European Union", vec!["T4", "T5"]),
                ("Moscow", vec!["T6"]),
                ("Russia", vec!["T7"]),
            ]
        );
    }

    #[test]
    fn an_ambiguous_short_name_stays_alone() {
        let mut d = Document::new("d", "Ali Khan met Imran Khan. Khan said.");
        d.add_entity(0, 8, "PER");
        d.add_entity(13, 23, "PER");
        d.add_entity(25, 29, "PER");
        assert_eq!(actors(&d).len(), 3);
    }

    #[test]
    fn triples_merge_mentions_keep_the_best_score_and_all_evidence() {
        let mut d = doc();
        let rel = |h: &str, t: &str, score: f32, ev: (usize, usize)| Relation {
            head: h.into(),
            tail: t.into(),
            label: "phone call".into(),
            score: Some(score),
            evidence: Some(Span::new(ev.0, ev.1)),
        };
        d.relations = vec![
            rel("T1", "T2", 0.7, (0, 32)),
            rel("T2", "T3", 0.9, (33, 70)),
        ];
        let a = actors(&d);
        let t = triples(&d, &a, |l| l == "phone call");
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].head.as_str(), t[0].tail.as_str()), ("A1", "A2"));
        assert_eq!(t[0].score, Some(0.9));
        assert_eq!(t[0].mentions, 2);
        assert_eq!(t[0].evidence.len(), 2);
        // Directed: the reverse order is another triple.
        let t = triples(&d, &a, |_| false);
        assert_eq!(t.len(), 2);
    }
}
