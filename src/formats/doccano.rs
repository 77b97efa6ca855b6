//! doccano JSONL exports, one document per line, in either project layout:
//!
//! * sequence labelling: `{"id": 1, "text": "...", "label": [[0, 5, "PER"], ...]}` (older
//!   exports say `"labels"`, and doccano 1.0-1.2 put the text under `"data"`);
//! * relation extraction: `{"id": 1, "text": "...", "entities": [{"id": 7, "label": "PER",
//!   "start_offset": 0, "end_offset": 5}], "relations": [{"id": 3, "from_id": 7, "to_id": 8,
//!   "type": "phone call"}]}`.
//!
//! Offsets are character offsets, as ertag's. The document id is the line's `id` (a number or
//! a string), else the line number. Entities are named `T1`, `T2`, ... in the order given;
//! doccano's own entity ids only serve to resolve relations. A `label` list of plain strings
//! is a text-classification export (document categories), not spans: it is kept in `meta`
//! with every other field ertag does not interpret.
//!
//! [`write`] produces the relation-extraction layout, the one doccano imports with both
//! entities and relations. Its entity and relation ids are numbered from 1 across the whole
//! file, since doccano treats them as database ids. doccano has no place for scores, token or
//! sentence spans or relation evidence; they are not written (a model can recompute them).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::document::{Document, Entity, Relation};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::Options;
use crate::offsets::CharIndex;

/// Keys that [`write`] fills itself, so `meta` may not overwrite them.
const RESERVED: [&str; 6] = ["id", "text", "label", "labels", "entities", "relations"];

pub fn parse(
    content: &str,
    loc: &Location,
    _opts: &Options,
    _diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    content
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_line(line, i + 1, &loc.at_line(i + 1)))
        .collect()
}

fn parse_line(line: &str, line_no: usize, loc: &Location) -> Result<Document> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| Error::input(loc, format!("malformed doccano JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(Error::input(loc, "expected a JSON object (one per line)"));
    };
    let id = match obj.remove("id") {
        None | Some(Value::Null) => line_no.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(Error::input(
                loc,
                format!("\"id\" must be a number or a string, not {other}"),
            ))
        }
    };
    let loc = loc.in_doc(&id);
    let fail = |reason: String| Error::input(&loc, reason);
    let text = match (obj.remove("text"), obj.remove("data")) {
        (Some(Value::String(t)), data) => {
            if let Some(d) = data {
                obj.insert("data".into(), d);
            }
            t
        }
        (None, Some(Value::String(t))) => t,
        (Some(v), _) => return Err(fail(format!("\"text\" must be a string, not {v}"))),
        (None, _) => return Err(fail("no \"text\" field".into())),
    };
    let mut doc = Document::new(id, text);

    let spans = match (obj.remove("label"), obj.remove("labels")) {
        (Some(a), Some(b)) => {
            return Err(fail(format!(
                "has both \"label\" ({a}) and \"labels\" ({b}); which one holds the spans?"
            )))
        }
        (Some(v), None) => Some(("label", v)),
        (None, Some(v)) => Some(("labels", v)),
        (None, None) => None,
    };
    if let Some((key, value)) = spans {
        let categories = value
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
        if categories {
            obj.insert(key.into(), value);
        } else {
            span_labels(&mut doc, key, &value, &fail)?;
        }
    }
    let entities = obj.remove("entities");
    let relations = obj.remove("relations");
    if let Some(entities) = entities {
        if !doc.entities.is_empty() && entities.as_array().is_some_and(|a| !a.is_empty()) {
            return Err(fail(
                "has both span labels and \"entities\"; export one layout per file".into(),
            ));
        }
        relation_layout(&mut doc, &entities, relations.as_ref(), &fail)?;
    } else if let Some(r) = relations.filter(|r| r.as_array().is_none_or(|a| !a.is_empty())) {
        return Err(fail(format!(
            "has \"relations\" ({r}) but no \"entities\" for them to point at"
        )));
    }
    doc.meta = obj;
    Ok(doc)
}

/// A character offset from a JSON value.
fn offset(v: Option<&Value>) -> Option<usize> {
    v?.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// Add one entity over `[start, end)`, naming what was wrong if it does not fit the text.
fn add(
    doc: &mut Document,
    start: usize,
    end: usize,
    label: &str,
    what: &str,
    fail: &dyn Fn(String) -> Error,
) -> Result<String> {
    let len = CharIndex::new(&doc.text).char_len();
    if start >= end {
        return Err(fail(format!("{what}: [{start}, {end}) is empty")));
    }
    doc.add_entity(start, end, label).ok_or_else(|| {
        fail(format!(
            "{what}: [{start}, {end}) is outside the text ({len} characters)"
        ))
    })
}

/// The sequence-labelling layout: `[[start, end, "LABEL"], ...]`.
fn span_labels(
    doc: &mut Document,
    key: &str,
    value: &Value,
    fail: &dyn Fn(String) -> Error,
) -> Result<()> {
    let Some(items) = value.as_array() else {
        return Err(fail(format!("\"{key}\" must be a list, not {value}")));
    };
    for (i, item) in items.iter().enumerate() {
        let parts = item.as_array().map(Vec::as_slice).unwrap_or_default();
        let (Some(start), Some(end), Some(label)) = (
            offset(parts.first()),
            offset(parts.get(1)),
            parts.get(2).and_then(Value::as_str),
        ) else {
            return Err(fail(format!(
                "\"{key}\" item {i} should be [start, end, \"LABEL\"], not {item}"
            )));
        };
        add(doc, start, end, label, &format!("\"{key}\" item {i}"), fail)?;
    }
    Ok(())
}

/// The relation-extraction layout: entity objects with ids, relations between those ids.
fn relation_layout(
    doc: &mut Document,
    entities: &Value,
    relations: Option<&Value>,
    fail: &dyn Fn(String) -> Error,
) -> Result<()> {
    let Some(entities) = entities.as_array() else {
        return Err(fail(format!("\"entities\" must be a list, not {entities}")));
    };
    // doccano id (as written, number or string) -> ertag id
    let mut ids: HashMap<String, String> = HashMap::new();
    for (i, e) in entities.iter().enumerate() {
        let what = format!("entity {i}");
        let (Some(start), Some(end), Some(label)) = (
            offset(e.get("start_offset")),
            offset(e.get("end_offset")),
            e.get("label").and_then(Value::as_str),
        ) else {
            return Err(fail(format!(
                "{what} needs \"start_offset\", \"end_offset\" and \"label\": {e}"
            )));
        };
        let ertag_id = add(doc, start, end, label, &what, fail)?;
        if let Some(key) = e.get("id").map(id_key) {
            if ids.insert(key.clone(), ertag_id).is_some() {
                return Err(fail(format!("entity id {key} is used twice")));
            }
        }
    }
    let Some(relations) = relations else {
        return Ok(());
    };
    let Some(relations) = relations.as_array() else {
        return Err(fail(format!(
            "\"relations\" must be a list, not {relations}"
        )));
    };
    for (i, r) in relations.iter().enumerate() {
        let (Some(from), Some(to), Some(label)) = (
            r.get("from_id"),
            r.get("to_id"),
            r.get("type").and_then(Value::as_str),
        ) else {
            return Err(fail(format!(
                "relation {i} needs \"from_id\", \"to_id\" and \"type\": {r}"
            )));
        };
        let resolve = |v: &Value| {
            ids.get(&id_key(v)).cloned().ok_or_else(|| {
                fail(format!(
                    "relation {i} ({label}) points at entity id {v}, which is not in \"entities\""
                ))
            })
        };
        doc.relations.push(Relation {
            head: resolve(from)?,
            tail: resolve(to)?,
            label: label.to_string(),
            score: None,
            evidence: None,
        });
    }
    Ok(())
}

/// doccano ids are numbers, but some tools write them as strings: `7` and `"7"` are one id.
fn id_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A document id as doccano would have it: a number when it is one, else the string.
fn id_value(id: &str) -> Value {
    match id.parse::<u64>() {
        Ok(n) if n.to_string() == id => json!(n),
        _ => json!(id),
    }
}

pub fn write(docs: &[Document], _opts: &Options, diag: &mut Diagnostics) -> Result<String> {
    let mut out = String::new();
    let (mut next_entity, mut next_relation) = (1u64, 1u64);
    for doc in docs {
        let loc = Location::default().in_doc(&doc.id);
        let mut numbers: HashMap<&str, u64> = HashMap::new();
        let entities: Vec<Value> = doc
            .entities
            .iter()
            .map(|e: &Entity| {
                let n = next_entity;
                next_entity += 1;
                numbers.insert(&e.id, n);
                json!({"id": n, "label": e.label, "start_offset": e.start, "end_offset": e.end})
            })
            .collect();
        let mut relations = Vec::new();
        for r in &doc.relations {
            let (Some(from), Some(to)) =
                (numbers.get(r.head.as_str()), numbers.get(r.tail.as_str()))
            else {
                return Err(Error::input(
                    &loc,
                    format!(
                        "relation '{}' {} -> {} points at an entity that is not in the document",
                        r.label, r.head, r.tail
                    ),
                ));
            };
            relations
                .push(json!({"id": next_relation, "from_id": from, "to_id": to, "type": r.label}));
            next_relation += 1;
        }
        let mut obj = Map::new();
        obj.insert("id".into(), id_value(&doc.id));
        obj.insert("text".into(), json!(doc.text));
        obj.insert("entities".into(), Value::Array(entities));
        obj.insert("relations".into(), Value::Array(relations));
        for (k, v) in &doc.meta {
            // Document categories read from a classification export may go back as they came.
            let categories = matches!(k.as_str(), "label" | "labels")
                && v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            if RESERVED.contains(&k.as_str()) && !categories {
                diag.warn(
                    &loc,
                    format!("meta field \"{k}\" not written: doccano uses that key itself"),
                )?;
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
        out.push_str(&Value::Object(obj).to_string());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<Document>> {
        parse(
            s,
            &Location::file("d.jsonl"),
            &Options::default(),
            &mut Diagnostics::default(),
        )
    }

    fn err(s: &str) -> String {
        parse_str(s).unwrap_err().to_string()
    }

    const RELATION_LINE: &str = r#"{"id": 12, "text": "Putin spoke with Pezeshkian of Iran’s government.", "entities": [{"id": 101, "label": "PER", "start_offset": 0, "end_offset": 5}, {"id": 102, "label": "PER", "start_offset": 17, "end_offset": 27}, {"id": 103, "label": "LOC", "start_offset": 31, "end_offset": 35}], "relations": [{"id": 9, "from_id": 101, "to_id": 102, "type": "phone call"}], "Comments": ["check"]}"#;

    #[test]
    fn sequence_labelling_layout() {
        let input = "{\"id\": 1, \"text\": \"Zürich and Bern\", \"label\": [[0, 6, \"LOC\"], [11, 15, \"LOC\"]], \"source\": \"srf\"}\n\n\
                     {\"text\": \"Moscow\", \"labels\": [[0, 6, \"LOC\"]]}\n\
                     {\"id\": \"a-7\", \"data\": \"Kyiv\", \"label\": []}\n";
        let docs = parse_str(input).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].id, "1");
        assert_eq!(docs[0].entities[0].text, "Zürich");
        assert_eq!(docs[0].entities[1].text, "Bern");
        assert_eq!(docs[0].meta["source"], "srf");
        assert_eq!(docs[1].id, "3", "no id: the line number");
        assert_eq!(docs[1].entities[0].id, "T1");
        assert_eq!(
            (docs[2].id.as_str(), docs[2].text.as_str()),
            ("a-7", "Kyiv")
        );
    }

    #[test]
    fn relation_layout_resolves_ids() {
        let docs = parse_str(RELATION_LINE).unwrap();
        let d = &docs[0];
        assert_eq!(d.id, "12");
        let texts: Vec<_> = d.entities.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["Putin", "Pezeshkian", "Iran"]);
        let r = &d.relations[0];
        assert_eq!((r.head.as_str(), r.tail.as_str()), ("T1", "T2"));
        assert_eq!(r.label, "phone call");
        assert_eq!(d.meta["Comments"], json!(["check"]));
        assert!(d.problems().is_empty());
    }

    #[test]
    fn classification_labels_stay_in_meta() {
        let docs =
            parse_str(r#"{"id": 4, "text": "Markets fell.", "label": ["economy"]}"#).unwrap();
        assert!(docs[0].entities.is_empty());
        assert_eq!(docs[0].meta["label"], json!(["economy"]));
        // Categories go back out as they came, beside an (empty) relation layout.
        let mut diag = Diagnostics::new(true);
        let out = write(&docs, &Options::default(), &mut diag).unwrap();
        assert!(out.contains(r#""label":["economy"]"#), "{out}");
        assert_eq!(parse_str(&out).unwrap(), docs);
    }

    #[test]
    fn round_trip() {
        let docs = parse_str(&format!("{RELATION_LINE}\n{{\"id\": \"x\", \"text\": \"Tehran\", \"label\": [[0, 6, \"LOC\"]]}}")).unwrap();
        let mut diag = Diagnostics::default();
        let out = write(&docs, &Options::default(), &mut diag).unwrap();
        assert!(diag.is_empty());
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"id":12,"text":"Putin spoke with Pezeshkian of Iran’s government.","entities":[{"id":1,"label":"PER","start_offset":0,"end_offset":5},{"id":2,"label":"PER","start_offset":17,"end_offset":27},{"id":3,"label":"LOC","start_offset":31,"end_offset":35}],"relations":[{"id":1,"from_id":1,"to_id":2,"type":"phone call"}],"Comments":["check"]}"#
        );
        assert!(
            lines[1].starts_with(r#"{"id":"x","text":"Tehran","entities":[{"id":4,"#),
            "{}",
            lines[1]
        );
        assert_eq!(parse_str(&out).unwrap(), docs);
    }

    #[test]
    fn write_maps_non_numeric_entity_ids() {
        let mut d = Document::new("n1", "Putin met Netanyahu");
        d.entities.push(Entity {
            id: "putin".into(),
            start: 0,
            end: 5,
            label: "PER".into(),
            text: "Putin".into(),
            score: Some(0.9),
        });
        d.add_entity(10, 19, "PER").unwrap();
        d.relations.push(Relation {
            head: "T2".into(),
            tail: "putin".into(),
            label: "met".into(),
            score: None,
            evidence: None,
        });
        d.meta.insert("text".into(), json!("clash"));
        let mut diag = Diagnostics::default();
        let out = write(&[d.clone()], &Options::default(), &mut diag).unwrap();
        assert!(
            out.contains(r#""relations":[{"id":1,"from_id":2,"to_id":1,"type":"met"}]"#),
            "{out}"
        );
        assert!(diag.warnings[0]
            .message
            .contains("meta field \"text\" not written"));
        let back = &parse_str(&out).unwrap()[0];
        assert_eq!(
            (
                back.relations[0].head.as_str(),
                back.relations[0].tail.as_str()
            ),
            ("T2", "T1")
        );
        assert!(write(&[d], &Options::default(), &mut Diagnostics::new(true)).is_err());
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let msg = err("{\"id\": 1, \"text\": \"a\"}\n{\"id\": 2, \"text\": ");
        assert!(
            msg.starts_with("d.jsonl:line 2: malformed doccano JSON"),
            "{msg}"
        );
        let msg = err("[1, 2]");
        assert!(
            msg.starts_with("d.jsonl:line 1: expected a JSON object"),
            "{msg}"
        );
        let msg = err(r#"{"id": 5, "label": []}"#);
        assert!(
            msg.starts_with("d.jsonl:line 1 document '5': no \"text\" field"),
            "{msg}"
        );
        let msg = err(r#"{"id": {"a": 1}, "text": "x"}"#);
        assert!(msg.contains("\"id\" must be a number or a string"), "{msg}");
    }

    #[test]
    fn bad_spans_are_errors() {
        let msg = err("\n{\"id\": 3, \"text\": \"Iran\", \"label\": [[0, 9, \"LOC\"]]}");
        assert!(msg.starts_with("d.jsonl:line 2 document '3': \"label\" item 0: [0, 9) is outside the text (4 characters)"), "{msg}");
        let msg = err(r#"{"id": 3, "text": "Iran", "label": [[2, 2, "LOC"]]}"#);
        assert!(msg.contains("[2, 2) is empty"), "{msg}");
        let msg = err(r#"{"id": 3, "text": "Iran", "label": [[0, "4", "LOC"]]}"#);
        assert!(
            msg.contains("item 0 should be [start, end, \"LABEL\"]"),
            "{msg}"
        );
        let msg = err(
            r#"{"id": 3, "text": "Iran", "entities": [{"id": 1, "label": "LOC", "start_offset": 0}]}"#,
        );
        assert!(
            msg.contains("entity 0 needs \"start_offset\", \"end_offset\" and \"label\""),
            "{msg}"
        );
    }

    #[test]
    fn bad_relations_are_errors() {
        let line = RELATION_LINE.replace("\"to_id\": 102", "\"to_id\": 999");
        let msg = err(&line);
        assert!(
            msg.starts_with(
                "d.jsonl:line 1 document '12': relation 0 (phone call) points at entity id 999"
            ),
            "{msg}"
        );
        let line = RELATION_LINE.replace("\"id\": 102", "\"id\": 101");
        assert!(err(&line).contains("entity id 101 is used twice"));
        let msg = err(
            r#"{"id": 1, "text": "a", "relations": [{"from_id": 1, "to_id": 2, "type": "x"}]}"#,
        );
        assert!(msg.contains("no \"entities\""), "{msg}");
        let msg = err(
            r#"{"id": 1, "text": "ab", "label": [[0, 1, "X"]], "entities": [{"id": 1, "label": "Y", "start_offset": 1, "end_offset": 2}]}"#,
        );
        assert!(msg.contains("both span labels and \"entities\""), "{msg}");
    }
}
