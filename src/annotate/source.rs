//! Streaming input for batch annotation: [`DocumentSource`] yields one document at a time, in
//! input order, so that memory does not grow with the size of the input.
//!
//! JSON Lines (files and standard input) are read line by line and plain-text files one file
//! at a time; `.gz` and `.zst` files are decompressed on the fly. A line or a file that cannot
//! become a document is a [`Failure`] naming where it came from, and reading goes on with the
//! next one: one bad line never costs the rest of a large input. Other formats (CoNLL, brat,
//! doccano, ...) are read whole through [`formats::read`], as `ertag convert` reads them.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::annotate::{Failure, Sourced};
use crate::document::Document;
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::{self, Format, Options};

/// How input documents are read.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The input format; guessed from each path when `None`.
    pub from: Option<Format>,
    /// JSON Lines: the field holding the document id.
    pub id_field: String,
    /// JSON Lines: the field holding the text.
    pub text_field: String,
    /// Options of the whole-file formats.
    pub formats: Options,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            from: None,
            id_field: "id".into(),
            text_field: "text".into(),
            formats: Options::default(),
        }
    }
}

/// One unit of input, planned up front so that a path whose format cannot be guessed is a
/// usage error before the model is loaded rather than after hours of annotation.
#[derive(Debug)]
enum Planned {
    /// JSON Lines, read line by line (`-` is standard input).
    Lines(PathBuf),
    /// One plain-text file, one document with this id.
    TextFile { path: PathBuf, id: String },
    /// Any other format, read whole.
    Whole { path: PathBuf, format: Format },
}

/// What is being read now.
enum Current {
    Lines {
        reader: Box<dyn BufRead + Send>,
        name: String,
        line: usize,
    },
    Docs {
        name: String,
        docs: VecDeque<Document>,
        n: usize,
    },
}

/// Documents of every input, in order, one at a time.
pub struct DocumentSource {
    plan: VecDeque<Planned>,
    current: Option<Current>,
    opts: SourceOptions,
    diag: Diagnostics,
}

impl DocumentSource {
    /// Plan the reading of `inputs` (files, directories, `-`): formats are guessed and
    /// directories listed (sorted, recursive) now; files are opened only when reached.
    pub fn new(inputs: &[PathBuf], opts: SourceOptions) -> Result<Self> {
        let mut plan = VecDeque::new();
        for input in inputs {
            plan_input(input, opts.from, &mut plan)?;
        }
        Ok(DocumentSource {
            plan,
            current: None,
            opts,
            diag: Diagnostics::default(),
        })
    }

    /// Warnings of the whole-file readers (repaired tags and the like).
    pub fn take_warnings(&mut self) -> Diagnostics {
        std::mem::take(&mut self.diag)
    }

    /// Start reading the next planned unit; `Some(failure)` when it cannot be opened at all.
    fn open_next(&mut self, planned: Planned) -> Option<Failure> {
        match planned {
            Planned::Lines(path) => {
                let name = path.display().to_string();
                let reader: Box<dyn BufRead + Send> = if path.as_os_str() == "-" {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    match open(&path) {
                        Ok(r) => r,
                        Err(e) => return Some(Failure::new(&name, &name, e.to_string())),
                    }
                };
                let name = if name == "-" { "<stdin>".into() } else { name };
                self.current = Some(Current::Lines {
                    reader,
                    name,
                    line: 0,
                });
                None
            }
            Planned::TextFile { path, id } => {
                let name = path.display().to_string();
                let read = open(&path).and_then(|mut r| {
                    let mut bytes = Vec::new();
                    r.read_to_end(&mut bytes).map_err(|e| Error::io(&path, e))?;
                    crate::error::utf8(bytes, &Location::file(&path))
                });
                let docs = match read {
                    Ok(text) => VecDeque::from([Document::new(id, text)]),
                    Err(e) => return Some(Failure::new(&id, &name, reason_of(e))),
                };
                self.current = Some(Current::Docs { name, docs, n: 0 });
                None
            }
            Planned::Whole { path, format } => {
                let name = path.display().to_string();
                match formats::read(&path, format, &self.opts.formats, &mut self.diag) {
                    Ok(docs) => {
                        self.current = Some(Current::Docs {
                            name,
                            docs: docs.into(),
                            n: 0,
                        });
                        None
                    }
                    Err(e) => Some(Failure::new(&name, &name, e.to_string())),
                }
            }
        }
    }
}

impl Iterator for DocumentSource {
    type Item = std::result::Result<Sourced, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match &mut self.current {
                None => {
                    let planned = self.plan.pop_front()?;
                    if let Some(failure) = self.open_next(planned) {
                        return Some(Err(failure));
                    }
                }
                Some(Current::Docs { name, docs, n }) => match docs.pop_front() {
                    None => self.current = None,
                    Some(doc) => {
                        *n += 1;
                        // A single text file is its own source; documents of a multi-document
                        // file are named by position.
                        let source = if *n == 1 && docs.is_empty() {
                            name.clone()
                        } else {
                            format!("{name}:doc {n}")
                        };
                        return Some(Ok(Sourced { doc, source }));
                    }
                },
                Some(Current::Lines { reader, name, line }) => {
                    let mut buf = Vec::new();
                    *line += 1;
                    let source = format!("{name}:{line}");
                    match reader.read_until(b'\n', &mut buf) {
                        Ok(0) => self.current = None,
                        Ok(_) => {
                            if buf.iter().all(u8::is_ascii_whitespace) {
                                continue;
                            }
                            return Some(parse_line(&buf, source, &self.opts));
                        }
                        Err(e) => {
                            // The rest of a stream that fails to read cannot be trusted.
                            self.current = None;
                            return Some(Err(Failure::new(
                                &source,
                                &source,
                                format!("cannot read: {e}"),
                            )));
                        }
                    }
                }
            }
        }
    }
}

/// The reason of an error without its location, which a [`Failure`] carries separately.
fn reason_of(e: Error) -> String {
    match e {
        Error::Input { reason, .. } => reason,
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Add the reading of one input to `plan`.
fn plan_input(input: &Path, from: Option<Format>, plan: &mut VecDeque<Planned>) -> Result<()> {
    if input.as_os_str() == "-" {
        plan.push_back(match from {
            None | Some(Format::Jsonl) => Planned::Lines(input.into()),
            Some(format) => Planned::Whole {
                path: input.into(),
                format,
            },
        });
        return Ok(());
    }
    if input.is_dir() {
        let format = match from {
            Some(f) => f,
            None => Format::detect(input).unwrap_or(Format::Text),
        };
        if format != Format::Text {
            plan.push_back(Planned::Whole {
                path: input.into(),
                format,
            });
            return Ok(());
        }
        let before = plan.len();
        for file in formats::walk_files(input)? {
            let (inner, _) = split_compression(&file);
            if inner.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            let rel = inner
                .strip_prefix(input)
                .unwrap_or(&inner)
                .with_extension("");
            let id = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            plan.push_back(Planned::TextFile { path: file, id });
        }
        if plan.len() == before {
            return Err(Error::Usage(format!(
                "{}: no .txt files in this directory",
                input.display()
            )));
        }
        return Ok(());
    }
    let (inner, compressed) = split_compression(input);
    let format = match (from, compressed) {
        (Some(f), _) => f,
        (None, false) => formats::guess_format(input, None)?,
        (None, true) => Format::detect(&inner).ok_or_else(|| {
            Error::Usage(format!(
                "{}: cannot guess the format; name it with --from",
                input.display()
            ))
        })?,
    };
    plan.push_back(match format {
        Format::Jsonl => Planned::Lines(input.into()),
        Format::Text => Planned::TextFile {
            path: input.into(),
            id: inner
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        },
        _ if compressed => {
            return Err(Error::Usage(format!(
                "{}: compressed {} input is not supported; decompress it first",
                input.display(),
                format.name()
            )))
        }
        _ => Planned::Whole {
            path: input.into(),
            format,
        },
    });
    Ok(())
}

/// The path without a `.gz` or `.zst` extension, and whether it had one.
fn split_compression(path: &Path) -> (PathBuf, bool) {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz" | "zst") => (path.with_extension(""), true),
        _ => (path.to_path_buf(), false),
    }
}

/// Open a file for reading, decompressing `.gz` (multi-member, as `cat a.gz b.gz` makes) and
/// `.zst` by extension.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file))),
        Some("zst") => Box::new(BufReader::new(
            zstd::stream::read::Decoder::new(file).map_err(|e| Error::io(path, e))?,
        )),
        _ => Box::new(BufReader::new(file)),
    })
}

/// One line of JSON Lines as a document. The id and text come from the configured fields; a
/// missing id becomes the line's `<file>:<line>`. Span fields ertag understands (`sentences`,
/// `tokens`, so pre-tokenised input keeps its tokens) and `meta` are read as such; `entities`
/// and `relations` are dropped, since annotation replaces them; every other field goes to `meta`
/// and is written back unchanged.
fn parse_line(
    bytes: &[u8],
    source: String,
    opts: &SourceOptions,
) -> std::result::Result<Sourced, Failure> {
    let fail = |id: &str, reason: String| Failure::new(id, &source, reason);
    let line = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            &source,
            format!(
                "invalid UTF-8 (byte 0x{:02x} at byte {} of the line)",
                bytes[e.valid_up_to()],
                e.valid_up_to() + 1
            ),
        )
    })?;
    let value: Value =
        serde_json::from_str(line).map_err(|e| fail(&source, format!("malformed JSON: {e}")))?;
    let Value::Object(mut fields) = value else {
        return Err(fail(&source, "not a JSON object".into()));
    };
    let id = match fields.remove(&opts.id_field) {
        None | Some(Value::Null) => source.clone(),
        Some(Value::String(s)) => s,
        Some(other @ (Value::Number(_) | Value::Bool(_))) => other.to_string(),
        Some(_) => {
            return Err(fail(
                &source,
                format!("the id field `{}` is not a string", opts.id_field),
            ))
        }
    };
    let text = match fields.remove(&opts.text_field) {
        Some(Value::String(s)) => s,
        None => {
            return Err(fail(
                &id,
                format!("missing text field `{}`", opts.text_field),
            ))
        }
        Some(_) => {
            return Err(fail(
                &id,
                format!("the text field `{}` is not a string", opts.text_field),
            ))
        }
    };
    let mut doc = Map::new();
    let mut meta = match fields.remove("meta") {
        Some(Value::Object(m)) => m,
        Some(other) => Map::from_iter([("meta".to_string(), other)]),
        None => Map::new(),
    };
    for (key, value) in fields {
        match key.as_str() {
            "sentences" | "tokens" => {
                doc.insert(key, value);
            }
            "entities" | "relations" => {}
            _ => {
                meta.insert(key, value);
            }
        }
    }
    doc.insert("id".into(), Value::String(id.clone()));
    doc.insert("text".into(), Value::String(text));
    doc.insert("meta".into(), Value::Object(meta));
    let doc: Document = serde_json::from_value(Value::Object(doc))
        .map_err(|e| fail(&id, format!("malformed document: {e}")))?;
    if let Some(problem) = doc.problems().into_iter().next() {
        return Err(fail(&id, problem));
    }
    Ok(Sourced { doc, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(
        inputs: &[PathBuf],
        opts: SourceOptions,
    ) -> Vec<std::result::Result<Sourced, Failure>> {
        DocumentSource::new(inputs, opts).unwrap().collect()
    }

    #[test]
    fn jsonl_lines_become_documents_or_failures() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.jsonl");
        let mut content = Vec::new();
        content
            .extend_from_slice(b"{\"doc_id\":7,\"body\":\"Anna met Putin.\",\"lang\":\"en\"}\n\n");
        content.extend_from_slice(b"{\"body\": }\n");
        content.extend_from_slice(b"{\"doc_id\":\"x\"}\n");
        content.extend_from_slice(b"{\"body\":\"bad \xff byte\"}\n");
        content.extend_from_slice(b"{\"body\":\"no id\"}");
        std::fs::write(&f, content).unwrap();
        let opts = SourceOptions {
            id_field: "doc_id".into(),
            text_field: "body".into(),
            ..Default::default()
        };
        let got = read_all(std::slice::from_ref(&f), opts);
        assert_eq!(got.len(), 5);
        let first = got[0].as_ref().unwrap();
        assert_eq!(first.doc.id, "7");
        assert_eq!(first.doc.meta["lang"], "en");
        assert_eq!(first.source, format!("{}:1", f.display()));
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(e.id, format!("{}:3", f.display()));
        assert!(e.reason.starts_with("malformed JSON"), "{e}");
        let e = got[2].as_ref().unwrap_err();
        assert_eq!(
            (e.id.as_str(), e.reason.as_str()),
            ("x", "missing text field `body`")
        );
        assert!(got[3]
            .as_ref()
            .unwrap_err()
            .reason
            .contains("invalid UTF-8"));
        assert_eq!(
            got[4].as_ref().unwrap().doc.id,
            format!("{}:6", f.display())
        );
    }

    #[test]
    fn compressed_files_are_read_transparently() {
        let dir = tempfile::tempdir().unwrap();
        let line = b"{\"id\":\"a\",\"text\":\"Anna.\"}\n";
        let gz = dir.path().join("a.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        enc.write_all(line).unwrap();
        enc.finish().unwrap();
        let zst = dir.path().join("b.txt.zst");
        std::fs::write(&zst, zstd::encode_all(&b"Paris."[..], 0).unwrap()).unwrap();
        let got = read_all(&[gz, zst], SourceOptions::default());
        let docs: Vec<(String, String)> = got
            .into_iter()
            .map(|r| r.map(|s| (s.doc.id, s.doc.text)).unwrap())
            .collect();
        assert_eq!(
            docs,
            [("a".into(), "Anna.".into()), ("b".into(), "Paris.".into())]
        );
    }

    #[test]
    fn text_directories_are_sorted_and_recursive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wire")).unwrap();
        std::fs::write(dir.path().join("wire/a.txt"), "A.").unwrap();
        std::fs::write(dir.path().join("b.txt"), b"bad \xc3\x28").unwrap();
        std::fs::write(dir.path().join("notes.md"), "skip").unwrap();
        let got = read_all(&[dir.path().into()], SourceOptions::default());
        assert_eq!(got.len(), 2);
        let e = got[0].as_ref().unwrap_err();
        assert_eq!(e.id, "b");
        assert!(e.reason.contains("invalid UTF-8"), "{e}");
        assert_eq!(got[1].as_ref().unwrap().doc.id, "wire/a");
    }
}
