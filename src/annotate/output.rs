//! Crash-safe output for batch annotation, written a chunk at a time ([`Sink`]).
//!
//! JSON Lines: each chunk is written with one `write_all` of complete lines and then flushed,
//! so a run that is killed leaves at worst one torn line at the end of the file.
//! [`open_for_resume`] cuts that line off and collects what the file already holds, so
//! `--resume` can skip it. brat and HTML: each document's files are written to a temporary
//! name and renamed, so a file is complete or absent, and `--resume` skips the documents
//! whose files are there ([`Sink::claim`]). CoNLL is appended a chunk at a time, byte for byte
//! what writing the whole output at once gives.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::annotate::IdSet;
use crate::document::Document;
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::conll::{META_DOCSTART, META_TRAILING_NEWLINES};
use crate::formats::html::{HtmlDir, IndexEntry};
use crate::formats::{self, brat, conll, jsonl, safe_file_stem, FileNames, Format, Options};

/// A JSON Lines file, or standard output, written a chunk at a time.
pub struct LineWriter {
    path: PathBuf,
    out: Box<dyn Write + Send>,
}

impl LineWriter {
    /// Create (or truncate) `path`; `-` is standard output.
    pub fn create(path: &Path) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(LineWriter {
                path: path.into(),
                out: Box::new(std::io::stdout()),
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(LineWriter {
            path: path.into(),
            out: Box::new(file),
        })
    }

    /// Append to `path`, which [`open_for_resume`] has left ending in a complete line.
    pub fn append(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(LineWriter {
            path: path.into(),
            out: Box::new(file),
        })
    }

    /// Write complete lines (`lines` ends in `\n`) in a single write, then flush.
    pub fn write_lines(&mut self, lines: &str) -> Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with('\n'));
        self.write_text(lines)
    }

    /// Write `text` in a single write, then flush.
    pub fn write_text(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The id and source of a line of the output or of the errors file.
#[derive(Deserialize)]
struct Keys {
    id: String,
    #[serde(default)]
    source: Option<String>,
}

/// What an earlier run left in a file: the ids of its lines and their sources (errors file).
#[derive(Debug, Default)]
pub struct Done {
    pub ids: IdSet,
    pub sources: HashSet<String>,
    /// Bytes of a torn last line that were cut off.
    pub cut: u64,
}

/// Read the ids (and sources) of the complete lines of `path`, and cut off a trailing partial
/// line that a killed run may have left. A missing file holds nothing.
pub fn open_for_resume(path: &Path) -> Result<Done> {
    let mut done = Done::default();
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut reader = BufReader::new(&file);
    let mut complete: u64 = 0;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        if buf.last() != Some(&b'\n') {
            done.cut = n as u64;
            break;
        }
        line_no += 1;
        complete += n as u64;
        let keys: Keys = serde_json::from_slice(&buf).map_err(|e| {
            Error::input(
                &Location::file(path).at_line(line_no),
                format!("cannot resume from this file: {e}"),
            )
        })?;
        done.ids.insert(&keys.id);
        done.sources.extend(keys.source);
    }
    drop(reader);
    if done.cut > 0 {
        file.set_len(complete).map_err(|e| Error::io(path, e))?;
        (&file)
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(done)
}

/// Where annotated documents go, a chunk at a time, so that memory stays constant.
pub enum Sink {
    Lines(LineWriter),
    Conll(ConllStream),
    Brat(BratDir),
    Html(HtmlSink),
    /// Formats written whole at the end (plain text, doccano, Label Studio).
    Whole(Vec<Document>),
}

impl Sink {
    /// The sink for `to` at `output`; `append` continues a JSON Lines file (`--resume`).
    pub fn open(output: &Path, to: Format, append: bool) -> Result<Self> {
        Ok(match to {
            Format::Jsonl if append => Sink::Lines(LineWriter::append(output)?),
            Format::Jsonl => Sink::Lines(LineWriter::create(output)?),
            Format::Conll => Sink::Conll(ConllStream {
                out: LineWriter::create(output)?,
                held: None,
                written: 0,
            }),
            Format::Brat => Sink::Brat(BratDir::create(output)?),
            Format::Html => Sink::Html(HtmlSink {
                out: HtmlDir::create(output)?,
                files: HashMap::new(),
                order: HashMap::new(),
            }),
            _ => Sink::Whole(Vec::new()),
        })
    }

    /// Give document `id` (the next one of the input, never a duplicate) its file name, and
    /// say whether an earlier run (`resume`) wrote it completely, so that it is skipped.
    /// Names depend only on the sequence of ids, so a resumed run names every document as the
    /// first run did.
    pub fn claim(&mut self, id: &str, resume: bool) -> bool {
        match self {
            Sink::Brat(b) => {
                let stem = b.names.claim(id);
                let done = || {
                    ["txt", "ann"]
                        .iter()
                        .all(|ext| b.dir.join(format!("{stem}.{ext}")).is_file())
                };
                if resume && done() {
                    return true;
                }
                b.stems.insert(id.into(), stem);
                false
            }
            Sink::Html(h) => {
                let file = h.out.name(id);
                h.order.insert(id.into(), h.order.len());
                let kept = resume
                    .then(|| IndexEntry::read(&h.out.path(&file)))
                    .flatten()
                    .filter(|e| e.id == id && e.file == file);
                if let Some(entry) = kept {
                    h.out.keep(entry);
                    return true;
                }
                h.files.insert(id.into(), file);
                false
            }
            _ => false,
        }
    }

    /// Document `id` will not be written (it failed).
    pub fn forget(&mut self, id: &str) {
        match self {
            Sink::Brat(b) => drop(b.stems.remove(id)),
            Sink::Html(h) => drop(h.files.remove(id)),
            _ => {}
        }
    }

    /// Write a chunk of annotated documents, in input order.
    pub fn write(
        &mut self,
        docs: Vec<Document>,
        opts: &Options,
        diag: &mut Diagnostics,
    ) -> Result<()> {
        match self {
            Sink::Lines(out) => {
                let mut lines = String::new();
                for doc in &docs {
                    lines.push_str(&jsonl::to_line(doc));
                    lines.push('\n');
                }
                out.write_lines(&lines)
            }
            Sink::Conll(c) => c.write(docs, opts, diag),
            Sink::Brat(b) => docs.iter().try_for_each(|d| b.write(d, diag)),
            Sink::Html(h) => docs.iter().try_for_each(|doc| {
                let file = h
                    .files
                    .remove(&doc.id)
                    .unwrap_or_else(|| h.out.name(&doc.id));
                h.out.write(doc, &file)
            }),
            Sink::Whole(all) => {
                all.extend(docs);
                Ok(())
            }
        }
    }

    /// Write what is left: the last CoNLL document, the HTML index, a whole-file format.
    pub fn finish(
        self,
        output: &Path,
        to: Format,
        opts: &Options,
        diag: &mut Diagnostics,
    ) -> Result<()> {
        match self {
            Sink::Lines(_) => Ok(()),
            Sink::Conll(c) => c.finish(opts, diag),
            Sink::Brat(b) => b.finish(),
            Sink::Html(h) => {
                let order = h.order;
                h.out.finish(Some(&|id: &str| {
                    order.get(id).copied().unwrap_or(usize::MAX)
                }))
            }
            Sink::Whole(docs) => formats::write(&docs, output, to, opts, diag),
        }
    }
}

/// CoNLL appended a chunk at a time. The writer of a whole file puts `-DOCSTART-` before every
/// document but a lone first one, and treats the last document apart, so the last document
/// read is held back until the next chunk (or the end) shows it is not the last.
pub struct ConllStream {
    out: LineWriter,
    held: Option<Document>,
    written: usize,
}

impl ConllStream {
    fn write(&mut self, docs: Vec<Document>, opts: &Options, diag: &mut Diagnostics) -> Result<()> {
        let mut all: Vec<Document> = self.held.take().into_iter().chain(docs).collect();
        self.held = all.pop();
        if all.is_empty() {
            return Ok(());
        }
        for d in &mut all {
            d.meta.remove(META_TRAILING_NEWLINES);
        }
        self.emit(all, opts, diag)
    }

    fn emit(&mut self, docs: Vec<Document>, opts: &Options, diag: &mut Diagnostics) -> Result<()> {
        let n = docs.len();
        let from_conll = docs.iter().any(|d| d.meta.contains_key(META_DOCSTART));
        let text = if self.written == 0 && (from_conll || self.held.is_none()) {
            conll::write(&docs, opts, diag)?
        } else {
            // Every document needs its -DOCSTART-: behind a stand-in first document whose own
            // lines are known, they all get it, as in the middle of a whole file.
            let mut stand_in = Document::new("", "");
            stand_in
                .meta
                .insert(META_DOCSTART.into(), Value::from(vec!["-DOCSTART-"]));
            let docs: Vec<Document> = std::iter::once(stand_in).chain(docs).collect();
            let text = conll::write(&docs, opts, diag)?;
            text.strip_prefix("-DOCSTART-\n\n")
                .map(str::to_string)
                .ok_or_else(|| Error::Usage("internal: unexpected CoNLL stand-in output".into()))?
        };
        self.written += n;
        self.out.write_text(&text)
    }

    fn finish(mut self, opts: &Options, diag: &mut Diagnostics) -> Result<()> {
        match self.held.take() {
            Some(last) => self.emit(vec![last], opts, diag),
            None => Ok(()),
        }
    }
}

/// brat, a `.txt` and `.ann` pair per document. Each pair is made by the brat writer in a
/// staging folder (`.ertag-staging`, which no document name can be) and renamed into place.
pub struct BratDir {
    dir: PathBuf,
    staging: PathBuf,
    names: FileNames,
    stems: HashMap<String, String>,
    /// Warnings given already (a label written with `_` for spaces: once per run).
    warned: HashSet<String>,
}

impl BratDir {
    fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let staging = dir.join(".ertag-staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        Ok(BratDir {
            dir: dir.into(),
            staging,
            names: FileNames::default(),
            stems: HashMap::new(),
            warned: HashSet::new(),
        })
    }

    fn write(&mut self, doc: &Document, diag: &mut Diagnostics) -> Result<()> {
        let stem = match self.stems.remove(&doc.id) {
            Some(stem) => stem,
            None => self.names.claim(&doc.id),
        };
        let mut local = Diagnostics::new(diag.strict);
        brat::write_dir(std::slice::from_ref(doc), &self.staging, &mut local)?;
        for w in local.warnings {
            if self.warned.insert(w.message.clone()) {
                diag.warnings.push(w);
            }
        }
        let staged = safe_file_stem(&doc.id);
        for ext in ["txt", "ann"] {
            let from = self.staging.join(format!("{staged}.{ext}"));
            let to = self.dir.join(format!("{stem}.{ext}"));
            std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match std::fs::remove_dir_all(&self.staging) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&self.staging, e)),
            _ => Ok(()),
        }
    }
}

/// HTML pages written as their documents are annotated; the index at the end, in input order.
pub struct HtmlSink {
    out: HtmlDir,
    /// File names of the documents claimed and not written yet.
    files: HashMap<String, String>,
    /// Input position of every document claimed, for the order of the index.
    order: HashMap<String, usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.jsonl");
        std::fs::write(
            &f,
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"source\":\"x:2\"}\n{\"id\":\"c\",\"te",
        )
        .unwrap();
        let done = open_for_resume(&f).unwrap();
        assert_eq!(done.ids.len(), 2);
        assert!(done.ids.contains("a") && done.ids.contains("b") && !done.ids.contains("c"));
        assert_eq!(done.sources, HashSet::from(["x:2".to_string()]));
        assert_eq!(done.cut, 13);
        let mut w = LineWriter::append(&f).unwrap();
        w.write_lines("{\"id\":\"c\"}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"source\":\"x:2\"}\n{\"id\":\"c\"}\n"
        );
    }

    #[test]
    fn a_missing_file_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let done = open_for_resume(&dir.path().join("none.jsonl")).unwrap();
        assert!(done.ids.is_empty() && done.cut == 0);
    }
}
