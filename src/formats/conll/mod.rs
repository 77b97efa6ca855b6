//! CoNLL column files: one token per line, whitespace-separated columns (token first, entity tag
//! in the last column unless `--tag-column` says otherwise), blank lines between sentences, and
//! a `-DOCSTART-` line at the start of each document.
//!
//! Reading keeps everything a CoNLL file holds besides tokens and tags in `Document::meta`, so
//! that CoNLL -> JSONL -> CoNLL gives back the same bytes (this is checked on all six
//! CoNLL-2003 files by `tests/conll_roundtrip.rs`):
//!
//! | key | value |
//! |---|---|
//! | `conll_columns` | per token, the other columns (not token, not tag), in order |
//! | `conll_tag_column` | the 0-based tag column, only when it was chosen with `--tag-column` |
//! | `conll_docstart` | the columns of the document's `-DOCSTART-` line, when it had one |
//! | `conll_separator` | `"\t"` when the document's columns were separated by tabs |
//! | `conll_tags` | per token, its tag as written; only with `ConllOptions::keep_tags` |
//! | `conll_trailing_newlines` | on the last document only: how many newlines ended the file, when not what the writer would write anyway |
//!
//! The layout the writer produces, and so the only layout that round-trips byte for byte: one
//! blank line after every sentence and after every `-DOCSTART-` line (except the `-DOCSTART-`
//! of an empty document at the very end of the file, as in the IOB1 copy of CoNLL-2003),
//! columns separated by one space (or one tab). Other spacing is read but written normalised.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::document::{Document, Entity, Span};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::Options;
use crate::offsets::CharIndex;
use crate::segment::Segmenter;
use crate::tags::{self, TagScheme, TagSpan};

pub const META_COLUMNS: &str = "conll_columns";
pub const META_TAG_COLUMN: &str = "conll_tag_column";
pub const META_DOCSTART: &str = "conll_docstart";
pub const META_SEPARATOR: &str = "conll_separator";
pub const META_TRAILING_NEWLINES: &str = "conll_trailing_newlines";
/// Raw tags per token, kept only when asked (`ConllOptions::keep_tags`), for token accuracy.
pub const META_TAGS: &str = "conll_tags";

const DOCSTART: &str = "-DOCSTART-";

/// Read a CoNLL file. Document ids are `<file stem>-<n>`, `n` counting documents from 1.
pub fn parse(
    content: &str,
    loc: &Location,
    opts: &Options,
    diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let stem = loc
        .file
        .as_ref()
        .filter(|p| p.as_os_str() != "-")
        .and_then(|p| p.file_stem())
        .map_or_else(|| "doc".to_string(), |s| s.to_string_lossy().into_owned());
    let mut reader = Reader {
        loc,
        tag_column: opts.conll.tag_column,
        scheme: opts.conll.scheme,
        strict_chunks: opts.conll.strict_chunks,
        keep_tags: opts.conll.keep_tags,
        diag,
    };
    let mut docs = Vec::new();
    let mut doc = DocBuilder::new(format!("{stem}-1"), None);
    doc.keep_tags(reader.keep_tags);
    let mut sentence = Sentence::default();
    for (i, line) in content.lines().enumerate() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        match cols.first() {
            None => reader.end_sentence(&mut doc, &mut sentence)?,
            Some(&DOCSTART) => {
                reader.end_sentence(&mut doc, &mut sentence)?;
                if doc.started() {
                    docs.push(doc.finish(reader.tag_column));
                }
                let columns = cols.iter().map(|c| c.to_string()).collect();
                doc = DocBuilder::new(format!("{stem}-{}", docs.len() + 1), Some(columns));
                doc.keep_tags(reader.keep_tags);
            }
            Some(_) => reader.add_token(&mut doc, &mut sentence, &cols, line, i + 1)?,
        }
    }
    reader.end_sentence(&mut doc, &mut sentence)?;
    if doc.started() {
        docs.push(doc.finish(reader.tag_column));
    }
    if let Some(last) = docs.last_mut() {
        let newlines = content.len() - content.trim_end_matches('\n').len();
        if newlines != default_trailing_newlines(last) {
            last.meta
                .insert(META_TRAILING_NEWLINES.into(), Value::from(newlines));
        }
    }
    Ok(docs)
}

struct Reader<'a, 'd> {
    loc: &'a Location,
    tag_column: Option<usize>,
    scheme: TagScheme,
    strict_chunks: bool,
    keep_tags: bool,
    diag: &'d mut Diagnostics,
}

/// The sentence being read: its tags and the line of each token, for messages.
#[derive(Default)]
struct Sentence<'c> {
    first_token: usize,
    columns: usize,
    first_line: usize,
    tags: Vec<&'c str>,
    lines: Vec<usize>,
}

/// A document being read; `text` grows token by token so offsets are known as we go.
#[derive(Default)]
struct DocBuilder {
    id: String,
    docstart: Option<Vec<String>>,
    text: String,
    chars: usize,
    sentences: Vec<Span>,
    tokens: Vec<Span>,
    extra: Vec<Vec<String>>,
    tabs: Option<bool>,
    entities: Vec<(usize, usize, String)>,
    /// Raw tags, filled only when the reader keeps them.
    raw_tags: Option<Vec<String>>,
}

impl DocBuilder {
    fn new(id: String, docstart: Option<Vec<String>>) -> Self {
        DocBuilder {
            id,
            docstart,
            ..Default::default()
        }
    }

    fn keep_tags(&mut self, keep: bool) {
        self.raw_tags = keep.then(Vec::new);
    }

    /// A file that starts with text (the IOB1 CoNLL-2003 copy) has a first document without a
    /// DOCSTART line; one that starts with DOCSTART has no such document.
    fn started(&self) -> bool {
        self.docstart.is_some() || !self.tokens.is_empty()
    }

    fn finish(self, tag_column: Option<usize>) -> Document {
        let mut doc = Document::new(self.id, self.text);
        doc.sentences = self.sentences;
        doc.tokens = self.tokens;
        let ix = CharIndex::new(&doc.text);
        for (n, (start, end, label)) in self.entities.into_iter().enumerate() {
            let text = ix.slice(start, end).unwrap_or_default().to_string();
            doc.entities.push(Entity {
                id: format!("T{}", n + 1),
                start,
                end,
                label,
                text,
                score: None,
            });
        }
        let mut meta = Map::new();
        if let Some(cols) = self.docstart {
            meta.insert(META_DOCSTART.into(), Value::from(cols));
        }
        if self.tabs == Some(true) {
            meta.insert(META_SEPARATOR.into(), Value::from("\t"));
        }
        if self.extra.iter().any(|e| !e.is_empty()) {
            if let Some(k) = tag_column {
                meta.insert(META_TAG_COLUMN.into(), Value::from(k));
            }
            let cols = self.extra.into_iter().map(Value::from).collect();
            meta.insert(META_COLUMNS.into(), Value::Array(cols));
        }
        if let Some(tags) = self.raw_tags {
            meta.insert(META_TAGS.into(), Value::from(tags));
        }
        doc.meta = meta;
        doc
    }
}

impl<'c> Reader<'_, '_> {
    fn add_token(
        &mut self,
        doc: &mut DocBuilder,
        sentence: &mut Sentence<'c>,
        cols: &[&'c str],
        line: &str,
        line_no: usize,
    ) -> Result<()> {
        let n = cols.len();
        let problem = match self.tag_column {
            _ if !sentence.tags.is_empty() && n != sentence.columns => Some(format!(
                "{n} columns, but the sentence started on line {} has {}",
                sentence.first_line, sentence.columns
            )),
            _ if n < 2 => Some(format!(
                "a token line needs at least two columns (token and tag), found '{line}'"
            )),
            Some(0) => Some("column 1 holds the token; the tag column must be another".into()),
            Some(k) if k >= n => Some(format!(
                "the tag column is column {}, but this line has only {n} columns",
                k + 1
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(Error::input(
                &self.loc.at_line(line_no).in_doc(&doc.id),
                problem,
            ));
        }
        let tag_ix = self.tag_column.unwrap_or(n - 1);
        doc.tabs.get_or_insert_with(|| line.contains('\t'));
        let joiner = match sentence.tags.is_empty() {
            true if doc.sentences.is_empty() => None,
            true => Some('\n'),
            false => Some(' '),
        };
        if sentence.tags.is_empty() {
            sentence.columns = n;
            sentence.first_line = line_no;
            sentence.first_token = doc.tokens.len();
        }
        if let Some(c) = joiner {
            doc.text.push(c);
            doc.chars += 1;
        }
        let token = cols[0];
        let len = token.chars().count();
        doc.tokens.push(Span::new(doc.chars, doc.chars + len));
        doc.text.push_str(token);
        doc.chars += len;
        let extra = cols
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 0 && i != tag_ix)
            .map(|(_, c)| c.to_string())
            .collect();
        doc.extra.push(extra);
        sentence.tags.push(cols[tag_ix]);
        if let Some(raw) = doc.raw_tags.as_mut() {
            raw.push(cols[tag_ix].to_string());
        }
        sentence.lines.push(line_no);
        Ok(())
    }

    /// Decode the sentence's tags into entities (warning about repairs) and close it.
    fn end_sentence(&mut self, doc: &mut DocBuilder, sentence: &mut Sentence<'c>) -> Result<()> {
        if sentence.tags.is_empty() {
            return Ok(());
        }
        let at = |i: usize| self.loc.at_line(sentence.lines[i]).in_doc(&doc.id);
        let spans = if self.strict_chunks {
            // seqeval's strict mode: invalid chunks are not chunks; nothing to warn about.
            tags::decode_strict(&sentence.tags, self.scheme)
                .map_err(|(i, reason)| Error::input(&at(i), reason))?
        } else {
            let (spans, repairs) = tags::decode(&sentence.tags, self.scheme)
                .map_err(|(i, reason)| Error::input(&at(i), reason))?;
            for repair in repairs {
                self.diag.warn(&at(repair.index), repair.message)?;
            }
            spans
        };
        let first = sentence.first_token;
        for span in spans {
            let start = doc.tokens[first + span.start].start;
            let end = doc.tokens[first + span.end - 1].end;
            doc.entities.push((start, end, span.label));
        }
        doc.sentences
            .push(Span::new(doc.tokens[first].start, doc.chars));
        sentence.tags.clear();
        sentence.lines.clear();
        Ok(())
    }
}

/// Newlines the writer puts at the end of a file whose last document is `doc`: a blank line
/// after the last sentence, or just the line end of a trailing empty document's `-DOCSTART-`.
fn default_trailing_newlines(doc: &Document) -> usize {
    if doc.tokens.is_empty() {
        usize::from(doc.meta.contains_key(META_DOCSTART))
    } else {
        2
    }
}

/// Write documents as CoNLL with tags in `opts.conll.scheme`.
///
/// Documents without tokens are segmented first. Other columns and `-DOCSTART-` lines come back
/// from `meta` (see the module documentation). A document without `conll_docstart` gets a
/// `-DOCSTART-` line when it is not the first one (otherwise it would merge with the previous
/// document on reading), and the first document gets one when there are several documents and
/// none carries `conll_docstart` (it is not a CoNLL file being written back, whose first
/// document may legitimately have none). What CoNLL cannot hold (overlapping or misaligned
/// entities, relations) is dropped with a warning, so `--strict` refuses it.
pub fn write(docs: &[Document], opts: &Options, diag: &mut Diagnostics) -> Result<String> {
    let from_conll = docs.iter().any(|d| d.meta.contains_key(META_DOCSTART));
    let mut out = String::new();
    for (n, doc) in docs.iter().enumerate() {
        let docstart = n > 0 || (docs.len() > 1 && !from_conll);
        let last = n + 1 == docs.len();
        write_doc(&mut out, doc, opts.conll.scheme, docstart, last, diag)?;
    }
    let wanted = docs.last().and_then(|d| d.meta.get(META_TRAILING_NEWLINES));
    if let Some(wanted) = wanted.and_then(Value::as_u64) {
        out.truncate(out.trim_end_matches('\n').len());
        out.extend(std::iter::repeat_n('\n', wanted as usize));
    }
    Ok(out)
}

fn write_doc(
    out: &mut String,
    doc: &Document,
    scheme: TagScheme,
    add_docstart: bool,
    last: bool,
    diag: &mut Diagnostics,
) -> Result<()> {
    let loc = Location::default().in_doc(&doc.id);
    let segmented;
    let doc_tokens: &Document = if doc.tokens.is_empty() && !doc.text.trim().is_empty() {
        let mut d = doc.clone();
        Segmenter::default().segment(&mut d);
        segmented = d;
        &segmented
    } else {
        doc
    };
    let tokens = &doc_tokens.tokens;
    let ix = CharIndex::new(&doc.text);
    let mut words = Vec::with_capacity(tokens.len());
    for t in tokens {
        let span = format!("[{}, {}]", t.start, t.end);
        let word = ix.slice(t.start, t.end).filter(|w| !w.is_empty());
        let word = word.ok_or_else(|| {
            Error::input(&loc, format!("token {span} is empty or outside the text"))
        })?;
        let fixed = word.replace(char::is_whitespace, "_");
        if fixed != word {
            let message = format!("token '{word}' {span} contains whitespace: written '{fixed}'");
            diag.warn(&loc, message)?;
        }
        words.push(fixed);
    }
    let groups = sentence_groups(tokens, &doc_tokens.sentences);
    let spans = entity_spans(doc, tokens, &groups, &loc, diag)?;
    if !doc.relations.is_empty() {
        let n = doc.relations.len();
        let message = format!("dropped {n} relation(s): CoNLL cannot hold relations");
        diag.warn(&loc, message)?;
    }
    let extra = extra_columns(doc, tokens.len(), &loc, diag)?;
    let tag_column = doc
        .meta
        .get(META_TAG_COLUMN)
        .and_then(Value::as_u64)
        .map(|k| k as usize);
    let sep = match doc.meta.get(META_SEPARATOR).and_then(Value::as_str) {
        Some("\t") => "\t",
        _ => " ",
    };
    let line = |word: &str, tag: &str, extra: &[String]| -> String {
        let mut cols: Vec<&str> = std::iter::once(word)
            .chain(extra.iter().map(String::as_str))
            .collect();
        let pos = tag_column.unwrap_or(cols.len()).clamp(1, cols.len());
        cols.insert(pos, tag);
        cols.join(sep)
    };

    let docstart = match doc.meta.get(META_DOCSTART).and_then(Value::as_array) {
        Some(cols) => Some(cols.iter().map(value_str).collect::<Vec<_>>().join(sep)),
        None if add_docstart => {
            // Padded like CoNLL-2003's `-DOCSTART- -X- -X- O`: `-X-` for every other column.
            let width = extra.as_ref().and_then(|e| e.first()).map_or(0, Vec::len);
            Some(line(DOCSTART, "O", &vec!["-X-".to_string(); width]))
        }
        None => None,
    };
    if let Some(docstart) = docstart {
        out.push_str(&docstart);
        out.push('\n');
        if !(tokens.is_empty() && last) {
            out.push('\n');
        }
    }
    let mut spans = spans.into_iter().peekable();
    for group in groups {
        let mut local = Vec::new();
        while let Some(s) = spans.next_if(|s| s.start < group.end) {
            local.push(TagSpan::new(
                s.start - group.start,
                s.end - group.start,
                s.label,
            ));
        }
        let tags = tags::encode(&local, group.len(), scheme);
        for (t, tag) in group.clone().zip(tags) {
            let e = extra.as_ref().map_or(&[][..], |e| e[t].as_slice());
            out.push_str(&line(&words[t], &tag, e));
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(())
}

fn value_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Token index ranges of the sentences: a token belongs to the last sentence that starts at or
/// before it; tokens before any sentence (or a document without sentences) form one group.
fn sentence_groups(tokens: &[Span], sentences: &[Span]) -> Vec<std::ops::Range<usize>> {
    let mut starts: Vec<usize> = sentences.iter().map(|s| s.start).collect();
    starts.sort_unstable();
    let sentence_of = |t: &Span| starts.partition_point(|&s| s <= t.start);
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if sentence_of(&tokens[g.start]) == sentence_of(t) => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    groups
}

/// The document's entities as token spans (sorted, non-overlapping, inside one sentence each),
/// warning about each entity that cannot be written.
fn entity_spans(
    doc: &Document,
    tokens: &[Span],
    groups: &[std::ops::Range<usize>],
    loc: &Location,
    diag: &mut Diagnostics,
) -> Result<Vec<TagSpan>> {
    let starts: HashMap<usize, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.start, i))
        .collect();
    let ends: HashMap<usize, usize> = tokens.iter().enumerate().map(|(i, t)| (t.end, i)).collect();
    let mut group_of = vec![0; tokens.len()];
    for (g, range) in groups.iter().enumerate() {
        group_of[range.clone()].fill(g);
    }
    let describe = |e: &Entity| format!("{} '{}' [{}, {}]", e.id, e.text, e.start, e.end);
    let mut candidates = Vec::new();
    for e in &doc.entities {
        let problem = match (starts.get(&e.start), ends.get(&e.end)) {
            _ if e.label.is_empty() || e.label.contains(char::is_whitespace) => {
                format!("its label '{}' cannot be written in a CoNLL tag", e.label)
            }
            (Some(&a), Some(&b)) if a <= b && group_of[a] == group_of[b] => {
                candidates.push((a, b + 1, e));
                continue;
            }
            (Some(_), Some(_)) => "it crosses a sentence boundary".to_string(),
            _ => "it does not align to token boundaries".to_string(),
        };
        diag.warn(loc, format!("dropped entity {}: {problem}", describe(e)))?;
    }
    // Earliest first; at the same start the longer mention wins.
    candidates.sort_by_key(|&(a, b, _)| (a, std::cmp::Reverse(b)));
    let mut kept: Vec<(usize, usize, &Entity)> = Vec::new();
    for (a, b, e) in candidates {
        if let Some(&(_, _, prev)) = kept.last().filter(|k| a < k.1) {
            let (e, prev) = (describe(e), describe(prev));
            let why = format!("BIO cannot hold overlapping entities (kept {prev})");
            diag.warn(loc, format!("dropped overlapping entity {e}: {why}"))?;
            continue;
        }
        kept.push((a, b, e));
    }
    Ok(kept
        .into_iter()
        .map(|(a, b, e)| TagSpan::new(a, b, e.label.as_str()))
        .collect())
}

/// The `conll_columns` meta as strings per token, when present and still matching the tokens.
fn extra_columns(
    doc: &Document,
    n_tokens: usize,
    loc: &Location,
    diag: &mut Diagnostics,
) -> Result<Option<Vec<Vec<String>>>> {
    let Some(value) = doc.meta.get(META_COLUMNS) else {
        return Ok(None);
    };
    let rows = value.as_array().map(|rows| {
        rows.iter()
            .map(|r| r.as_array().map(|c| c.iter().map(value_str).collect()))
            .collect::<Option<Vec<Vec<String>>>>()
    });
    let rows = rows.flatten();
    let problem = match &rows {
        Some(r) if r.len() == n_tokens => return Ok(rows),
        Some(r) => format!("{} rows for {n_tokens} tokens", r.len()),
        None => "not an array of arrays".to_string(),
    };
    let message = format!("{META_COLUMNS} is {problem}: extra columns left out");
    diag.warn(loc, message)?;
    Ok(None)
}

#[cfg(test)]
mod tests;
