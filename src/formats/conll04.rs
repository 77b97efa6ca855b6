//! CoNLL04 in the JSON layout that SpERT published (read only): a JSON array of sentences,
//!
//! ```json
//! [{"tokens": ["John", "Wilkes", "Booth", ",", ...],
//!   "entities": [{"type": "Peop", "start": 0, "end": 3}],
//!   "relations": [{"type": "Kill", "head": 0, "tail": 1}],
//!   "orig_id": 5178}]
//! ```
//!
//! Entity `start`/`end` are token indices (end exclusive); relation `head`/`tail` index the
//! sentence's `entities`. Each sentence becomes one document: its id is `orig_id` (else the
//! 1-based position in the array), its text the tokens joined by single spaces, so that the
//! token spans, the one sentence span and the entities' character offsets follow from the
//! tokens alone. Relations get the sentence as their evidence. Any other field of a sentence
//! is kept in `meta`.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::document::{Document, Entity, Relation, Span};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::Options;
use crate::offsets::char_len;

#[derive(Deserialize)]
struct Sentence {
    tokens: Vec<String>,
    #[serde(default)]
    entities: Vec<SpertEntity>,
    #[serde(default)]
    relations: Vec<SpertRelation>,
    /// Every other field, `orig_id` included (removed once read).
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct SpertEntity {
    #[serde(rename = "type")]
    label: String,
    start: usize,
    end: usize,
}

#[derive(Deserialize)]
struct SpertRelation {
    #[serde(rename = "type")]
    label: String,
    head: usize,
    tail: usize,
}

pub fn parse(
    content: &str,
    loc: &Location,
    _opts: &Options,
    _diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let top: Value = serde_json::from_str(content).map_err(|e| {
        Error::input(
            &loc.at_line(e.line()),
            format!("malformed CoNLL04 (SpERT) JSON: {e}"),
        )
    })?;
    let Value::Array(sentences) = top else {
        return Err(Error::input(
            loc,
            "expected a JSON array of sentences (CoNLL04 in the SpERT layout)",
        ));
    };
    sentences
        .into_iter()
        .enumerate()
        .map(|(i, value)| sentence(value, i + 1, loc))
        .collect()
}

/// Build the document for the `n`th (1-based) sentence of the array.
fn sentence(value: Value, n: usize, loc: &Location) -> Result<Document> {
    // Name the sentence before anything else can fail, so every error says which one.
    let id = match value.get("orig_id") {
        None | Some(Value::Null) => n.to_string(),
        Some(Value::Number(x)) => x.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::input(
                &loc.in_doc(n.to_string()),
                format!("sentence {n}: orig_id must be a number or a string, not {other}"),
            ))
        }
    };
    let loc = loc.in_doc(&id);
    let fail = |reason: String| Error::input(&loc, format!("sentence {n}: {reason}"));
    let s: Sentence = serde_json::from_value(value).map_err(|e| fail(e.to_string()))?;

    let mut doc = Document::new(id, "");
    let mut text = String::new();
    let mut offset = 0;
    for (i, token) in s.tokens.iter().enumerate() {
        if token.is_empty() {
            return Err(fail(format!("token {i} is empty")));
        }
        if i > 0 {
            text.push(' ');
            offset += 1;
        }
        text.push_str(token);
        let len = char_len(token);
        doc.tokens.push(Span::new(offset, offset + len));
        offset += len;
    }
    doc.text = text;
    let whole = Span::new(0, offset);
    doc.sentences.push(whole);

    for (i, e) in s.entities.iter().enumerate() {
        if e.start >= e.end || e.end > doc.tokens.len() {
            return Err(fail(format!(
                "entity {i} ({}) covers tokens [{}, {}), outside the {} tokens or empty",
                e.label,
                e.start,
                e.end,
                doc.tokens.len()
            )));
        }
        let (start, end) = (doc.tokens[e.start].start, doc.tokens[e.end - 1].end);
        let id = format!("T{}", i + 1);
        let text = crate::offsets::CharIndex::new(&doc.text)
            .slice(start, end)
            .unwrap_or_default()
            .to_string();
        doc.entities.push(Entity {
            id,
            start,
            end,
            label: e.label.clone(),
            text,
            score: None,
        });
    }
    for (i, r) in s.relations.iter().enumerate() {
        for (role, index) in [("head", r.head), ("tail", r.tail)] {
            if index >= doc.entities.len() {
                return Err(fail(format!(
                    "relation {i} ({}) has {role} {index}, but the sentence has {} entities",
                    r.label,
                    doc.entities.len()
                )));
            }
        }
        doc.relations.push(Relation {
            head: doc.entities[r.head].id.clone(),
            tail: doc.entities[r.tail].id.clone(),
            label: r.label.clone(),
            score: None,
            evidence: Some(whole),
        });
    }
    doc.meta = s.rest;
    doc.meta.remove("orig_id");
    Ok(doc)
}

/// CoNLL04 is an input format only; the dispatcher refuses before calling this.
pub fn write(_docs: &[Document], _opts: &Options, _diag: &mut Diagnostics) -> Result<String> {
    Err(Error::Usage(
        "conll04 (SpERT JSON) is read only; write jsonl instead".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn parse_str(s: &str) -> Result<Vec<Document>> {
        parse(
            s,
            &Location::file("c.json"),
            &Options::default(),
            &mut Diagnostics::default(),
        )
    }

    fn counts<'a>(labels: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
        let mut m = BTreeMap::new();
        for l in labels {
            *m.entry(l).or_insert(0) += 1;
        }
        m
    }

    /// A split of the real corpus (beside the repository in `../shared`), read and checked.
    fn real(split: &str) -> Vec<Document> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/conll04/spert_json")
            .join(format!("conll04_{split}.json"));
        assert!(path.exists(), "{} is missing", path.display());
        let content = crate::error::read_to_string(&path).unwrap();
        let loc = Location::file(&path);
        let docs = parse(
            &content,
            &loc,
            &Options::default(),
            &mut Diagnostics::default(),
        );
        let docs = docs.unwrap();
        crate::formats::check(&docs, &loc).unwrap();
        docs
    }

    #[test]
    fn a_sentence_becomes_a_document() {
        let json = r#"[{"tokens": ["John", "Wilkes", "Booth", ",", "who", "killed", "Lincoln", "."],
            "entities": [{"type": "Peop", "start": 0, "end": 3}, {"type": "Peop", "start": 6, "end": 7}],
            "relations": [{"type": "Kill", "head": 0, "tail": 1}], "orig_id": 5178, "pos": ["NNP"]},
            {"tokens": ["Zürich", "."], "entities": [{"type": "Loc", "start": 0, "end": 1}], "relations": []}]"#;
        let docs = parse_str(json).unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.id, "5178");
        assert_eq!(d.text, "John Wilkes Booth , who killed Lincoln .");
        assert_eq!(d.tokens.len(), 8);
        assert_eq!(d.tokens[1], Span::new(5, 11));
        assert_eq!(d.sentences, vec![Span::new(0, 40)]);
        assert_eq!(d.entities[0].text, "John Wilkes Booth");
        assert_eq!((d.entities[1].id.as_str(), d.entities[1].start), ("T2", 31));
        let r = &d.relations[0];
        assert_eq!(
            (r.head.as_str(), r.tail.as_str(), r.label.as_str()),
            ("T1", "T2", "Kill")
        );
        assert_eq!(r.evidence, Some(Span::new(0, 40)));
        assert_eq!(d.meta["pos"], serde_json::json!(["NNP"]));
        assert!(d.problems().is_empty());
        // No orig_id: the 1-based position; offsets count characters, not bytes.
        assert_eq!(docs[1].id, "2");
        assert_eq!(docs[1].tokens[1], Span::new(7, 8));
        assert!(docs[1].problems().is_empty());
    }

    #[test]
    fn dev_split_counts() {
        let docs = real("dev");
        assert_eq!(docs.len(), 231);
        assert_eq!(docs.iter().map(|d| d.tokens.len()).sum::<usize>(), 6_993);
        let ents = counts(
            docs.iter()
                .flat_map(|d| &d.entities)
                .map(|e| e.label.as_str()),
        );
        assert_eq!(ents.values().sum::<usize>(), 893);
        assert_eq!(
            ents.into_iter().collect::<Vec<_>>(),
            [("Loc", 322), ("Org", 170), ("Other", 118), ("Peop", 283)]
        );
        let rels = counts(
            docs.iter()
                .flat_map(|d| &d.relations)
                .map(|r| r.label.as_str()),
        );
        assert_eq!(rels.values().sum::<usize>(), 343);
        assert_eq!(
            rels.into_iter().collect::<Vec<_>>(),
            [
                ("Kill", 42),
                ("Live_In", 91),
                ("Located_In", 65),
                ("OrgBased_In", 76),
                ("Work_For", 69)
            ]
        );
        assert_eq!(docs[0].id, "5178");
        assert_eq!(docs[0].entities[0].text, "John Wilkes Booth");
    }

    #[test]
    fn test_split_counts() {
        let docs = real("test");
        assert_eq!(docs.len(), 288);
        assert_eq!(docs.iter().map(|d| d.tokens.len()).sum::<usize>(), 8_336);
        assert_eq!(docs.iter().map(|d| d.entities.len()).sum::<usize>(), 1_079);
        assert_eq!(docs.iter().map(|d| d.relations.len()).sum::<usize>(), 422);
    }

    #[test]
    fn malformed_json_names_the_line() {
        let msg = parse_str("[\n{\"tokens\": [\"a\"],\n \"entities\": [}\n]").unwrap_err();
        let msg = msg.to_string();
        assert!(msg.starts_with("c.json:line 3: malformed CoNLL04"), "{msg}");
        let msg = parse_str("{\"tokens\": []}").unwrap_err().to_string();
        assert!(msg.contains("expected a JSON array"), "{msg}");
    }

    #[test]
    fn entity_outside_the_tokens_names_the_sentence() {
        let json = r#"[{"tokens": ["a"], "entities": [], "relations": [], "orig_id": 1},
            {"tokens": ["Putin", "spoke"], "entities": [{"type": "Peop", "start": 1, "end": 3}], "orig_id": 77}]"#;
        let msg = parse_str(json).unwrap_err().to_string();
        assert!(
            msg.starts_with("c.json document '77': sentence 2:"),
            "{msg}"
        );
        assert!(
            msg.contains("entity 0 (Peop) covers tokens [1, 3)"),
            "{msg}"
        );
    }

    #[test]
    fn relation_index_out_of_range_names_the_sentence() {
        let json = r#"[{"tokens": ["Putin", "met", "Netanyahu"],
            "entities": [{"type": "Peop", "start": 0, "end": 1}],
            "relations": [{"type": "Meet", "head": 0, "tail": 4}], "orig_id": 9}]"#;
        let msg = parse_str(json).unwrap_err().to_string();
        assert!(msg.starts_with("c.json document '9': sentence 1:"), "{msg}");
        assert!(msg.contains("relation 0 (Meet) has tail 4"), "{msg}");
    }

    #[test]
    fn wrong_field_types_are_errors() {
        let msg = parse_str(r#"[{"tokens": "Putin spoke"}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("c.json document '1': sentence 1: invalid type"),
            "{msg}"
        );
        let msg = parse_str(r#"[{"tokens": ["a", ""]}]"#)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("token 1 is empty"), "{msg}");
        let msg = parse_str(r#"[{"tokens": ["a"], "orig_id": [1]}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("orig_id must be a number or a string"),
            "{msg}"
        );
    }

    #[test]
    fn writing_is_refused() {
        let err = write(&[], &Options::default(), &mut Diagnostics::default()).unwrap_err();
        assert!(err.to_string().contains("read only"));
    }
}
