//! brat standoff: each document is a `X.txt` holding the text as stored and a `X.ann` beside
//! it with one annotation per line, fields separated by tabs (shown here as `|`):
//!
//! ```text
//! T1|PER 0 5|Putin
//! R1|phone_call Arg1:T1 Arg2:T2
//! A1|Negated T1
//! #1|AnnotatorNotes T1|checked against the wire copy
//! ```
//!
//! Offsets are character offsets into the `.txt` exactly as stored, so a `\r` of a CRLF file
//! counts as a character and the text is never normalised. A document's id is its path
//! relative to the directory, without the extension. A `.txt` without `.ann` is a valid
//! unannotated document; an `.ann` without `.txt` is an error.
//!
//! ertag has no discontinuous entities, events, equivalences or normalisations: a
//! discontinuous `T` becomes one span from its first to its last character (with a warning),
//! and `E`, `*` and `N` lines are counted in one warning per document. Attributes (`A`/`M`)
//! and notes (`#`) are cheap to keep, so they go to `meta.brat_attributes` and
//! `meta.brat_notes`, and [`write_dir`] writes back those that target an entity.
//!
//! Writing drops what brat cannot hold: scores, token and sentence spans, relation evidence
//! and other `meta` fields. Labels cannot contain spaces there (they would be read back as
//! offsets), so spaces become `_` with a warning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::document::{Document, Entity, Relation};
use crate::error::{read_to_string, Diagnostics, Error, Location, Result};
use crate::formats::{safe_file_stem, walk_files};
use crate::offsets::CharIndex;

const ATTRIBUTES: &str = "brat_attributes";
const NOTES: &str = "brat_notes";

/// Read a directory of `.txt` + `.ann` pairs (recursively), or one document given by its
/// `.txt` or `.ann` path.
pub fn read_dir(path: &Path, diag: &mut Diagnostics) -> Result<Vec<Document>> {
    if !path.is_dir() {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "txt" | "ann") {
            return Err(Error::Usage(format!(
                "{}: brat input is a directory, or one document's .txt or .ann file",
                path.display()
            )));
        }
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let txt = path.with_extension("txt");
        if ext == "ann" && !txt.exists() {
            return Err(missing_txt(path, &txt));
        }
        return Ok(vec![read_pair(id, &txt, diag)?]);
    }
    let files = walk_files(path)?;
    let txts: HashSet<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    let mut docs = Vec::new();
    for file in &files {
        match file.extension().and_then(|e| e.to_str()) {
            Some("ann") => {
                let txt = file.with_extension("txt");
                if !txts.contains(&txt) {
                    return Err(missing_txt(file, &txt));
                }
            }
            Some("txt") => {
                let rel = file.strip_prefix(path).unwrap_or(file).with_extension("");
                let id = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                docs.push(read_pair(id, file, diag)?);
            }
            // annotation.conf, visual.conf, README and the like.
            _ => {}
        }
    }
    if docs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no .txt files in this directory",
            path.display()
        )));
    }
    Ok(docs)
}

fn missing_txt(ann: &Path, txt: &Path) -> Error {
    Error::input(
        &Location::file(ann),
        format!(
            "annotations without their text: {} does not exist",
            txt.display()
        ),
    )
}

fn read_pair(id: String, txt: &Path, diag: &mut Diagnostics) -> Result<Document> {
    let mut doc = Document::new(id, read_to_string(txt)?);
    let ann = txt.with_extension("ann");
    if ann.exists() {
        let content = read_to_string(&ann)?;
        parse_ann(&mut doc, &content, &Location::file(&ann), diag)?;
    }
    Ok(doc)
}

/// brat's text column cannot hold line breaks; writers put spaces there instead.
fn flatten(s: &str) -> String {
    s.replace(['\r', '\n', '\t'], " ")
}

/// Fill `doc` from the lines of its `.ann` file.
pub fn parse_ann(
    doc: &mut Document,
    content: &str,
    loc: &Location,
    diag: &mut Diagnostics,
) -> Result<()> {
    // A byte-order mark is not an annotation (the .txt keeps its own: brat counts it).
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let index = CharIndex::new(&doc.text);
    let len = index.char_len();
    let mut ids: HashSet<String> = HashSet::new();
    // Event ids: relations to them are dropped along with the events.
    let mut events: HashSet<String> = HashSet::new();
    let mut ignored: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pending = Vec::new();
    let (mut attributes, mut notes) = (Vec::new(), Vec::new());
    for (i, raw) in content.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let l = loc.at_line(i + 1);
        let fail = |reason: String| Error::input(&l, reason);
        let fields: Vec<&str> = line.splitn(3, '\t').collect();
        let id = fields[0];
        let body = fields.get(1).copied().unwrap_or("");
        let words: Vec<&str> = body.split_whitespace().collect();
        let kind = id.chars().next().unwrap_or(' ');
        if kind != '*' && !ids.insert(id.to_string()) {
            return Err(fail(format!("annotation id '{id}' is used twice")));
        }
        match kind {
            'T' => {
                let Some((label, offsets)) = body.split_once(' ').filter(|(l, _)| !l.is_empty())
                else {
                    return Err(fail(format!(
                        "malformed text-bound annotation {line:?} (expected ID<tab>LABEL START END<tab>TEXT)"
                    )));
                };
                let mut fragments = Vec::new();
                for frag in offsets.split(';') {
                    let nums: Vec<usize> = frag
                        .split_whitespace()
                        .map(str::parse)
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|_| fail(format!("{id}: offsets {frag:?} are not two numbers")))?;
                    let &[start, end] = nums.as_slice() else {
                        return Err(fail(format!("{id}: offsets {frag:?} are not two numbers")));
                    };
                    if start > end || end > len {
                        return Err(fail(format!(
                            "{id}: offsets [{start}, {end}) are outside the text ({len} characters)"
                        )));
                    }
                    fragments.push((start, end));
                }
                let start = fragments.iter().map(|f| f.0).min().unwrap_or(0);
                let end = fragments.iter().map(|f| f.1).max().unwrap_or(0);
                if start >= end {
                    return Err(fail(format!("{id}: the span [{start}, {end}) is empty")));
                }
                let pieces: Vec<&str> = fragments
                    .iter()
                    .map(|&(s, e)| index.slice(s, e).unwrap_or_default())
                    .collect();
                let covered = pieces.join(" ");
                if let Some(given) = fields.get(2) {
                    if flatten(given) != flatten(&covered) {
                        return Err(fail(format!(
                            "{id} has text {given:?} but the .txt has {covered:?} at {offsets}"
                        )));
                    }
                }
                if fragments.len() > 1 {
                    diag.warn(
                        &l,
                        format!(
                            "{id} is discontinuous ({offsets}); kept as one span [{start}, {end})"
                        ),
                    )?;
                }
                doc.entities.push(Entity {
                    id: id.to_string(),
                    start,
                    end,
                    label: label.to_string(),
                    text: index.slice(start, end).unwrap_or_default().to_string(),
                    score: None,
                });
            }
            'R' => {
                let mut args: Vec<(&str, &str)> = words
                    .iter()
                    .skip(1)
                    .filter_map(|a| a.split_once(':'))
                    .collect();
                if words.len() != 3 || args.len() != 2 {
                    return Err(fail(format!(
                        "malformed relation {line:?} (expected ID<tab>LABEL Arg1:T1 Arg2:T2)"
                    )));
                }
                // Arg1 is the head wherever it is written; other role names go by position.
                if args[0].0 == "Arg2" && args[1].0 == "Arg1" {
                    args.swap(0, 1);
                }
                let (head, tail) = (args[0].1, args[1].1);
                pending.push((l.clone(), id, words[0], head, tail));
            }
            'E' => {
                events.insert(id.to_string());
                *ignored.entry("events (E)").or_insert(0) += 1;
            }
            '*' => *ignored.entry("equivalences (*)").or_insert(0) += 1,
            'N' => *ignored.entry("normalizations (N)").or_insert(0) += 1,
            'A' | 'M' if (2..=3).contains(&words.len()) => {
                let mut a = json!({"id": id, "name": words[0], "target": words[1]});
                if let Some(v) = words.get(2) {
                    a["value"] = json!(v);
                }
                attributes.push(a);
            }
            '#' if words.len() == 2 => notes.push(json!({
                "id": id, "type": words[0], "target": words[1],
                "text": fields.get(2).copied().unwrap_or(""),
            })),
            'A' | 'M' | '#' => return Err(fail(format!("malformed attribute or note {line:?}"))),
            _ => {
                return Err(fail(format!(
                    "malformed line {line:?}: an annotation id starts with T, R, E, A, M, N, * or #"
                )))
            }
        }
    }
    for (l, id, label, head, tail) in pending {
        if events.contains(head) || events.contains(tail) {
            *ignored.entry("relations to events").or_insert(0) += 1;
            continue;
        }
        for target in [head, tail] {
            if doc.entity(target).is_none() {
                return Err(Error::input(
                    &l,
                    format!("{id} ({label}) points at '{target}', which is not a T annotation"),
                ));
            }
        }
        doc.relations.push(Relation {
            head: head.to_string(),
            tail: tail.to_string(),
            label: label.to_string(),
            score: None,
            evidence: None,
        });
    }
    if !attributes.is_empty() {
        doc.meta.insert(ATTRIBUTES.into(), Value::Array(attributes));
    }
    if !notes.is_empty() {
        doc.meta.insert(NOTES.into(), Value::Array(notes));
    }
    if !ignored.is_empty() {
        let what: Vec<String> = ignored.iter().map(|(k, n)| format!("{n} {k}")).collect();
        diag.warn(
            &loc.in_doc(&doc.id),
            format!(
                "ignored {}: ertag holds only entities, relations, attributes and notes",
                what.join(", ")
            ),
        )?;
    }
    Ok(())
}

/// Write one `<id>.txt` and `<id>.ann` per document. Entity ids that are not `T<digits>` are
/// renumbered (relations, attributes and notes follow); relations are numbered `R1`, `R2`, ...
pub fn write_dir(docs: &[Document], dir: &Path, diag: &mut Diagnostics) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut stems: HashMap<String, &str> = HashMap::new();
    let mut relabelled: HashSet<String> = HashSet::new();
    for doc in docs {
        let loc = Location::default().in_doc(&doc.id);
        if let Some(problem) = doc.problems().into_iter().next() {
            return Err(Error::input(&loc, problem));
        }
        let base = safe_file_stem(&doc.id);
        let mut stem = base.clone();
        let mut k = 1;
        while stems.contains_key(&stem) {
            k += 1;
            stem = format!("{base}_{k}");
        }
        if k > 1 {
            diag.warn(
                &loc,
                format!(
                    "file name '{base}' is taken by document '{}'; written as '{stem}'",
                    stems[&base]
                ),
            )?;
        }
        stems.insert(stem.clone(), &doc.id);
        let ann = ann_text(doc, &loc, &mut relabelled, diag)?;
        for (ext, content) in [("txt", doc.text.as_str()), ("ann", ann.as_str())] {
            let path = dir.join(format!("{stem}.{ext}"));
            std::fs::write(&path, content).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// brat ids are a type letter and a number.
fn is_brat_id(id: &str, letter: char) -> bool {
    id.strip_prefix(letter)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A label brat can read back: no spaces (warned once per label and run).
fn brat_label(
    label: &str,
    loc: &Location,
    warned: &mut HashSet<String>,
    diag: &mut Diagnostics,
) -> Result<String> {
    if label.is_empty() {
        return Err(Error::input(
            loc,
            "an empty label cannot be written to brat",
        ));
    }
    if !label.contains(char::is_whitespace) {
        return Ok(label.to_string());
    }
    let fixed: String = label
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    if warned.insert(label.to_string()) {
        diag.warn(
            loc,
            format!("label {label:?} written as {fixed:?} (brat labels cannot contain spaces)"),
        )?;
    }
    Ok(fixed)
}

fn ann_text(
    doc: &Document,
    loc: &Location,
    warned: &mut HashSet<String>,
    diag: &mut Diagnostics,
) -> Result<String> {
    let taken: HashSet<&str> = doc
        .entities
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| is_brat_id(id, 'T'))
        .collect();
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut n = 0;
    for e in &doc.entities {
        let id = if is_brat_id(&e.id, 'T') {
            e.id.clone()
        } else {
            loop {
                n += 1;
                let candidate = format!("T{n}");
                if !taken.contains(candidate.as_str()) && !ids.values().any(|v| *v == candidate) {
                    break candidate;
                }
            }
        };
        ids.insert(&e.id, id);
    }
    let mut out = String::new();
    for e in &doc.entities {
        let label = brat_label(&e.label, loc, warned, diag)?;
        let text = flatten(&e.text);
        out.push_str(&format!(
            "{}\t{label} {} {}\t{text}\n",
            ids[e.id.as_str()],
            e.start,
            e.end
        ));
    }
    for (i, r) in doc.relations.iter().enumerate() {
        let label = brat_label(&r.label, loc, warned, diag)?;
        let (head, tail) = (&ids[r.head.as_str()], &ids[r.tail.as_str()]);
        out.push_str(&format!("R{}\t{label} Arg1:{head} Arg2:{tail}\n", i + 1));
    }
    for (key, letter) in [(ATTRIBUTES, 'A'), (NOTES, '#')] {
        let Some(items) = doc.meta.get(key) else {
            continue;
        };
        let mut written = 0;
        for item in items.as_array().map(Vec::as_slice).unwrap_or_default() {
            let field = |k: &str| item.get(k).and_then(Value::as_str);
            let target = field("target").and_then(|t| ids.get(t));
            let name = field(if letter == 'A' { "name" } else { "type" });
            let (Some(target), Some(name)) = (target, name) else {
                diag.warn(loc, format!("{key} entry {item} not written: it does not name an entity of the document"))?;
                continue;
            };
            written += 1;
            out.push_str(&format!("{letter}{written}\t{name} {target}"));
            if letter == 'A' {
                if let Some(v) = field("value") {
                    out.push_str(&format!(" {v}"));
                }
            } else {
                out.push_str(&format!("\t{}", flatten(field("text").unwrap_or(""))));
            }
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
