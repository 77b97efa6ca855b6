//! The data model every stage shares: a [`Document`] with its [`Entity`] mentions and the
//! [`Relation`]s between them.
//!
//! Offsets are Unicode code-point offsets into `Document::text`, end-exclusive. One document
//! is one line of JSON Lines; see the README for the schema.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::offsets::CharIndex;

/// A half-open range of character offsets `[start, end)`, written in JSON as `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(usize, usize)", into = "(usize, usize)")]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn contains(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn overlaps(&self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl From<(usize, usize)> for Span {
    fn from((start, end): (usize, usize)) -> Self {
        Span { start, end }
    }
}

impl From<Span> for (usize, usize) {
    fn from(s: Span) -> Self {
        (s.start, s.end)
    }
}

/// A mention of a named entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Unique within its document; relations refer to it.
    pub id: String,
    pub start: usize,
    pub end: usize,
    /// The entity type, e.g. `PER`, `ORG`, `LOC`, `MISC`.
    pub label: String,
    /// The covered text, `text[start..end]` in characters; kept for people reading the output.
    pub text: String,
    /// Model confidence in [0, 1]; absent for gold annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl Entity {
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

/// A labelled, directed link from one entity mention to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// Entity id of the head (first argument).
    pub head: String,
    /// Entity id of the tail (second argument).
    pub tail: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The sentence (character span) that states the relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Span>,
}

/// One actor of a story: the mentions of one entity, grouped by the in-document coreference
/// of `relations::document_level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// `A1`, `A2`, ... in order of first mention.
    pub id: String,
    /// The longest mention's text.
    pub name: String,
    pub label: String,
    /// Entity ids of its mentions, in text order.
    pub mentions: Vec<String>,
}

/// A relation between two actors, however many times the story states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triple {
    pub head: String,
    pub tail: String,
    pub label: String,
    /// The best score among its mentions (absent when none has a score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// How many relation mentions state it.
    pub mentions: usize,
    /// The sentences that state it, in text order.
    pub evidence: Vec<Span>,
}

/// One story: its text, what was found in it, and anything else the input carried.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub text: String,
    /// Sentence spans, when known (from segmentation or a pre-split format such as CoNLL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sentences: Vec<Span>,
    /// Word token spans, when known. Pre-tokenised input keeps its tokens here so that it can
    /// be written back token for token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<Span>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// Document level: the entity mentions grouped into actors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Actor>,
    /// Document level: the unique (head actor, tail actor, label) triples of `relations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triples: Vec<Triple>,
    /// Fields of the input that ertag does not interpret, kept as they were.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
}

impl Document {
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    /// Add an entity over characters `[start, end)` with the next free id (`T1`, `T2`, ...),
    /// filling its text from the document. Returns the id, or `None` if the span is not inside
    /// the text.
    pub fn add_entity(&mut self, start: usize, end: usize, label: &str) -> Option<String> {
        let text = CharIndex::new(&self.text).slice(start, end)?.to_string();
        let id = self.next_entity_id();
        self.entities.push(Entity {
            id: id.clone(),
            start,
            end,
            label: label.to_string(),
            text,
            score: None,
        });
        Some(id)
    }

    /// An entity id (`T<n>`) that is not used yet in this document.
    pub fn next_entity_id(&self) -> String {
        let mut n = self.entities.len() + 1;
        loop {
            let id = format!("T{n}");
            if !self.entities.iter().any(|e| e.id == id) {
                return id;
            }
            n += 1;
        }
    }

    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.id == id)
    }

    /// Check that every offset lies inside the text, that entity texts match their offsets, that
    /// ids are unique and that relations point at entities. Returns every problem found.
    pub fn problems(&self) -> Vec<String> {
        let ix = CharIndex::new(&self.text);
        let len = ix.char_len();
        let mut out = Vec::new();
        let bad_span = |s: Span| s.start > s.end || s.end > len;
        for (what, spans) in [("sentence", &self.sentences), ("token", &self.tokens)] {
            for s in spans {
                if bad_span(*s) {
                    out.push(format!(
                        "{what} span [{}, {}] is outside the text ({len} characters)",
                        s.start, s.end
                    ));
                }
            }
        }
        let mut ids = std::collections::HashSet::new();
        for e in &self.entities {
            if !ids.insert(e.id.as_str()) {
                out.push(format!("entity id '{}' is used twice", e.id));
            }
            if e.start >= e.end || e.end > len {
                out.push(format!(
                    "entity '{}' [{}, {}] is outside the text ({len} characters) or empty",
                    e.id, e.start, e.end
                ));
                continue;
            }
            let actual = ix.slice(e.start, e.end).unwrap_or_default();
            if actual != e.text {
                out.push(format!(
                    "entity '{}' has text {:?} but its offsets [{}, {}] cover {:?}",
                    e.id, e.text, e.start, e.end, actual
                ));
            }
        }
        for r in &self.relations {
            for (role, id) in [("head", &r.head), ("tail", &r.tail)] {
                if !ids.contains(id.as_str()) {
                    out.push(format!(
                        "relation '{}' has {role} '{id}', which is not an entity of this document",
                        r.label
                    ));
                }
            }
            if let Some(s) = r.evidence {
                if bad_span(s) {
                    out.push(format!(
                        "relation '{}' evidence [{}, {}] is outside the text",
                        r.label, s.start, s.end
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Document {
        let mut d = Document::new("seed", "Putin spoke with Netanyahu by phone.");
        let p = d.add_entity(0, 5, "PER").unwrap();
        let n = d.add_entity(17, 26, "PER").unwrap();
        d.relations.push(Relation {
            head: p,
            tail: n,
            label: "phone call".into(),
            score: Some(0.9),
            evidence: Some(Span::new(0, 36)),
        });
        d
    }

    #[test]
    fn json_shape_is_stable() {
        let d = story();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"id":"seed","text":"Putin spoke with Netanyahu by phone.","entities":[{"id":"T1","start":0,"end":5,"label":"PER","text":"Putin"},{"id":"T2","start":17,"end":26,"label":"PER","text":"Netanyahu"}],"relations":[{"head":"T1","tail":"T2","label":"phone call","score":0.9,"evidence":[0,36]}]}"#
        );
        let back: Document = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn a_valid_document_has_no_problems() {
        assert!(story().problems().is_empty());
    }

    #[test]
    fn problems_are_named() {
        let mut d = story();
        d.entities[1].text = "Bibi".into();
        d.entities.push(Entity {
            id: "T1".into(),
            start: 30,
            end: 99,
            label: "LOC".into(),
            text: "x".into(),
            score: None,
        });
        d.relations[0].tail = "T9".into();
        let p = d.problems();
        assert!(p.iter().any(|m| m.contains("has text \"Bibi\"")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("used twice")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("outside the text")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("'T9'")), "{p:?}");
    }

    #[test]
    fn offsets_are_characters_not_bytes() {
        let mut d = Document::new("u", "Iran’s Pezeshkian");
        let id = d.add_entity(7, 17, "PER").unwrap();
        assert_eq!(d.entity(&id).unwrap().text, "Pezeshkian");
        assert!(d.add_entity(7, 18, "PER").is_none());
    }
}
