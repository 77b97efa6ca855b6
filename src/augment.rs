//! Mention replacement (Dai and Adel, 2020): extra training copies of documents in which
//! entity mentions are swapped for other mentions of the same type drawn from the training
//! data. A model that sees a name mostly with one label learns the name: the geopolitics model
//! never saw `Iran` as the tail of `opposes interference` and refused the label even in
//! "China opposes any outside interference in the internal affairs of Iran". In the copies, any
//! country can stand in either place, so only the words around a pair tell its label.
//!
//! A copy keeps the original's relations, sentence and token structure; only the replaced
//! mentions' characters (and the offsets after them) change. All mentions of one actor (by the
//! document-level coreference's rules) get the same stand-in, so they stay one actor.

use std::collections::{BTreeMap, HashMap};

use crate::document::{Document, Relation, Span};
use crate::eval::bootstrap::SplitMix64;
use crate::offsets::CharIndex;
use crate::relations::document_level::actors;

/// One mention that can stand in for another: its text and its tokens (relative offsets).
#[derive(Debug, Clone, PartialEq)]
struct StandIn {
    text: String,
    tokens: Vec<Span>,
}

/// The distinct mentions of each entity type in a set of documents.
#[derive(Debug, Clone, Default)]
pub struct MentionPool {
    by_label: BTreeMap<String, Vec<StandIn>>,
}

impl MentionPool {
    /// Every distinct (type, text) mention of `docs` that is whole tokens, with its tokens.
    pub fn from_documents(docs: &[Document]) -> Self {
        let mut by_label: BTreeMap<String, Vec<StandIn>> = BTreeMap::new();
        let mut seen = std::collections::HashSet::new();
        for doc in docs {
            for e in &doc.entities {
                let span = e.span();
                let Some(tokens) = tokens_within(doc, span) else {
                    continue;
                };
                if e.text.is_empty() || !seen.insert((e.label.clone(), e.text.clone())) {
                    continue;
                }
                by_label.entry(e.label.clone()).or_default().push(StandIn {
                    text: e.text.clone(),
                    tokens: tokens
                        .iter()
                        .map(|t| Span::new(t.start - span.start, t.end - span.start))
                        .collect(),
                });
            }
        }
        MentionPool { by_label }
    }

    /// Mentions of `label` in the pool.
    pub fn len(&self, label: &str) -> usize {
        self.by_label.get(label).map_or(0, Vec::len)
    }

    /// A stand-in of `label` whose text is not `text`, if the pool has one.
    fn draw(&self, label: &str, text: &str, rng: &mut SplitMix64) -> Option<&StandIn> {
        let pool = self.by_label.get(label)?;
        if pool.iter().all(|s| s.text == text) {
            return None;
        }
        loop {
            let s = &pool[rng.below(pool.len())];
            if s.text != text {
                return Some(s);
            }
        }
    }
}

/// `copies` replaced copies of each document of `docs` (ids `<id>#swap<k>`), mentions drawn
/// from the pool of `docs` itself. Deterministic for a seed. Documents must be segmented
/// (sentences and tokens), as training prepares them.
pub fn replaced_copies(docs: &[Document], copies: usize, seed: u64) -> Vec<Document> {
    let pool = MentionPool::from_documents(docs);
    let mut rng = SplitMix64::new(seed ^ 0x5A5A_1234_ABCD_0F0F);
    let mut out = Vec::with_capacity(docs.len() * copies);
    for k in 1..=copies {
        for doc in docs {
            let mut copy = replace_mentions(doc, &pool, &mut rng);
            copy.id = format!("{}#swap{k}", doc.id);
            out.push(copy);
        }
    }
    out
}

/// A copy of `doc` with each replaceable entity mention swapped for a stand-in of its type.
/// A mention is replaceable when it overlaps no other mention, is whole tokens and lies in one
/// sentence; others keep their text (their offsets move with the text).
pub fn replace_mentions(doc: &Document, pool: &MentionPool, rng: &mut SplitMix64) -> Document {
    let chars: Vec<char> = doc.text.chars().collect();
    let mut order: Vec<usize> = (0..doc.entities.len()).collect();
    order.sort_by_key(|&i| (doc.entities[i].start, doc.entities[i].end));
    let overlaps = |i: usize| {
        let s = doc.entities[i].span();
        doc.entities
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && o.span().overlaps(s))
    };
    let in_one_sentence = |s: Span| {
        doc.sentences.is_empty()
            || doc
                .sentences
                .iter()
                .any(|x| x.start <= s.start && s.end <= x.end)
    };
    // One stand-in per actor (`document_level::actors`: "Vladimir Putin" and "Putin" are one).
    let groups = actors(doc);
    let actor_of: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(a, actor)| actor.mentions.iter().map(move |m| (m.as_str(), a)))
        .collect();
    // Replaced regions in text order: (entity index, old span, stand-in).
    let mut chosen: HashMap<usize, Option<&StandIn>> = HashMap::new();
    let mut regions: Vec<(usize, Span, &StandIn)> = Vec::new();
    for &i in &order {
        let e = &doc.entities[i];
        let span = e.span();
        if span.is_empty()
            || overlaps(i)
            || !in_one_sentence(span)
            || tokens_within(doc, span).is_none()
        {
            continue;
        }
        let key = actor_of
            .get(e.id.as_str())
            .copied()
            .unwrap_or(groups.len() + i);
        let stand_in = *chosen
            .entry(key)
            .or_insert_with(|| pool.draw(&e.label, &e.text, rng));
        if let Some(s) = stand_in {
            regions.push((i, span, s));
        }
    }

    // New text, and the shift of every old offset outside the replaced regions.
    let mut text = String::with_capacity(doc.text.len());
    let mut new_spans = vec![None; doc.entities.len()];
    let mut shifts: Vec<(usize, isize)> = Vec::new(); // (old end of region, total shift after it)
    let (mut at, mut shift) = (0usize, 0isize);
    for &(i, span, s) in &regions {
        text.extend(&chars[at..span.start]);
        let start = (span.start as isize + shift) as usize;
        let len = s.text.chars().count();
        text.push_str(&s.text);
        new_spans[i] = Some(Span::new(start, start + len));
        shift += len as isize - span.len() as isize;
        shifts.push((span.end, shift));
        at = span.end;
    }
    text.extend(&chars[at..]);
    let map = |p: usize| -> usize {
        let k = shifts.partition_point(|&(end, _)| end <= p);
        let d = if k == 0 { 0 } else { shifts[k - 1].1 };
        (p as isize + d) as usize
    };
    let inside = |t: Span| regions.iter().any(|&(_, r, _)| r.contains(t));

    let mut tokens: Vec<Span> = doc
        .tokens
        .iter()
        .filter(|&&t| !inside(t))
        .map(|t| Span::new(map(t.start), map(t.end)))
        .collect();
    for &(i, _, s) in &regions {
        let start = new_spans[i].expect("replaced").start;
        tokens.extend(
            s.tokens
                .iter()
                .map(|t| Span::new(start + t.start, start + t.end)),
        );
    }
    tokens.sort_by_key(|t| (t.start, t.end));
    let sentences = doc
        .sentences
        .iter()
        .map(|s| Span::new(map(s.start), map(s.end)))
        .collect();
    let index = CharIndex::new(&text);
    let entities = doc
        .entities
        .iter()
        .zip(&new_spans)
        .map(|(e, new)| {
            let mut e = e.clone();
            let span = new.unwrap_or_else(|| Span::new(map(e.start), map(e.end)));
            e.start = span.start;
            e.end = span.end;
            e.text = index
                .slice(span.start, span.end)
                .expect("mapped spans lie in the new text")
                .to_string();
            e
        })
        .collect();
    Document {
        id: doc.id.clone(),
        text,
        sentences,
        tokens,
        entities,
        relations: doc
            .relations
            .iter()
            .map(|r| Relation {
                evidence: r.evidence.map(|s| Span::new(map(s.start), map(s.end))),
                ..r.clone()
            })
            .collect(),
        actors: Vec::new(),
        triples: Vec::new(),
        meta: doc.meta.clone(),
    }
}

/// The tokens that exactly cover `span` (one starts where it starts, one ends where it ends, as
/// `eval::entities::token_spans` decides), or `None`. A document without tokens gives `None`.
fn tokens_within(doc: &Document, span: Span) -> Option<&[Span]> {
    let first = doc
        .tokens
        .binary_search_by_key(&span.start, |t| t.start)
        .ok()?;
    let last = doc.tokens.binary_search_by_key(&span.end, |t| t.end).ok()?;
    (first <= last).then(|| &doc.tokens[first..=last])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::Segmenter;

    fn doc(id: &str, text: &str, ents: &[(&str, &str)]) -> Document {
        let mut d = Document::new(id, text);
        for (surface, label) in ents {
            let b = text.find(surface).expect("in text");
            let start = text[..b].chars().count();
            d.add_entity(start, start + surface.chars().count(), label);
        }
        Segmenter::new().segment(&mut d);
        d
    }

    #[test]
    fn copies_keep_structure_and_relations_with_new_names() {
        let a = {
            let mut d = doc(
                "a",
                "Beijing’s envoy said China opposes interference in Myanmar. China agreed.",
                &[("China", "LOC"), ("Myanmar", "LOC")],
            );
            let second = d.text.chars().count() - "China agreed.".len();
            d.add_entity(second, second + 5, "LOC");
            d.relations.push(Relation {
                head: "T1".into(),
                tail: "T2".into(),
                label: "opposes interference".into(),
                score: None,
                evidence: None,
            });
            d
        };
        let b = doc(
            "b",
            "Prime Minister Jacinda Ardern visited New Zealand and Côte d'Ivoire.",
            &[
                ("Jacinda Ardern", "PER"),
                ("New Zealand", "LOC"),
                ("Côte d'Ivoire", "LOC"),
            ],
        );
        let copies = replaced_copies(&[a.clone(), b.clone()], 2, 7);
        assert_eq!(copies.len(), 4);
        assert_eq!(copies[0].id, "a#swap1");
        for (c, orig) in copies.iter().zip([&a, &b, &a, &b]) {
            assert!(c.problems().is_empty(), "{:?}", c.problems());
            assert_eq!(c.relations, orig.relations);
            assert_eq!(c.sentences.len(), orig.sentences.len());
            for (e, o) in c.entities.iter().zip(&orig.entities) {
                assert_eq!(e.label, o.label);
                // Only one PER in the pool: it stays; every LOC has others to draw from.
                if o.label == "LOC" {
                    assert_ne!(e.text, o.text, "{} in {}", o.text, c.text);
                } else {
                    assert_eq!(e.text, o.text);
                }
                // Tokens still cover each entity exactly.
                assert!(tokens_within(c, e.span()).is_some(), "{e:?} in {c:?}");
            }
        }
        // The two mentions of China get one stand-in, and text outside entities is unchanged.
        let c = &copies[0];
        assert_eq!(c.entities[0].text, c.entities[2].text);
        assert!(c.text.starts_with("Beijing’s envoy said "));
        assert!(c.text.ends_with(" agreed."));
        assert!(c
            .text
            .contains(&format!(". {} agreed.", c.entities[0].text)));
    }

    #[test]
    fn mentions_of_one_actor_get_one_stand_in() {
        let mut d = doc(
            "p",
            "Vladimir Putin called Macron. Putin said so.",
            &[("Vladimir Putin", "PER"), ("Macron", "PER")],
        );
        d.add_entity(30, 35, "PER");
        let other = doc("q", "Angela Merkel left.", &[("Angela Merkel", "PER")]);
        let pool = MentionPool::from_documents(&[d.clone(), other]);
        for seed in 0..20 {
            let c = replace_mentions(&d, &pool, &mut SplitMix64::new(seed));
            assert_eq!(c.entities[0].text, c.entities[2].text, "{}", c.text);
            assert_ne!(c.entities[0].text, "Vladimir Putin");
        }
    }

    #[test]
    fn same_seed_same_copies_and_no_entities_no_change() {
        let d = doc(
            "x",
            "France and Germany met in Paris.",
            &[("France", "LOC"), ("Germany", "LOC"), ("Paris", "LOC")],
        );
        assert_eq!(
            replaced_copies(std::slice::from_ref(&d), 1, 3),
            replaced_copies(std::slice::from_ref(&d), 1, 3)
        );
        let plain = doc("y", "Nothing happened today.", &[]);
        let c = &replaced_copies(std::slice::from_ref(&plain), 1, 3)[0];
        assert_eq!((&c.text, &c.tokens), (&plain.text, &plain.tokens));
    }

    #[test]
    fn a_mention_that_is_not_whole_tokens_stays() {
        let mut d = doc(
            "z",
            "Frenchmen met Germans in Berlin.",
            &[("Germans", "MISC")],
        );
        d.add_entity(0, 6, "MISC"); // "French", part of the token "Frenchmen"
        let other = doc("w", "Italians left.", &[("Italians", "MISC")]);
        let pool = MentionPool::from_documents(&[d.clone(), other]);
        assert_eq!(pool.len("MISC"), 2, "Germans and Italians, not French");
        let c = replace_mentions(&d, &pool, &mut SplitMix64::new(1));
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.entities[1].text, "French");
        assert_eq!(c.entities[0].text, "Italians");
        assert_eq!(c.text, "Frenchmen met Italians in Berlin.");
    }
}
