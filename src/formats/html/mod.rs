//! HTML (write only): a folder with one static page per document and an `index.html` linking
//! them, for people to read what was found, as displaCy shows it.
//!
//! A page has the text with every entity highlighted inline (a coloured mark with its label,
//! displaCy's "ent" style); above each sentence that holds relations, an inline SVG draws that
//! sentence's related entities in text order with a labelled arc from head to tail (arrowhead
//! at the tail; at both ends when the same label links the two entities both ways); then the
//! relations and the entities in tables. CSS and SVG are inline: no script, no external
//! resource. Every piece of text from the data goes through [`esc`], so a story containing
//! `<script>` shows as text; file names come from ids only through [`FileNames`].
//!
//! Each page carries its index row in `<meta name="ertag-index">` so that a resumed batch run
//! can rebuild `index.html` without the documents it skipped. Partially overlapping entities
//! (not nested) cannot be drawn inline: the later one is left plain and listed in the table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::document::{Document, Entity, Relation, Span};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::{write_atomic, FileNames};
use crate::offsets::CharIndex;
use crate::segment::Segmenter;

mod figure;
use figure::figure;

pub const INDEX: &str = "index.html";
const META: &str = "<meta name=\"ertag-index\" content=\"";

/// Escape text for element content and attribute values. C0 control characters (other than
/// tab and line breaks) are shown as their Unicode control pictures, one character for one,
/// since HTML cannot hold them.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('\u{2421}'),
            _ => out.push(c),
        }
    }
    out
}

fn unesc(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// displaCy's colours for the usual labels; others get one of a fixed set by a hash of the
/// label, so a label has the same colour on every page.
pub fn colour(label: &str) -> &'static str {
    match label.to_uppercase().as_str() {
        "PER" | "PERSON" => "#aa9cfc",
        "ORG" => "#7aecec",
        "LOC" | "FAC" => "#ff9561",
        "GPE" => "#feca74",
        "MISC" | "NORP" => "#c887fb",
        "DATE" | "TIME" => "#bfe1d9",
        "EVENT" => "#ffeb80",
        _ => {
            const MORE: [&str; 8] = [
                "#9cc9cc", "#e4e7d2", "#f0c0a8", "#b5d99c", "#f5b7d3", "#c9d6f2", "#ffd27f",
                "#d6c4a8",
            ];
            MORE[(crate::annotate::fnv1a64(label.as_bytes()) % 8) as usize]
        }
    }
}

/// One row of `index.html`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: String,
    /// The page's file name in the folder.
    pub file: String,
    pub chars: usize,
    pub entities: usize,
    pub relations: usize,
    /// Entities per label.
    pub labels: BTreeMap<String, usize>,
}

impl IndexEntry {
    pub fn of(doc: &Document, file: &str) -> Self {
        let mut labels = BTreeMap::new();
        for e in &doc.entities {
            *labels.entry(e.label.clone()).or_insert(0) += 1;
        }
        IndexEntry {
            id: doc.id.clone(),
            file: file.into(),
            chars: crate::offsets::char_len(&doc.text),
            entities: doc.entities.len(),
            relations: doc.relations.len(),
            labels,
        }
    }

    /// The row an earlier run stored in the page at `path`, if the page is complete.
    pub fn read(path: &Path) -> Option<Self> {
        let page = std::fs::read_to_string(path).ok()?;
        if !page.trim_end().ends_with("</html>") {
            return None;
        }
        let start = page.find(META)? + META.len();
        let len = page[start..].find('"')?;
        serde_json::from_str(&unesc(&page[start..start + len])).ok()
    }
}

/// A folder of pages, written one document at a time; [`HtmlDir::finish`] writes the index.
pub struct HtmlDir {
    dir: PathBuf,
    names: FileNames,
    entries: Vec<IndexEntry>,
}

impl HtmlDir {
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut names = FileNames::default();
        names.reserve("index");
        Ok(HtmlDir {
            dir: dir.into(),
            names,
            entries: Vec::new(),
        })
    }

    /// The file name for the next document `id` (`<stem>.html`, unique in the folder).
    pub fn name(&mut self, id: &str) -> String {
        format!("{}.html", self.names.claim(id))
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Write `doc`'s page as `file` (from [`HtmlDir::name`]), replacing it in one rename.
    pub fn write(&mut self, doc: &Document, file: &str) -> Result<()> {
        if let Some(problem) = doc.problems().into_iter().next() {
            return Err(Error::input(&Location::default().in_doc(&doc.id), problem));
        }
        let entry = IndexEntry::of(doc, file);
        write_atomic(&self.dir.join(file), render_page(doc, &entry).as_bytes())?;
        self.entries.push(entry);
        Ok(())
    }

    /// List a page that is already there (a resumed run), in its place in the index.
    pub fn keep(&mut self, entry: IndexEntry) {
        self.entries.push(entry);
    }

    /// Write `index.html`, rows in the order given by `order` (document ids to positions), or
    /// in writing order.
    pub fn finish(mut self, order: Option<&dyn Fn(&str) -> usize>) -> Result<()> {
        if let Some(order) = order {
            self.entries.sort_by_key(|e| order(&e.id));
        }
        write_atomic(
            &self.dir.join(INDEX),
            render_index(&self.entries).as_bytes(),
        )
    }
}

/// Write one page per document into `dir`, and the index.
pub fn write_dir(docs: &[Document], dir: &Path, _diag: &mut Diagnostics) -> Result<()> {
    let mut out = HtmlDir::create(dir)?;
    for doc in docs {
        let file = out.name(&doc.id);
        out.write(doc, &file)?;
    }
    out.finish(None)
}

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em auto;
max-width:1100px;color:#1d2433;padding:0 1em;background:#fff}
h1{font-size:1.4em;margin:.2em 0;overflow-wrap:anywhere}h2{font-size:1.1em;margin:1.4em 0 .5em;
border-bottom:1px solid #d8dee9;padding-bottom:.2em}
a{color:#2e5fa8}.sub{color:#4c566a;font-size:.9em}
.doc{white-space:pre-wrap;line-height:2.5;font-size:1.02em;overflow-wrap:anywhere}
mark.e{padding:.2em .35em;margin:0 .1em;border-radius:.35em;line-height:1;color:#1d2433;
box-decoration-break:clone;-webkit-box-decoration-break:clone}
mark.e mark.e{padding:.05em .25em}
mark.e .l{font-size:.62em;font-weight:700;text-transform:uppercase;margin-left:.45em;
vertical-align:middle;letter-spacing:.02em}
.fig{white-space:normal;line-height:1;overflow-x:auto;margin:.6em 0 .1em}
.fig svg{display:block}
table{border-collapse:collapse;font-size:.9em;margin:.3em 0;width:100%}
th,td{padding:.3em .6em;border-bottom:1px solid #e5e9f0;text-align:left;vertical-align:top}
th{background:#f3f5f9}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chip{padding:.05em .35em;border-radius:.3em;white-space:nowrap}
.chip b{font-size:.7em;margin-left:.35em}
.legend .chip{margin-right:.5em}
td.s{color:#4c566a;font-size:.92em}
a.c{text-decoration:none;color:inherit}
";

fn page_head(out: &mut String, title: &str, meta: Option<&str>) {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    if let Some(m) = meta {
        let _ = writeln!(out, "{META}{}\">", esc(m));
    }
    let _ = writeln!(
        out,
        "<title>{}</title><style>{CSS}</style></head><body>",
        esc(title)
    );
}

fn chip(out: &mut String, label: &str, text: Option<&str>) {
    let _ = match text {
        Some(t) => write!(
            out,
            "<span class=\"chip\" style=\"background:{}\">{}<b>{}</b></span>",
            colour(label),
            esc(t),
            esc(label)
        ),
        None => write!(
            out,
            "<span class=\"chip\" style=\"background:{}\"><b>{}</b></span>",
            colour(label),
            esc(label)
        ),
    };
}

/// The page of one document.
pub fn render_page(doc: &Document, entry: &IndexEntry) -> String {
    let ix = CharIndex::new(&doc.text);
    let mut out = String::new();
    let meta = serde_json::to_string(entry).expect("an index entry serialises");
    page_head(&mut out, &format!("{} - ertag", doc.id), Some(&meta));
    let _ = write!(
        out,
        "<p class=\"sub\"><a href=\"{INDEX}\">all documents</a></p>\n<h1>{}</h1>\n\
         <p class=\"sub\">{} characters, {} entities, {} relations</p>\n<p class=\"legend\">",
        esc(&doc.id),
        entry.chars,
        entry.entities,
        entry.relations
    );
    for label in entry.labels.keys() {
        chip(&mut out, label, None);
    }
    out.push_str("</p>\n<div class=\"doc\">");
    let (marks, hidden) = inline_entities(doc);
    let blocks = blocks(doc, &ix);
    let mut next = 0;
    for (b, block) in blocks.iter().enumerate() {
        let rels: Vec<&Relation> = doc
            .relations
            .iter()
            .filter(|r| relation_block(doc, &blocks, r) == Some(b))
            .collect();
        if !rels.is_empty() {
            out.push_str("<div class=\"fig\">");
            figure(&mut out, doc, &ix, &rels);
            out.push_str("</div>");
        }
        marked(&mut out, doc, &ix, *block, &marks, &mut next);
    }
    out.push_str("</div>\n");
    if hidden > 0 {
        let _ = writeln!(
            out,
            "<p class=\"sub\">{hidden} entities overlap another one partly and are not highlighted in the text; they are in the table.</p>"
        );
    }
    relation_table(&mut out, doc, &ix, &blocks);
    entity_table(&mut out, doc);
    out.push_str("</body></html>\n");
    out
}

/// The entities drawn inline (indices into `doc.entities`, nested or disjoint, in text
/// order), and how many were left out for overlapping another partly.
fn inline_entities(doc: &Document) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..doc.entities.len()).collect();
    order.sort_by_key(|&i| {
        (
            doc.entities[i].start,
            std::cmp::Reverse(doc.entities[i].end),
        )
    });
    let (mut kept, mut open, mut hidden) = (Vec::new(), Vec::<usize>::new(), 0);
    for i in order {
        let e = &doc.entities[i];
        while open.last().is_some_and(|&end| end <= e.start) {
            open.pop();
        }
        if open.last().is_some_and(|&end| e.end > end) {
            hidden += 1;
            continue;
        }
        open.push(e.end);
        kept.push(i);
    }
    (kept, hidden)
}

/// The text cut into blocks at sentence starts: each sentence with the whitespace after it,
/// merged where an entity or a relation would cross a boundary. Covers the whole text.
fn blocks(doc: &Document, ix: &CharIndex) -> Vec<Span> {
    static SEGMENTER: OnceLock<Segmenter> = OnceLock::new();
    let len = ix.char_len();
    let sentences = if doc.sentences.is_empty() {
        SEGMENTER.get_or_init(Segmenter::new).sentences(&doc.text)
    } else {
        doc.sentences.clone()
    };
    let mut starts: Vec<usize> = sentences
        .iter()
        .map(|s| s.start)
        .filter(|&s| s < len)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut spans: Vec<Span> = doc.entities.iter().map(Entity::span).collect();
    for r in &doc.relations {
        if let (Some(h), Some(t)) = (doc.entity(&r.head), doc.entity(&r.tail)) {
            spans.push(Span::new(h.start.min(t.start), h.end.max(t.end)));
        }
    }
    starts.retain(|&s| s > 0 && !spans.iter().any(|sp| sp.start < s && s < sp.end));
    let mut bounds = vec![0];
    bounds.extend(starts);
    bounds.push(len);
    bounds.windows(2).map(|w| Span::new(w[0], w[1])).collect()
}

fn relation_block(doc: &Document, blocks: &[Span], r: &Relation) -> Option<usize> {
    let start = doc.entity(&r.head)?.start.min(doc.entity(&r.tail)?.start);
    blocks
        .iter()
        .position(|b| b.start <= start && start < b.end)
}

/// `block` of the text with the inline entities in it marked (`next` walks `marks`).
fn marked(
    out: &mut String,
    doc: &Document,
    ix: &CharIndex,
    block: Span,
    marks: &[usize],
    next: &mut usize,
) {
    let mut pos = block.start;
    while let Some(&i) = marks
        .get(*next)
        .filter(|&&i| doc.entities[i].start < block.end)
    {
        let e = &doc.entities[i];
        out.push_str(&esc(ix.slice(pos, e.start).unwrap_or_default()));
        let score = e.score.map(|s| format!(" {s:.3}")).unwrap_or_default();
        let _ = write!(
            out,
            "<mark class=\"e\" id=\"e{i}\" style=\"background:{}\" title=\"{} [{}, {}){score}\">",
            colour(&e.label),
            esc(&e.label),
            e.start,
            e.end
        );
        *next += 1;
        marked(out, doc, ix, e.span(), marks, next);
        let _ = write!(out, "<span class=\"l\">{}</span></mark>", esc(&e.label));
        pos = e.end;
    }
    out.push_str(&esc(ix.slice(pos, block.end).unwrap_or_default()));
}

fn relation_table(out: &mut String, doc: &Document, ix: &CharIndex, blocks: &[Span]) {
    if doc.relations.is_empty() {
        return;
    }
    out.push_str("<h2>relations</h2>\n<table><tr><th>head</th><th>label</th><th>tail</th><th>score</th><th>sentence</th></tr>\n");
    let arg = |out: &mut String, id: &str| match doc.entities.iter().position(|e| e.id == id) {
        Some(i) => {
            let e = &doc.entities[i];
            let _ = write!(out, "<a class=\"c\" href=\"#e{i}\">");
            chip(out, &e.label, Some(&e.text));
            out.push_str("</a>");
        }
        None => out.push_str(&esc(id)),
    };
    for r in &doc.relations {
        out.push_str("<tr><td>");
        arg(out, &r.head);
        let _ = write!(out, "</td><td>{}</td><td>", esc(&r.label));
        arg(out, &r.tail);
        let score = r.score.map(|s| format!("{s:.3}")).unwrap_or_default();
        let span = r
            .evidence
            .or_else(|| relation_block(doc, blocks, r).map(|b| blocks[b]));
        let sentence = span
            .and_then(|s| ix.slice(s.start, s.end))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "</td><td class=\"n\">{score}</td><td class=\"s\">{}</td></tr>",
            esc(sentence.trim())
        );
    }
    out.push_str("</table>\n");
}

fn entity_table(out: &mut String, doc: &Document) {
    if doc.entities.is_empty() {
        return;
    }
    out.push_str("<h2>entities</h2>\n<table><tr><th>id</th><th>entity</th><th>start</th><th>end</th><th>score</th></tr>\n");
    for (i, e) in doc.entities.iter().enumerate() {
        let _ = write!(out, "<tr><td><a href=\"#e{i}\">{}</a></td><td>", esc(&e.id));
        chip(out, &e.label, Some(&e.text));
        let score = e.score.map(|s| format!("{s:.3}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{score}</td></tr>",
            e.start, e.end
        );
    }
    out.push_str("</table>\n");
}

/// A file name as a link target: bytes outside ASCII percent-encoded.
fn href(file: &str) -> String {
    file.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `index.html`: every page with its counts.
pub fn render_index(entries: &[IndexEntry]) -> String {
    let mut out = String::new();
    page_head(&mut out, "ertag annotations", None);
    let total = |f: &dyn Fn(&IndexEntry) -> usize| entries.iter().map(f).sum::<usize>();
    let _ = write!(
        out,
        "<h1>ertag annotations</h1>\n<p class=\"sub\">{} documents, {} entities, {} relations</p>\n\
         <table><tr><th>document</th><th>characters</th><th>entities</th><th>relations</th><th>labels</th></tr>\n",
        entries.len(),
        total(&|e| e.entities),
        total(&|e| e.relations)
    );
    for e in entries {
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
            href(&e.file),
            esc(&e.id),
            e.chars,
            e.entities,
            e.relations
        );
        for (label, n) in &e.labels {
            chip(&mut out, label, Some(&n.to_string()));
            out.push(' ');
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests;
