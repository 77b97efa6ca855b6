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
//! Three threads share the work without changing the order of the output: one reads, parses
//! and segments the input (decompression, JSON, [`Annotator::segmenter`]) ahead of the model, the
//! calling thread annotates a chunk, and meanwhile the previous chunk is serialised and written
//! on a third.

pub mod output;
pub mod source;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use source::{DocumentSource, SourceOptions};

use crate::document::Document;
use crate::error::{Diagnostics, Error, Result};
use crate::formats::{Format, Options};
use crate::ner::NerModel;
use crate::segment::Segmenter;
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

/// What annotates a chunk of documents in place: the NER model, the relation tagger, and
/// test doubles.
pub trait Annotator {
    /// The segmenter of documents without tokens, which then runs on the reading thread
    /// ahead of the model (`None`: the annotator needs no segmentation). Models hold tensors,
    /// which cannot be shared between threads: the segmenter can.
    fn segmenter(&self) -> Option<&Segmenter> {
        None
    }

    fn annotate(&self, docs: &mut [Document]) -> Result<()>;
}

impl Annotator for NerModel {
    fn segmenter(&self) -> Option<&Segmenter> {
        Some(NerModel::segmenter(self))
    }

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

/// A set of document ids kept as 128-bit digests (16 bytes each, whatever the ids' length), so
/// that duplicate and `--resume` checks over millions of documents stay small.
#[derive(Debug, Default)]
pub struct IdSet(HashSet<u128>);

impl IdSet {
    fn key(id: &str) -> u128 {
        let digest = Sha256::digest(id.as_bytes());
        u128::from_le_bytes(digest[..16].try_into().expect("16 bytes"))
    }

    /// Add `id`; false if it was there already.
    pub fn insert(&mut self, id: &str) -> bool {
        self.0.insert(Self::key(id))
    }

    pub fn contains(&self, id: &str) -> bool {
        // Without --resume the set of written ids is empty: no digest to compute.
        !self.0.is_empty() && self.0.contains(&Self::key(id))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
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

/// An annotated chunk waiting to be written, with the failures read up to its end.
#[derive(Default)]
struct Annotated {
    docs: Vec<Document>,
    failures: Vec<Failure>,
}

/// Where a run writes: the output and the errors file.
struct Writers<'a> {
    out: Sink,
    errors: Option<LineWriter>,
    formats: &'a Options,
}

impl Writers<'_> {
    /// Write a chunk's documents, then its failures.
    fn write(&mut self, chunk: Annotated, diag: &mut Diagnostics) -> Result<()> {
        self.out.write(chunk.docs, self.formats, diag)?;
        let mut lines = String::new();
        for f in chunk.failures {
            match &self.errors {
                Some(_) => {
                    lines.push_str(&serde_json::to_string(&f).expect("a failure serialises"));
                    lines.push('\n');
                }
                None => eprintln!("failed: {f}"),
            }
        }
        match &mut self.errors {
            Some(errors) => errors.write_lines(&lines),
            None => Ok(()),
        }
    }
}

/// The run's state between chunks.
struct Batch<'a, A: Annotator> {
    annotator: &'a A,
    writers: Writers<'a>,
    chunk: Vec<Sourced>,
    failures: Vec<Failure>,
    /// The last chunk annotated, written while the next one is annotated.
    pending: Option<Annotated>,
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

    /// Annotate the chunk read so far while the previous one (`pending`) is written on another
    /// thread; this chunk is written at the next flush or by [`Self::finish`]. If the model
    /// fails on the chunk, each document is tried alone so that one bad document fails alone;
    /// the first such failure is returned (for `--fail-fast`).
    fn flush(&mut self, diag: &mut Diagnostics) -> Result<Option<Failure>> {
        let chunk = std::mem::take(&mut self.chunk);
        let previous = self.pending.take();
        let (writers, annotator) = (&mut self.writers, self.annotator);
        let mut writer_diag = Diagnostics::new(diag.strict);
        let (annotated, written) = std::thread::scope(|s| {
            let writer = previous.map(|p| s.spawn(|| writers.write(p, &mut writer_diag)));
            let annotated = annotate_chunk(annotator, chunk);
            let written = writer.map_or(Ok(()), |w| {
                w.join().unwrap_or_else(|_| {
                    Err(Error::Usage(
                        "internal error: the writer thread panicked".into(),
                    ))
                })
            });
            (annotated, written)
        });
        diag.warnings.extend(writer_diag.warnings);
        written?;
        let (docs, failed) = annotated;
        let first = failed.first().cloned();
        for f in &failed {
            self.writers.out.forget(&f.id);
        }
        self.summary.failed += failed.len();
        self.failures.extend(failed);
        self.summary.annotated += docs.len();
        self.summary.entities += docs.iter().map(|d| d.entities.len()).sum::<usize>();
        self.summary.relations += docs.iter().map(|d| d.relations.len()).sum::<usize>();
        self.pending = Some(Annotated {
            docs,
            failures: std::mem::take(&mut self.failures),
        });
        Ok(first)
    }

    /// Annotate what is left and write everything.
    fn finish(&mut self, diag: &mut Diagnostics) -> Result<Option<Failure>> {
        let first = self.flush(diag)?;
        if let Some(last) = self.pending.take() {
            self.writers.write(last, diag)?;
        }
        Ok(first)
    }
}

/// Annotate `chunk`; the documents annotated, and the failures (documents the model failed on
/// even alone).
fn annotate_chunk<A: Annotator>(
    annotator: &A,
    chunk: Vec<Sourced>,
) -> (Vec<Document>, Vec<Failure>) {
    let (mut docs, sources): (Vec<Document>, Vec<String>) =
        chunk.into_iter().map(|s| (s.doc, s.source)).unzip();
    let mut ok = vec![true; docs.len()];
    let mut failed = Vec::new();
    if !docs.is_empty() && annotator.annotate(&mut docs).is_err() {
        for (i, doc) in docs.iter_mut().enumerate() {
            if let Err(e) = annotator.annotate(std::slice::from_mut(doc)) {
                ok[i] = false;
                failed.push(Failure::new(
                    &doc.id,
                    &sources[i],
                    format!("annotation failed: {e}"),
                ));
            }
        }
    }
    let docs = docs
        .into_iter()
        .zip(ok)
        .filter_map(|(doc, ok)| ok.then_some(doc))
        .collect();
    (docs, failed)
}

/// Documents read ahead of the model: enough to fill the next chunk while one is annotated.
fn read_ahead(chunk_size: usize) -> usize {
    chunk_size.clamp(16, 4096)
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
        writers: Writers {
            out: Sink::open(&opts.output, opts.to, opts.resume)?,
            errors: opts.errors.as_ref().map(writer).transpose()?,
            formats: &opts.formats,
        },
        chunk: Vec::new(),
        failures: Vec::new(),
        pending: None,
        summary: Summary::default(),
    };
    // Ids of this run's documents, to report duplicates; rebuilt the same way on resume, so a
    // resumed run reports the same duplicates as a clean one.
    let mut seen = IdSet::default();
    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel(read_ahead(opts.chunk_size));
        let (done, segmenter) = (&done, annotator.segmenter());
        s.spawn(move || {
            for mut item in source.by_ref() {
                let id = match &item {
                    Ok(s) => &s.doc.id,
                    Err(f) => &f.id,
                };
                if opts.shard.is_some_and(|s| !s.contains(id)) {
                    continue;
                }
                // Written by an earlier run (--resume): decided here once, and not segmented.
                let written = matches!(&item, Ok(s) if done.ids.contains(&s.doc.id));
                if let (Ok(s), Some(segmenter)) = (&mut item, segmenter) {
                    if s.doc.tokens.is_empty() && !written {
                        segmenter.segment(&mut s.doc);
                    }
                }
                // The receiver is gone when the run stopped early (--fail-fast, an error).
                if tx.send((item, written)).is_err() {
                    break;
                }
            }
        });
        for (item, written) in rx {
            batch.summary.read += 1;
            let failure = match item {
                Err(f) => Some(f),
                Ok(s) if !seen.insert(&s.doc.id) => Some(Failure::new(
                    &s.doc.id,
                    &s.source,
                    "duplicate id: an earlier document has the same id",
                )),
                // Every other document gets its file name here, failed or not, so that names
                // depend on the input alone.
                Ok(s) if written || batch.writers.out.claim(&s.doc.id, opts.resume) => {
                    batch.summary.skipped += 1;
                    None
                }
                Ok(s) => match rejected(&s.doc) {
                    Some(reason) => {
                        batch.writers.out.forget(&s.doc.id);
                        Some(Failure::new(&s.doc.id, &s.source, reason))
                    }
                    // An earlier run failed to annotate it and said so: not retried.
                    None if recorded.sources.contains(&s.source) => {
                        batch.writers.out.forget(&s.doc.id);
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
        Ok(())
    })?;
    if let Some(f) = batch.finish(diag)?.filter(|_| opts.fail_fast) {
        batch.summary.stopped.get_or_insert(f);
    }
    // What is left is written (the HTML index; whole-file formats with what was annotated),
    // even when --fail-fast stopped the run.
    batch
        .writers
        .out
        .finish(&opts.output, opts.to, &opts.formats, diag)?;
    Ok(batch.summary)
}

#[cfg(test)]
mod tests;
