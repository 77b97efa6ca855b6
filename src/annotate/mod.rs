//! Batch annotation: annotate inputs of any size without holding them in memory and without
//! losing a document.
//!
//! Documents stream in from a [`DocumentSource`] in input order and go through the model in
//! chunks ([`BatchOptions::chunk_size`]); each chunk's output is written (one write of complete
//! lines, or a file per document for brat and HTML, see [`output::Sink`]) before the next is
//! read, so memory stays constant and a killed run can be resumed.
//! Every document read ends up either in the output or, with its reason, in the errors file:
//! a bad line is a [`Failure`], never a reason to stop (unless `--fail-fast`).
//!
//! The loop is split into reading ([`DocumentSource`]), checking ([`rejected`]), annotating a
//! chunk ([`Annotator`]) and writing, so that a later parallel pipeline can run segmentation and
//! featurisation of the next chunk while the model works on this one, without changing the
//! order of the output.

pub mod output;
pub mod source;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

pub use source::{DocumentSource, SourceOptions};

use crate::document::Document;
use crate::error::{Diagnostics, Error, Result};
use crate::formats::{Format, Options};
use crate::ner::NerModel;
use output::{open_for_resume, Done, LineWriter, Sink};

/// A document read, with where it came from (`file:line`, or the file for a text file).
#[derive(Debug, Clone)]
pub struct Sourced {
    pub doc: Document,
    pub source: String,
}

/// A document that was not annotated, and why: one line of the errors file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The document id, or its `file:line` when the id could not be read.
    pub id: String,
    /// Where in the input: `file:line` for JSON Lines, the file for a text file.
    pub source: String,
    pub reason: String,
}

impl Failure {
    pub fn new(id: &str, source: &str, reason: impl Into<String>) -> Self {
        Failure {
            id: id.into(),
            source: source.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} document '{}': {}", self.source, self.id, self.reason)
    }
}

/// What annotates a chunk of documents in place. The NER model today; the relation stage and
/// test doubles tomorrow.
pub trait Annotator {
    fn annotate(&self, docs: &mut [Document]) -> Result<()>;
}

impl Annotator for NerModel {
    fn annotate(&self, docs: &mut [Document]) -> Result<()> {
        NerModel::annotate(self, docs)
    }
}

/// `--shard I/N`: the documents whose id hashes to `I` modulo `N` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The share is decided by the id alone, with a hash that is the same on every machine and
    /// every run (std's hasher is randomised per process), so N runs cover the input exactly.
    pub fn contains(&self, id: &str) -> bool {
        fnv1a64(id.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("{s:?}: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// 64-bit FNV-1a: small, stable, and good enough to spread ids over shards.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Why a document that was read fine is not annotated, if it is not. Control characters are
/// kept: the tokenizer's normaliser drops them, a word made only of them becomes `[UNK]`,
/// offsets are code points and JSON escapes them, so they harm nothing and rejecting a news
/// story for a stray `\u0007` would lose it for no reason.
pub fn rejected(doc: &Document) -> Option<String> {
    if doc.text.is_empty() {
        Some("empty text".into())
    } else if doc.text.trim().is_empty() {
        Some("the text is only whitespace".into())
    } else {
        None
    }
}

/// Where and how a batch run writes.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Output file (`-` for standard output), or directory for directory formats.
    pub output: PathBuf,
    pub to: Format,
    /// JSON Lines file for failures; without it they are printed on standard error.
    pub errors: Option<PathBuf>,
    pub fail_fast: bool,
    /// Skip what the output (and errors file) already hold, and append the rest.
    pub resume: bool,
    pub shard: Option<Shard>,
    /// Documents per chunk through the model.
    pub chunk_size: usize,
    /// Options of the whole-file output formats.
    pub formats: Options,
}

impl BatchOptions {
    /// Refuse combinations that cannot work, before any model is loaded.
    pub fn check(&self) -> Result<()> {
        if self.chunk_size == 0 {
            return Err(Error::Usage("--chunk-size must be at least 1".into()));
        }
        let stdout = self.output.as_os_str() == "-";
        if self.to.is_directory() && stdout {
            return Err(Error::Usage(format!(
                "{} output is a folder: name it with -o DIR",
                self.to.name()
            )));
        }
        let resumable = matches!(self.to, Format::Jsonl | Format::Brat | Format::Html);
        if self.resume && (!resumable || stdout) {
            return Err(Error::Usage(format!(
                "--resume needs a JSON Lines output file (-o FILE.jsonl) or a brat or html \
                 folder; {} output cannot be resumed: run again without --resume",
                self.to.name()
            )));
        }
        if self.errors.as_deref() == Some(self.output.as_path()) {
            return Err(Error::Usage(
                "--errors must be another file than the output".into(),
            ));
        }
        Ok(())
    }
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Documents read (of this shard), failures included.
    pub read: usize,
    pub annotated: usize,
    /// Documents not annotated, including failures an earlier run already recorded.
    pub failed: usize,
    /// Documents that an earlier run already wrote (`--resume`).
    pub skipped: usize,
    pub entities: usize,
    pub relations: usize,
    /// The failure that stopped the run (`--fail-fast`).
    pub stopped: Option<Failure>,
}

/// The run's state between chunks.
struct Batch<'a, A: Annotator> {
    annotator: &'a A,
    out: Sink,
    formats: &'a Options,
    errors: Option<LineWriter>,
    chunk: Vec<Sourced>,
    failures: Vec<Failure>,
    summary: Summary,
}

impl<A: Annotator> Batch<'_, A> {
    /// Record a failure, unless an earlier run (`--resume`) already did.
    fn fail(&mut self, failure: Failure, recorded: &Done) {
        self.summary.failed += 1;
        if !recorded.sources.contains(&failure.source) {
            self.failures.push(failure);
        }
    }

    /// Annotate the pending chunk and write it and the pending failures. If the model fails on
    /// the chunk, each document is tried alone so that one bad document fails alone; the first
    /// such failure is returned (for `--fail-fast`).
    fn flush(&mut self, diag: &mut Diagnostics) -> Result<Option<Failure>> {
        let mut first = None;
        let chunk = std::mem::take(&mut self.chunk);
        let (mut docs, sources): (Vec<Document>, Vec<String>) =
            chunk.into_iter().map(|s| (s.doc, s.source)).unzip();
        let mut ok = vec![true; docs.len()];
        if !docs.is_empty() && self.annotator.annotate(&mut docs).is_err() {
            for (i, doc) in docs.iter_mut().enumerate() {
                if let Err(e) = self.annotator.annotate(std::slice::from_mut(doc)) {
                    ok[i] = false;
                    self.summary.failed += 1;
                    self.out.forget(&doc.id);
                    let f = Failure::new(&doc.id, &sources[i], format!("annotation failed: {e}"));
                    first.get_or_insert_with(|| f.clone());
                    self.failures.push(f);
                }
            }
        }
        let docs: Vec<Document> = docs
            .into_iter()
            .zip(ok)
            .filter_map(|(doc, ok)| ok.then_some(doc))
            .collect();
        self.summary.annotated += docs.len();
        self.summary.entities += docs.iter().map(|d| d.entities.len()).sum::<usize>();
        self.summary.relations += docs.iter().map(|d| d.relations.len()).sum::<usize>();
        self.out.write(docs, self.formats, diag)?;
        let mut lines = String::new();
        for f in self.failures.drain(..) {
            match &self.errors {
                Some(_) => {
                    lines.push_str(&serde_json::to_string(&f).expect("a failure serialises"));
                    lines.push('\n');
                }
                None => eprintln!("failed: {f}"),
            }
        }
        if let Some(errors) = &mut self.errors {
            errors.write_lines(&lines)?;
        }
        Ok(first)
    }
}

/// Annotate every document of `source` with `annotator` and write them as `opts` says.
/// Failures of single documents are counted in the [`Summary`]; an `Err` is a failure of the
/// run itself (the output cannot be written).
pub fn run<A: Annotator>(
    source: &mut DocumentSource,
    annotator: &A,
    opts: &BatchOptions,
    diag: &mut Diagnostics,
) -> Result<Summary> {
    opts.check()?;
    let (done, recorded) = if opts.resume {
        let recorded = match &opts.errors {
            Some(path) => open_for_resume(path)?,
            None => Done::default(),
        };
        let done = match opts.to {
            Format::Jsonl => open_for_resume(&opts.output)?,
            // Folders: each document's files are looked for as it comes (`Sink::claim`).
            _ => Done::default(),
        };
        (done, recorded)
    } else {
        (Done::default(), Done::default())
    };
    let writer = |path: &PathBuf| {
        if opts.resume {
            LineWriter::append(path)
        } else {
            LineWriter::create(path)
        }
    };
    let mut batch = Batch {
        annotator,
        out: Sink::open(&opts.output, opts.to, opts.resume)?,
        formats: &opts.formats,
        errors: opts.errors.as_ref().map(writer).transpose()?,
        chunk: Vec::new(),
        failures: Vec::new(),
        summary: Summary::default(),
    };
    // Ids of this run's documents, to report duplicates; rebuilt the same way on resume, so a
    // resumed run reports the same duplicates as a clean one.
    let mut seen: HashSet<String> = HashSet::new();
    for item in source.by_ref() {
        let id = match &item {
            Ok(s) => &s.doc.id,
            Err(f) => &f.id,
        };
        if opts.shard.is_some_and(|s| !s.contains(id)) {
            continue;
        }
        batch.summary.read += 1;
        let failure = match item {
            Err(f) => Some(f),
            Ok(s) if !seen.insert(s.doc.id.clone()) => Some(Failure::new(
                &s.doc.id,
                &s.source,
                "duplicate id: an earlier document has the same id",
            )),
            // Every other document gets its file name here, failed or not, so that names
            // depend on the input alone.
            Ok(s) if done.ids.contains(&s.doc.id) || batch.out.claim(&s.doc.id, opts.resume) => {
                batch.summary.skipped += 1;
                None
            }
            Ok(s) => match rejected(&s.doc) {
                Some(reason) => {
                    batch.out.forget(&s.doc.id);
                    Some(Failure::new(&s.doc.id, &s.source, reason))
                }
                // An earlier run failed to annotate it and said so: not retried.
                None if recorded.sources.contains(&s.source) => {
                    batch.out.forget(&s.doc.id);
                    batch.summary.failed += 1;
                    None
                }
                None => {
                    batch.chunk.push(s);
                    None
                }
            },
        };
        if let Some(f) = failure {
            batch.fail(f.clone(), &recorded);
            if opts.fail_fast {
                batch.flush(diag)?;
                batch.summary.stopped = Some(f);
                break;
            }
        }
        if batch.chunk.len() >= opts.chunk_size {
            if let Some(f) = batch.flush(diag)?.filter(|_| opts.fail_fast) {
                batch.summary.stopped = Some(f);
                break;
            }
        }
    }
    if let Some(f) = batch.flush(diag)?.filter(|_| opts.fail_fast) {
        batch.summary.stopped.get_or_insert(f);
    }
    // What is left is written (the HTML index; whole-file formats with what was annotated),
    // even when --fail-fast stopped the run.
    batch
        .out
        .finish(&opts.output, opts.to, &opts.formats, diag)?;
    Ok(batch.summary)
}

#[cfg(test)]
mod tests;
