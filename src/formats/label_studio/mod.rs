//! Label Studio JSON export: a JSON array of tasks, each with its `data` and the `result`s of
//! its annotations (`labels` regions over the text and `relation`s between regions). Offsets
//! are character offsets, as ertag's.
//!
//! Reading decides a few things Label Studio leaves open:
//! * **Which annotation.** The first annotation not marked `was_cancelled`; if there are
//!   several, the rest are dropped with a warning. A task without one falls back to its first
//!   prediction (pre-annotation), whose `score`s become entity scores, and
//!   `meta.label_studio.used_prediction` says so (with the prediction's `model_version`).
//! * **Which text.** `data.text`; failing that, the first string field of `data`, with a
//!   warning when there were several to choose from. Its key is kept as
//!   `meta.label_studio_text_key` so that [`write`] puts the text back under it.
//! * **Direction.** `"right"` (or none) is from -> to; `"left"` swaps head and tail; `"bi"`
//!   has no ertag equivalent and is kept as from -> to with a warning.
//! * **Labels.** A region with several labels keeps the first (warning; relations point at
//!   one entity); a relation with several becomes one relation per label; a region or
//!   relation with no label is dropped with a warning, as are relations to a dropped region.
//!
//! The task's other `data` fields go to `meta`; its export bookkeeping (`created_at`,
//! `project`, ...) goes to `meta.label_studio`. Results of other types (`choices`,
//! `textarea`, ...) are counted in one warning per task.
//!
//! [`write`] produces an importable export: one task per document, `data` holding the text and
//! the document's `meta`, one annotation whose result uses `from_name: "label"`,
//! `to_name: "text"` and the entity ids as region ids. Entity scores are written as result
//! `score`s; relation scores, evidence, tokens and sentences have no place and are not written,
//! nor is `meta.label_studio` (Label Studio assigns that on import).

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use crate::document::{Document, Entity, Relation};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::Options;
use crate::offsets::CharIndex;

/// Where export bookkeeping and reading decisions are kept in `meta`.
const BOOKKEEPING: &str = "label_studio";
/// `meta` key naming the `data` field that held the text, when it was not `text`.
const TEXT_KEY: &str = "label_studio_text_key";

pub fn parse(
    content: &str,
    loc: &Location,
    _opts: &Options,
    diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let top: Value = serde_json::from_str(content).map_err(|e| {
        Error::input(
            &loc.at_line(e.line()),
            format!("malformed Label Studio JSON: {e}"),
        )
    })?;
    let tasks = match top {
        Value::Array(tasks) => tasks,
        // A single task, as the API returns it.
        Value::Object(o) if o.contains_key("data") => vec![Value::Object(o)],
        _ => {
            return Err(Error::input(
                loc,
                "expected a JSON array of tasks (Label Studio JSON export)",
            ))
        }
    };
    tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| task(t, i + 1, loc, diag))
        .collect()
}

fn task(value: Value, n: usize, loc: &Location, diag: &mut Diagnostics) -> Result<Document> {
    let Value::Object(mut obj) = value else {
        return Err(Error::input(
            &loc.in_doc(n.to_string()),
            format!("task {n}: expected an object, not {value}"),
        ));
    };
    let id = match obj.remove("id") {
        None | Some(Value::Null) => n.to_string(),
        Some(Value::Number(x)) => x.to_string(),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(Error::input(
                &loc.in_doc(n.to_string()),
                format!("task {n}: \"id\" must be a number or a string, not {other}"),
            ))
        }
    };
    let loc = loc.in_doc(&id);
    let fail = |reason: String| Error::input(&loc, format!("task {n}: {reason}"));

    let mut data = match obj.remove("data") {
        Some(Value::Object(d)) => d,
        Some(other) => return Err(fail(format!("\"data\" must be an object, not {other}"))),
        None => return Err(fail("no \"data\" object".into())),
    };
    let mut meta = Map::new();
    let key = match data.get("text") {
        Some(Value::String(_)) => "text".to_string(),
        Some(other) => return Err(fail(format!("data.text must be a string, not {other}"))),
        None => {
            let strings: Vec<&String> = data
                .iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, _)| k)
                .collect();
            let Some(first) = strings.first().map(|k| k.to_string()) else {
                return Err(fail("\"data\" has no text (no string field)".into()));
            };
            if strings.len() > 1 {
                diag.warn(
                    &loc,
                    format!("data has no \"text\"; used \"{first}\" of {strings:?} as the text"),
                )?;
            }
            meta.insert(TEXT_KEY.into(), json!(first));
            first
        }
    };
    let Some(Value::String(text)) = data.remove(&key) else {
        unreachable!("the text key was chosen among string fields")
    };
    let mut doc = Document::new(id, text);
    meta.extend(data);

    let annotations = list(obj.remove("annotations"), "annotations", &fail)?;
    let predictions = list(obj.remove("predictions"), "predictions", &fail)?;
    let mut bookkeeping = obj;
    let kept: Vec<&Value> = annotations
        .iter()
        .filter(|a| a.get("was_cancelled") != Some(&Value::Bool(true)))
        .collect();
    let (chosen, default_score) = if let Some(first) = kept.first() {
        if kept.len() > 1 {
            diag.warn(
                &loc,
                format!(
                    "task has {} annotations; only the first (id {}) was used",
                    kept.len(),
                    first.get("id").unwrap_or(&Value::Null)
                ),
            )?;
        }
        (Some(*first), None)
    } else if let Some(first) = predictions.first() {
        if predictions.len() > 1 {
            diag.warn(
                &loc,
                format!(
                    "task has no annotation and {} predictions; only the first was used",
                    predictions.len()
                ),
            )?;
        }
        let version = first.get("model_version").cloned();
        bookkeeping.insert(
            "used_prediction".into(),
            version.filter(|v| !v.is_null()).unwrap_or(json!(true)),
        );
        (Some(first), first.get("score").and_then(Value::as_f64))
    } else {
        (None, None)
    };
    if let Some(chosen) = chosen {
        let results = list(chosen.get("result").cloned(), "result", &fail)?;
        read_results(&mut doc, &results, default_score, &loc, &fail, diag)?;
    }
    if !bookkeeping.is_empty() {
        meta.insert(BOOKKEEPING.into(), Value::Object(bookkeeping));
    }
    doc.meta = meta;
    Ok(doc)
}

/// A JSON list field (absent or null: empty).
fn list(v: Option<Value>, what: &str, fail: &dyn Fn(String) -> Error) -> Result<Vec<Value>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(fail(format!("\"{what}\" must be a list, not {other}"))),
    }
}

/// The string labels of a result (`value.labels` for regions, `labels` for relations).
fn labels(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn read_results(
    doc: &mut Document,
    results: &[Value],
    default_score: Option<f64>,
    loc: &Location,
    fail: &dyn Fn(String) -> Error,
    diag: &mut Diagnostics,
) -> Result<()> {
    let index = CharIndex::new(&doc.text);
    let len = index.char_len();
    let mut dropped: HashSet<String> = HashSet::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "relation" {
            continue;
        }
        if kind != "labels" {
            let name = if kind.is_empty() { "(no type)" } else { kind };
            *ignored.entry(name.to_string()).or_insert(0) += 1;
            continue;
        }
        let id = match r.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(x)) => x.to_string(),
            _ => doc.next_entity_id(),
        };
        let value = r.get("value").unwrap_or(&Value::Null);
        let offset = |k: &str| value.get(k).and_then(Value::as_u64).map(|x| x as usize);
        let (Some(start), Some(end)) = (offset("start"), offset("end")) else {
            return Err(fail(format!(
                "result {i} (region '{id}') needs numeric value.start and value.end: {value}"
            )));
        };
        if start >= end || end > len {
            return Err(fail(format!(
                "region '{id}' [{start}, {end}) is outside the text ({len} characters) or empty"
            )));
        }
        let covered = index.slice(start, end).unwrap_or_default();
        if let Some(t) = value.get("text").and_then(Value::as_str) {
            if t != covered {
                return Err(fail(format!(
                    "region '{id}' has text {t:?} but its offsets [{start}, {end}) cover {covered:?}"
                )));
            }
        }
        let names = labels(value.get("labels"));
        let Some(label) = names.first() else {
            diag.warn(
                loc,
                format!("region '{id}' {covered:?} has no label; dropped"),
            )?;
            dropped.insert(id);
            continue;
        };
        if names.len() > 1 {
            diag.warn(
                loc,
                format!("region '{id}' has labels {names:?}; kept only \"{label}\""),
            )?;
        }
        if doc.entity(&id).is_some() {
            return Err(fail(format!("region id '{id}' is used twice")));
        }
        let score = r.get("score").and_then(Value::as_f64).or(default_score);
        doc.entities.push(Entity {
            id,
            start,
            end,
            label: label.clone(),
            text: covered.to_string(),
            score: score.map(|s| s as f32),
        });
    }
    for (i, r) in results.iter().enumerate() {
        if r.get("type").and_then(Value::as_str) != Some("relation") {
            continue;
        }
        let end = |k: &str| match r.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(x)) => Some(x.to_string()),
            _ => None,
        };
        let (Some(from), Some(to)) = (end("from_id"), end("to_id")) else {
            return Err(fail(format!(
                "result {i} (relation) needs from_id and to_id: {r}"
            )));
        };
        let names = labels(r.get("labels"));
        if names.is_empty() {
            diag.warn(
                loc,
                format!("relation {from} -> {to} has no label; dropped"),
            )?;
            continue;
        }
        let mut missing = None;
        for id in [&from, &to] {
            if dropped.contains(id) {
                missing = Some(id);
            } else if doc.entity(id).is_none() {
                return Err(fail(format!(
                    "relation {names:?} points at region '{id}', which is not a labels region of this annotation"
                )));
            }
        }
        if let Some(id) = missing {
            diag.warn(
                loc,
                format!("relation {names:?} {from} -> {to} dropped with region '{id}'"),
            )?;
            continue;
        }
        let (head, tail) = match r.get("direction").and_then(Value::as_str) {
            None | Some("right") => (from, to),
            Some("left") => (to, from),
            Some("bi") => {
                diag.warn(
                    loc,
                    format!("relation {names:?} {from} <-> {to} is bidirectional; kept as {from} -> {to}"),
                )?;
                (from, to)
            }
            Some(other) => {
                return Err(fail(format!(
                    "relation {from} -> {to} has direction {other:?} (expected right, left or bi)"
                )))
            }
        };
        for label in names {
            doc.relations.push(Relation {
                head: head.clone(),
                tail: tail.clone(),
                label,
                score: None,
                evidence: None,
            });
        }
    }
    if !ignored.is_empty() {
        let what: Vec<String> = ignored.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        diag.warn(
            loc,
            format!(
                "ignored {} results ertag cannot hold ({})",
                ignored.values().sum::<usize>(),
                what.join(", ")
            ),
        )?;
    }
    Ok(())
}

/// A task id as Label Studio has them: a number when it is one, else the string.
fn id_value(id: &str) -> Value {
    match id.parse::<u64>() {
        Ok(n) if n.to_string() == id => json!(n),
        _ => json!(id),
    }
}

pub fn write(docs: &[Document], _opts: &Options, diag: &mut Diagnostics) -> Result<String> {
    let mut tasks = Vec::with_capacity(docs.len());
    for doc in docs {
        let loc = Location::default().in_doc(&doc.id);
        let key = doc
            .meta
            .get(TEXT_KEY)
            .and_then(Value::as_str)
            .unwrap_or("text");
        let mut data = Map::new();
        data.insert(key.to_string(), json!(doc.text));
        for (k, v) in &doc.meta {
            if k == TEXT_KEY || k == BOOKKEEPING {
                continue;
            }
            if k == key {
                diag.warn(
                    &loc,
                    format!("meta field \"{k}\" not written: the text is stored under that key"),
                )?;
                continue;
            }
            data.insert(k.clone(), v.clone());
        }
        let mut result = Vec::new();
        for e in &doc.entities {
            let mut item = json!({
                "id": e.id, "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": e.start, "end": e.end, "text": e.text, "labels": [e.label]},
            });
            if let Some(s) = e.score {
                item["score"] = json!(s);
            }
            result.push(item);
        }
        // One relation per (head, tail) pair, carrying all its labels, as Label Studio draws it.
        let mut pairs: Vec<((&str, &str), Vec<&str>)> = Vec::new();
        for r in &doc.relations {
            if doc.entity(&r.head).is_none() || doc.entity(&r.tail).is_none() {
                return Err(Error::input(
                    &loc,
                    format!(
                        "relation '{}' {} -> {} points at an entity that is not in the document",
                        r.label, r.head, r.tail
                    ),
                ));
            }
            let pair = (r.head.as_str(), r.tail.as_str());
            match pairs.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, labels)) => labels.push(&r.label),
                None => pairs.push((pair, vec![&r.label])),
            }
        }
        for ((head, tail), labels) in pairs {
            result.push(json!({
                "from_id": head, "to_id": tail, "type": "relation", "direction": "right",
                "labels": labels,
            }));
        }
        tasks.push(json!({
            "id": id_value(&doc.id),
            "data": data,
            "annotations": [{"result": result}],
        }));
    }
    let mut out = serde_json::to_string_pretty(&Value::Array(tasks)).expect("JSON serialises");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests;
