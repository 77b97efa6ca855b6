//! Stand-off annotations (read only): entity offsets and relations without the text, joined
//! with the source documents when read. This is how the relation corpus of issue 7
//! (`eval/corpus/*.jsonl`, `eval/gold/*.jsonl`) annotates data sets that the repository may not
//! copy. One JSON object per line:
//!
//! ```json
//! {"id": "train-3",
//!  "source": {"base": "shared", "path": "data/conll2003/iob2/train.txt", "format": "conll", "doc": "train-3"},
//!  "text_sha256": "<hex SHA-256 of the document text>",
//!  "entities": [{"id": "T1", "start": 0, "end": 5, "label": "LOC"}],
//!  "relations": [{"head": "T1", "tail": "T2", "label": "criticizes"}],
//!  "annotators": ["A1"]}
//! ```
//!
//! `source.base` is `shared` (the shared data folder: `$ERTAG_SHARED`, else `<ancestor>/shared`
//! for the first ancestor of the stand-off file that holds `shared/data`) or `repo` (the first
//! ancestor holding `Cargo.toml`). `source.format` is one of:
//! - `conll`, with `doc` (the id ertag's CoNLL reader gives the document) or `sentence` (the
//!   0-based index of a sentence of the file's only document, cut out with its tokens);
//! - `text`: a plain text file, one document, segmented as `ertag annotate` segments it;
//! - `records`: JSON Lines of objects with `_id` or `id` and `text`, such as re3d's
//!   `documents.json`; `doc` names one;
//! - `tsv`: ConfliBERT's `sentence<TAB>label` files; `line` (1-based) names one.
//!
//! `records` and `tsv` texts are segmented like `text`. Each source file is read once, by
//! ertag's own readers, and the text's SHA-256 must match: a changed or missing source is an
//! error naming the stand-off file, its line and the reason, never a silently shifted
//! annotation. Entity texts are filled in from the offsets; every other field of a record
//! (`annotators`, ...) goes to `meta`, with `source`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::document::{Document, Entity, Relation, Span};
use crate::error::{read_to_string, Diagnostics, Error, Location, Result};
use crate::formats::{conll, text, Options};
use crate::offsets::CharIndex;
use crate::segment::Segmenter;

#[derive(Deserialize)]
struct Record {
    id: String,
    source: Source,
    text_sha256: String,
    #[serde(default)]
    entities: Vec<StandoffEntity>,
    #[serde(default)]
    relations: Vec<StandoffRelation>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize, serde::Serialize, Clone)]
struct Source {
    base: String,
    path: String,
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sentence: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

#[derive(Deserialize)]
struct StandoffEntity {
    id: String,
    start: usize,
    end: usize,
    label: String,
}

#[derive(Deserialize)]
struct StandoffRelation {
    head: String,
    tail: String,
    label: String,
}

/// Where `shared` and `repo` sources are found.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    pub shared: Option<PathBuf>,
    pub repo: Option<PathBuf>,
}

impl Roots {
    /// The roots for a stand-off file at `path`: `$ERTAG_SHARED` or the first ancestor holding
    /// `shared/data`; the first ancestor holding `Cargo.toml`.
    pub fn for_file(path: &Path) -> Self {
        let start = if path.as_os_str() == "-" {
            std::env::current_dir().unwrap_or_default()
        } else {
            std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
        };
        let ancestors = || start.ancestors().skip(1);
        let shared = std::env::var_os("ERTAG_SHARED")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                ancestors()
                    .find(|a| a.join("shared/data").is_dir())
                    .map(|a| a.join("shared"))
            });
        let repo = ancestors()
            .find(|a| a.join("Cargo.toml").is_file())
            .map(Path::to_path_buf);
        Roots { shared, repo }
    }
}

/// Does the first line of `path` look like a stand-off record (a JSON object with `source`
/// and `text_sha256`)? Used to tell stand-off files from ertag's own JSON lines.
pub fn looks_like(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Some(Ok(line)) = std::io::BufReader::new(file).lines().next() else {
        return false;
    };
    serde_json::from_str::<Value>(&line).is_ok_and(|v| {
        v.get("source").is_some_and(Value::is_object) && v.get("text_sha256").is_some()
    })
}

/// Read a stand-off file; its sources are found from the file's own location ([`Roots`]).
pub fn parse(
    content: &str,
    loc: &Location,
    _opts: &Options,
    diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let roots = Roots::for_file(loc.file.as_deref().unwrap_or(Path::new("-")));
    parse_with(content, loc, &roots, diag)
}

/// Read stand-off records, joining them with their sources under `roots`.
pub fn parse_with(
    content: &str,
    loc: &Location,
    roots: &Roots,
    _diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let mut sources = Sources::default();
    let mut docs = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = loc.at_line(i + 1);
        let rec: Record = serde_json::from_str(line)
            .map_err(|e| Error::input(&at, format!("not a stand-off record: {e}")))?;
        let at = at.in_doc(&rec.id);
        let base = source_doc(&mut sources, roots, &rec.source)
            .map_err(|reason| Error::input(&at, reason))?;
        let found = sha256_hex(&base.text);
        if !found.eq_ignore_ascii_case(&rec.text_sha256) {
            return Err(Error::input(
                &at,
                format!(
                    "the text of {} no longer matches the annotation (text_sha256 {}, the source's \
                     text has {found}): the source changed, the offsets cannot be trusted",
                    describe(&rec.source),
                    rec.text_sha256
                ),
            ));
        }
        docs.push(join(rec, base).map_err(|reason| Error::input(&at, reason))?);
    }
    Ok(docs)
}

fn describe(s: &Source) -> String {
    match (&s.doc, s.sentence) {
        (Some(d), _) => format!("document '{d}' of {} ({})", s.path, s.base),
        (None, Some(n)) => format!("sentence {n} of {} ({})", s.path, s.base),
        _ => format!("{} ({})", s.path, s.base),
    }
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Source files read so far, by path and format.
#[derive(Default)]
struct Sources {
    files: HashMap<(PathBuf, String), Vec<Document>>,
}

/// The source document `src` names (with its text, sentences and tokens; no annotations).
fn source_doc(
    sources: &mut Sources,
    roots: &Roots,
    src: &Source,
) -> std::result::Result<Document, String> {
    let root = match src.base.as_str() {
        "shared" => roots.shared.as_ref().ok_or(
            "source base 'shared': no shared data folder found (no ancestor holds shared/data; \
             set ERTAG_SHARED)",
        )?,
        "repo" => roots
            .repo
            .as_ref()
            .ok_or("source base 'repo': no ancestor holds Cargo.toml")?,
        other => return Err(format!("unknown source base '{other}' (shared or repo)")),
    };
    let path = root.join(&src.path);
    let key = (path.clone(), src.format.clone());
    if !sources.files.contains_key(&key) {
        if !path.is_file() {
            return Err(format!(
                "source {} is missing ({} not found)",
                src.path,
                path.display()
            ));
        }
        // The sources' own warnings (repaired tags) say nothing about the stand-off file.
        let mut quiet = Diagnostics::default();
        let docs = match src.format.as_str() {
            "conll" => {
                let content = read_to_string(&path).map_err(|e| e.to_string())?;
                let loc = Location::file(&path);
                conll::parse(&content, &loc, &Options::default(), &mut quiet)
                    .map_err(|e| e.to_string())?
            }
            "text" => segmented(text::read(&path, &mut quiet).map_err(|e| e.to_string())?),
            "records" => {
                let content = read_to_string(&path).map_err(|e| e.to_string())?;
                segmented(records(&content).map_err(|e| format!("{}: {e}", src.path))?)
            }
            "tsv" => {
                let content = read_to_string(&path).map_err(|e| e.to_string())?;
                segmented(tsv_lines(&content))
            }
            other => {
                return Err(format!(
                    "unknown source format '{other}' (conll, text, records or tsv)"
                ))
            }
        };
        sources.files.insert(key.clone(), docs);
    }
    let docs = &sources.files[&key];
    let bare = |d: &Document| Document {
        id: d.id.clone(),
        text: d.text.clone(),
        sentences: d.sentences.clone(),
        tokens: d.tokens.clone(),
        ..Default::default()
    };
    let line_id = src.line.map(|n| n.to_string());
    match (src.doc.as_ref().or(line_id.as_ref()), src.sentence) {
        (Some(id), _) => docs
            .iter()
            .find(|d| &d.id == id)
            .map(bare)
            .ok_or_else(|| format!("source {} has no document '{id}'", src.path)),
        (None, Some(n)) => {
            let [doc] = docs.as_slice() else {
                return Err(format!(
                    "source {} has {} documents; a 'sentence' source needs exactly one",
                    src.path,
                    docs.len()
                ));
            };
            let s = *doc.sentences.get(n).ok_or_else(|| {
                format!(
                    "source {} has {} sentences, not sentence {n}",
                    src.path,
                    doc.sentences.len()
                )
            })?;
            Ok(cut_sentence(doc, s))
        }
        (None, None) if src.format == "text" => docs
            .first()
            .map(bare)
            .ok_or_else(|| format!("source {} is empty", src.path)),
        (None, None) => Err(format!(
            "source {} ({}) needs 'doc', 'sentence' or 'line'",
            src.path, src.format
        )),
    }
}

/// Source documents segmented as `ertag annotate` segments raw text.
fn segmented(mut docs: Vec<Document>) -> Vec<Document> {
    let seg = Segmenter::new();
    docs.iter_mut().for_each(|d| seg.segment(d));
    docs
}

/// A `records` source: JSON Lines of objects with a `text` and an `_id` (re3d's
/// `documents.json`) or `id`.
fn records(content: &str) -> std::result::Result<Vec<Document>, String> {
    let mut docs = Vec::new();
    for (n, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let id = v.get("_id").or_else(|| v.get("id")).and_then(Value::as_str);
        let text = v.get("text").and_then(Value::as_str);
        let (Some(id), Some(text)) = (id, text) else {
            return Err(format!("line {}: no '_id' or 'id', or no 'text'", n + 1));
        };
        docs.push(Document::new(id.to_string(), text.to_string()));
    }
    Ok(docs)
}

/// A `tsv` source (ConfliBERT's `cameo_class` files, `sentence<TAB>label`): line n (1-based)
/// is document `n`, its text everything before the last tab.
fn tsv_lines(content: &str) -> Vec<Document> {
    content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let text = l.rsplit_once('\t').map_or(l, |(t, _)| t);
            Document::new((n + 1).to_string(), text.to_string())
        })
        .collect()
}

/// Sentence `s` of `doc` as a document of its own, with its tokens shifted to start at 0.
fn cut_sentence(doc: &Document, s: Span) -> Document {
    let ix = CharIndex::new(&doc.text);
    let text = ix.slice(s.start, s.end).unwrap_or_default().to_string();
    let tokens = doc
        .tokens
        .iter()
        .filter(|t| s.contains(**t))
        .map(|t| Span::new(t.start - s.start, t.end - s.start))
        .collect();
    Document {
        id: doc.id.clone(),
        sentences: vec![Span::new(0, s.len())],
        tokens,
        text,
        ..Default::default()
    }
}

/// The source document with the record's id, entities (text from the offsets), relations (with
/// the sentence that holds both arguments as evidence, when there is one) and other fields.
fn join(rec: Record, mut doc: Document) -> std::result::Result<Document, String> {
    let ix = CharIndex::new(&doc.text);
    doc.id = rec.id;
    for e in rec.entities {
        let text = ix
            .slice(e.start, e.end)
            .filter(|_| e.start < e.end)
            .ok_or_else(|| {
                format!(
                    "entity '{}' [{}, {}] is outside the text ({} characters) or empty",
                    e.id,
                    e.start,
                    e.end,
                    ix.char_len()
                )
            })?
            .to_string();
        doc.entities.push(Entity {
            id: e.id,
            start: e.start,
            end: e.end,
            label: e.label,
            text,
            score: None,
        });
    }
    for r in rec.relations {
        let span = |id: &str| {
            doc.entity(id)
                .map(Entity::span)
                .ok_or_else(|| format!("relation '{}' names unknown entity '{id}'", r.label))
        };
        let (h, t) = (span(&r.head)?, span(&r.tail)?);
        let evidence = doc
            .sentences
            .iter()
            .copied()
            .find(|s| s.contains(h) && s.contains(t));
        doc.relations.push(Relation {
            head: r.head,
            tail: r.tail,
            label: r.label,
            score: None,
            evidence,
        });
    }
    let source = serde_json::to_value(&rec.source).map_err(|e| e.to_string())?;
    doc.meta.insert("source".into(), source);
    doc.meta.extend(rec.rest);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONLL: &str = "-DOCSTART- O\n\nChina B-LOC\nsays O\n.\tO\n\nBEIJING B-LOC\n\n\
                         -DOCSTART- O\n\nPutin B-PER\ncalled O\nNetanyahu B-PER\n. O\n";

    /// A folder with `shared/data/x/train.txt` (CoNLL), `repo/Cargo.toml` and a story.
    fn tree() -> (tempfile::TempDir, Roots) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("shared/data/x");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("train.txt"), CONLL.replace('\t', " ")).unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("examples")).unwrap();
        std::fs::write(repo.join("Cargo.toml"), "").unwrap();
        std::fs::write(
            repo.join("examples/story.txt"),
            "Putin met Erdogan. Iran protested.",
        )
        .unwrap();
        let roots = Roots {
            shared: Some(dir.path().join("shared")),
            repo: Some(repo),
        };
        (dir, roots)
    }

    fn record(source: Value, text: &str, extra: &str) -> String {
        format!(
            r#"{{"id":"d","source":{source},"text_sha256":"{}"{extra}}}"#,
            sha256_hex(text)
        )
    }

    fn read(content: &str, roots: &Roots) -> Result<Vec<Document>> {
        parse_with(
            content,
            &Location::file("corpus.jsonl"),
            roots,
            &mut Diagnostics::default(),
        )
    }

    #[test]
    fn conll_document_with_entities_and_relations() {
        let (_dir, roots) = tree();
        let src = serde_json::json!({"base":"shared","path":"data/x/train.txt","format":"conll","doc":"train-2"});
        let line = record(
            src,
            "Putin called Netanyahu .",
            r#","entities":[{"id":"T1","start":0,"end":5,"label":"PER"},{"id":"T2","start":13,"end":22,"label":"PER"}],"relations":[{"head":"T1","tail":"T2","label":"phone call"}],"annotators":["A1"]"#,
        );
        let docs = read(&line, &roots).unwrap();
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.id, "d");
        assert_eq!(d.entities[1].text, "Netanyahu");
        assert_eq!(d.relations[0].label, "phone call");
        assert_eq!(d.relations[0].evidence, Some(Span::new(0, 24)));
        assert_eq!(d.tokens.len(), 4);
        assert_eq!(d.meta["annotators"], serde_json::json!(["A1"]));
        assert_eq!(d.meta["source"]["doc"], "train-2");
        assert!(d.problems().is_empty());
    }

    #[test]
    fn a_sentence_of_a_single_document() {
        let (dir, roots) = tree();
        std::fs::write(
            dir.path().join("shared/data/x/one.txt"),
            "China B-LOC\nsays O\n. O\n\nBEIJING B-LOC\nagrees O\n",
        )
        .unwrap();
        let src = serde_json::json!({"base":"shared","path":"data/x/one.txt","format":"conll","sentence":1});
        let line = record(
            src,
            "BEIJING agrees",
            r#","entities":[{"id":"T1","start":0,"end":7,"label":"LOC"}]"#,
        );
        let d = &read(&line, &roots).unwrap()[0];
        assert_eq!(d.text, "BEIJING agrees");
        assert_eq!(d.tokens, [Span::new(0, 7), Span::new(8, 14)]);
        assert_eq!(d.sentences, [Span::new(0, 14)]);
        assert_eq!(d.entities[0].text, "BEIJING");
        // A sentence of a file with several documents, or past the end, is an error.
        let src = serde_json::json!({"base":"shared","path":"data/x/one.txt","format":"conll","sentence":5});
        let err = read(&record(src, "x", ""), &roots).unwrap_err().to_string();
        assert!(err.contains("not sentence 5"), "{err}");
    }

    #[test]
    fn text_file_from_the_repository() {
        let (_dir, roots) = tree();
        let text = "Putin met Erdogan. Iran protested.";
        let src = serde_json::json!({"base":"repo","path":"examples/story.txt","format":"text"});
        let d = &read(&record(src, text, ""), &roots).unwrap()[0];
        assert_eq!(d.text, text);
        assert_eq!(d.sentences.len(), 2);
        assert!(!d.tokens.is_empty());
    }

    #[test]
    fn records_and_tsv_sources() {
        let (dir, roots) = tree();
        let data = dir.path().join("shared/data/x");
        std::fs::write(
            data.join("documents.json"),
            "{\"_id\":\"A1\",\"text\":\"Kerry spoke with Lavrov. They agreed.\"}\n{\"_id\":\"B2\",\"text\":\"x\"}\n",
        )
        .unwrap();
        std::fs::write(
            data.join("class.tsv"),
            "Iran condemned Israel.\t3\r\nObama met Putin \u{201c}today\u{201d}.\t1\r\n",
        )
        .unwrap();
        let text = "Kerry spoke with Lavrov. They agreed.";
        let src = serde_json::json!({"base":"shared","path":"data/x/documents.json","format":"records","doc":"A1"});
        let d = &read(&record(src, text, ""), &roots).unwrap()[0];
        assert_eq!((d.text.as_str(), d.sentences.len()), (text, 2));
        let text = "Obama met Putin \u{201c}today\u{201d}.";
        let src =
            serde_json::json!({"base":"shared","path":"data/x/class.tsv","format":"tsv","line":2});
        let d = &read(&record(src, text, ""), &roots).unwrap()[0];
        assert_eq!(d.text, text);
        assert!(!d.tokens.is_empty());
        let src =
            serde_json::json!({"base":"shared","path":"data/x/class.tsv","format":"tsv","line":3});
        let err = read(&record(src, "x", ""), &roots).unwrap_err().to_string();
        assert!(err.contains("no document '3'"), "{err}");
    }

    #[test]
    fn changed_or_missing_sources_are_errors_with_line() {
        let (_dir, roots) = tree();
        let src = serde_json::json!({"base":"shared","path":"data/x/train.txt","format":"conll","doc":"train-1"});
        let good = record(src.clone(), "China says .\nBEIJING", "");
        assert!(read(&good, &roots).is_ok());
        let bad = format!("{good}\n{}", record(src, "China says!", ""));
        let err = read(&bad, &roots).unwrap_err().to_string();
        assert!(err.contains("corpus.jsonl:line 2"), "{err}");
        assert!(err.contains("no longer matches"), "{err}");

        let gone = serde_json::json!({"base":"shared","path":"data/x/gone.txt","format":"conll","doc":"x"});
        let err = read(&record(gone, "x", ""), &roots)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("missing"), "{err}");

        let no_doc = serde_json::json!({"base":"shared","path":"data/x/train.txt","format":"conll","doc":"train-9"});
        let err = read(&record(no_doc, "x", ""), &roots)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no document 'train-9'"), "{err}");
    }

    #[test]
    fn bad_offsets_and_unknown_entities_are_errors() {
        let (_dir, roots) = tree();
        let src = serde_json::json!({"base":"shared","path":"data/x/train.txt","format":"conll","doc":"train-1"});
        let text = "China says .\nBEIJING";
        let past = record(
            src.clone(),
            text,
            r#","entities":[{"id":"T1","start":0,"end":99,"label":"LOC"}]"#,
        );
        let err = read(&past, &roots).unwrap_err().to_string();
        assert!(err.contains("outside the text"), "{err}");
        let dangling = record(
            src,
            text,
            r#","entities":[{"id":"T1","start":0,"end":5,"label":"LOC"}],"relations":[{"head":"T1","tail":"T9","label":"located in"}]"#,
        );
        let err = read(&dangling, &roots).unwrap_err().to_string();
        assert!(err.contains("unknown entity 'T9'"), "{err}");
    }

    #[test]
    fn roots_are_found_from_the_file() {
        let (dir, _) = tree();
        let file = dir.path().join("repo/eval/gold/x.jsonl");
        let roots = Roots::for_file(&file);
        if std::env::var_os("ERTAG_SHARED").is_none() {
            assert_eq!(roots.shared, Some(dir.path().join("shared")));
        }
        assert_eq!(roots.repo, Some(dir.path().join("repo")));
    }

    #[test]
    fn stand_off_files_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.jsonl");
        std::fs::write(
            &f,
            record(serde_json::json!({"base":"repo"}), "", "") + "\n",
        )
        .unwrap();
        assert!(looks_like(&f));
        std::fs::write(&f, "{\"id\":\"a\",\"text\":\"b\"}\n").unwrap();
        assert!(!looks_like(&f));
    }
}
