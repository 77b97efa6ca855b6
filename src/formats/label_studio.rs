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
mod tests {
    use super::*;

    fn parse_with(s: &str, diag: &mut Diagnostics) -> Result<Vec<Document>> {
        parse(s, &Location::file("ls.json"), &Options::default(), diag)
    }

    fn parse_str(s: &str) -> Result<Vec<Document>> {
        parse_with(s, &mut Diagnostics::default())
    }

    fn err(s: &str) -> String {
        parse_str(s).unwrap_err().to_string()
    }

    /// One task whose annotation result is `result` (a JSON list, as text).
    fn with_result(result: &str) -> String {
        format!(
            r#"[{{"id": 7, "data": {{"text": "Putin called Pezeshkian of Iran’s government."}},
              "annotations": [{{"id": 1, "result": {result}}}]}}]"#
        )
    }

    fn region(id: &str, start: usize, end: usize, text: &str, label: &str) -> String {
        format!(
            r#"{{"id": "{id}", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {{"start": {start}, "end": {end}, "text": "{text}", "labels": ["{label}"]}}}}"#
        )
    }

    fn good() -> String {
        let p = region("abc", 0, 5, "Putin", "PER");
        let z = region("def", 13, 23, "Pezeshkian", "PER");
        let i = region("ghi", 27, 31, "Iran", "LOC");
        format!(
            r#"[{{"id": 7, "created_at": "2024-07-01", "project": 3,
                 "data": {{"text": "Putin called Pezeshkian of Iran’s government.", "source": "tass"}},
                 "annotations": [
                   {{"id": 40, "was_cancelled": true, "result": []}},
                   {{"id": 41, "result": [{p}, {z}, {i},
                     {{"type": "relation", "from_id": "abc", "to_id": "def", "direction": "right", "labels": ["phone call"]}},
                     {{"type": "relation", "from_id": "ghi", "to_id": "def", "direction": "left", "labels": ["citizen of", "leads"]}}]}}]}},
               {{"data": {{"text": "Tehran"}}, "predictions": [{{"model_version": "v2", "score": 0.8,
                 "result": [{{"id": "r1", "type": "labels", "value": {{"start": 0, "end": 6, "labels": ["LOC"]}}}}]}}]}}]"#
        )
    }

    #[track_caller]
    fn has(msg: &str, part: &str) {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }

    fn pairs(d: &Document) -> Vec<(&str, &str, &str)> {
        let r = d.relations.iter();
        r.map(|r| (r.head.as_str(), r.tail.as_str(), r.label.as_str()))
            .collect()
    }

    #[test]
    fn reads_regions_relations_and_predictions() {
        let mut diag = Diagnostics::default();
        let docs = parse_with(&good(), &mut diag).unwrap();
        assert!(diag.is_empty(), "{:?}", diag.warnings);
        let d = &docs[0];
        assert_eq!(d.id, "7");
        let ids: Vec<_> = d.entities.iter().map(|e| (&*e.id, &*e.text)).collect();
        assert_eq!(
            ids,
            [("abc", "Putin"), ("def", "Pezeshkian"), ("ghi", "Iran")]
        );
        // "left" swaps; two labels make two relations.
        let (call, cit, lead) = (
            ("abc", "def", "phone call"),
            ("def", "ghi", "citizen of"),
            ("def", "ghi", "leads"),
        );
        assert_eq!(pairs(d), [call, cit, lead]);
        assert_eq!(d.meta["source"], "tass");
        let bookkeeping = json!({"created_at": "2024-07-01", "project": 3});
        assert_eq!(d.meta["label_studio"], bookkeeping);
        assert!(d.problems().is_empty());
        let t = &docs[1];
        assert_eq!((&*t.id, &*t.entities[0].text), ("2", "Tehran"));
        assert_eq!(t.entities[0].score, Some(0.8));
        assert_eq!(t.meta["label_studio"]["used_prediction"], "v2");
    }

    #[test]
    fn round_trip() {
        let docs = parse_str(&good()).unwrap();
        let mut diag = Diagnostics::default();
        let out = write(&docs, &Options::default(), &mut diag).unwrap();
        assert!(diag.is_empty());
        let tasks: Value = serde_json::from_str(&out).unwrap();
        let result = &tasks[0]["annotations"][0]["result"];
        assert_eq!(
            (&result[0]["from_name"], &result[0]["to_name"]),
            (&json!("label"), &json!("text"))
        );
        assert_eq!(result[4]["labels"], json!(["citizen of", "leads"]));
        let data = json!({"text": docs[0].text, "source": "tass"});
        assert_eq!(tasks[0]["data"], data);
        // Bookkeeping is Label Studio's own and is not written back.
        let strip = |mut docs: Vec<Document>| {
            docs.iter_mut()
                .for_each(|d| drop(d.meta.remove("label_studio")));
            docs
        };
        assert_eq!(strip(parse_str(&out).unwrap()), strip(docs));
    }

    #[test]
    fn text_under_another_key_goes_back_there() {
        let input = r#"[{"id": 1, "data": {"story": "Kyiv", "lang": "en"},
            "annotations": [{"result": [{"id": "k", "type": "labels", "value": {"start": 0, "end": 4, "labels": ["LOC"]}}]}]}]"#;
        let mut diag = Diagnostics::default();
        let docs = parse_with(input, &mut diag).unwrap();
        assert_eq!(docs[0].text, "Kyiv");
        assert_eq!(docs[0].meta[TEXT_KEY], "story");
        has(
            &diag.warnings[0].message,
            "used \"story\" of [\"story\", \"lang\"]",
        );
        let out = write(&docs, &Options::default(), &mut Diagnostics::default()).unwrap();
        let tasks: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(tasks[0]["data"], json!({"story": "Kyiv", "lang": "en"}));
        assert!(parse_with(input, &mut Diagnostics::new(true)).is_err());
    }

    #[test]
    fn what_cannot_be_held_is_warned_about() {
        let p = region("abc", 0, 5, "Putin", "PER");
        let result = format!(
            r#"[{p},
              {{"id": "nol", "type": "labels", "value": {{"start": 13, "end": 23, "labels": []}}}},
              {{"id": "two", "type": "labels", "value": {{"start": 27, "end": 31, "labels": ["LOC", "GPE"]}}}},
              {{"type": "relation", "from_id": "abc", "to_id": "two", "direction": "bi", "labels": ["met"]}},
              {{"type": "relation", "from_id": "abc", "to_id": "two"}},
              {{"type": "relation", "from_id": "abc", "to_id": "nol", "labels": ["called"]}},
              {{"id": "c", "type": "choices", "value": {{"choices": ["politics"]}}}}]"#
        );
        let input = format!(
            r#"[{{"id": 7, "data": {{"text": "Putin called Pezeshkian of Iran’s government."}},
                 "annotations": [{{"id": 1, "was_cancelled": false, "result": {result}}},
                                 {{"id": 2, "result": []}}]}}]"#
        );
        let mut diag = Diagnostics::default();
        let docs = parse_with(&input, &mut diag).unwrap();
        let d = &docs[0];
        assert_eq!((d.entities.len(), &*d.entities[1].label), (2, "LOC"));
        assert_eq!(pairs(d), [("abc", "two", "met")]);
        let msgs: Vec<_> = diag.warnings.iter().map(|w| w.to_string()).collect();
        let expect = [
            "task has 2 annotations; only the first (id 1) was used",
            "region 'nol' \"Pezeshkian\" has no label; dropped",
            "region 'two' has labels [\"LOC\", \"GPE\"]; kept only \"LOC\"",
            "relation [\"met\"] abc <-> two is bidirectional; kept as abc -> two",
            "relation abc -> two has no label; dropped",
            "relation [\"called\"] abc -> nol dropped with region 'nol'",
            "ignored 1 results ertag cannot hold (choices x1)",
        ];
        assert_eq!(msgs.len(), expect.len(), "{msgs:?}");
        for (m, e) in msgs.iter().zip(expect) {
            assert_eq!(*m, format!("ls.json document '7': {e}"));
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        let msg = err("[\n{\"data\": {\"text\": \"a\"}},\n{\"data\": }\n]");
        has(&msg, "ls.json:line 3: malformed Label Studio JSON");
        has(&err("\"x\""), "expected a JSON array of tasks");
        let msg = err(r#"[{"id": 3, "text": "no data"}]"#);
        has(&msg, "ls.json document '3': task 1: no \"data\" object");
        has(
            &err(r#"[{"id": 3, "data": {"n": 1}}]"#),
            "\"data\" has no text",
        );
        let msg = err(r#"[{"id": 3, "data": {"text": "a"}, "annotations": {}}]"#);
        has(&msg, "task 1: \"annotations\" must be a list");
    }

    #[test]
    fn bad_regions_are_errors() {
        let one = |r: String| err(&with_result(&format!("[{r}]")));
        let msg = one(region("a", 40, 60, "x", "PER"));
        has(
            &msg,
            "ls.json document '7': task 1: region 'a' [40, 60) is outside the text",
        );
        let msg = one(region("a", 0, 5, "Putim", "PER"));
        has(
            &msg,
            "region 'a' has text \"Putim\" but its offsets [0, 5) cover \"Putin\"",
        );
        let twice = format!(
            "{}, {}",
            region("a", 0, 5, "Putin", "PER"),
            region("a", 27, 31, "Iran", "LOC")
        );
        has(&one(twice), "region id 'a' is used twice");
        let msg = one(r#"{"id": "a", "type": "labels", "value": {"start": "0", "end": 5}}"#.into());
        has(
            &msg,
            "result 0 (region 'a') needs numeric value.start and value.end",
        );
    }

    #[test]
    fn bad_relations_are_errors() {
        let p = region("abc", 0, 5, "Putin", "PER");
        let with = |r: &str| {
            err(&with_result(&format!(
                r#"[{p}, {{"type": "relation", {r}}}]"#
            )))
        };
        let msg = with(r#""from_id": "abc", "to_id": "zzz", "labels": ["x"]"#);
        has(
            &msg,
            "ls.json document '7': task 1: relation [\"x\"] points at region 'zzz'",
        );
        let msg = with(r#""from_id": "abc", "to_id": "abc", "direction": "up", "labels": ["x"]"#);
        has(&msg, "relation abc -> abc has direction \"up\"");
        has(
            &with(r#""from_id": "abc", "labels": ["x"]"#),
            "result 1 (relation) needs from_id and to_id",
        );
    }

    #[test]
    fn write_refuses_dangling_relations() {
        let mut d = Document::new("x-1", "Putin");
        d.add_entity(0, 5, "PER").unwrap();
        let (head, tail, label) = ("T1".into(), "T9".into(), "met".into());
        let (score, evidence) = (None, None);
        d.relations.push(Relation {
            head,
            tail,
            label,
            score,
            evidence,
        });
        let msg = write(&[d], &Options::default(), &mut Diagnostics::default());
        has(
            &msg.unwrap_err().to_string(),
            "document 'x-1': relation 'met' T1 -> T9",
        );
    }
}
