//! Reading and writing annotated documents in the formats users have.
//!
//! Each format is one module. Single-file formats expose
//! `parse(text, &Location, &Options, &mut Diagnostics) -> Result<Vec<Document>>` and
//! `write(&[Document], &Options, &mut Diagnostics) -> Result<String>`; directory formats (plain
//! text, brat) read and write a folder. [`read`] and [`write`] dispatch on [`Format`] and check
//! every document read ([`check`]), so a malformed input is an error that names file, line or
//! document, never a silently wrong annotation.

pub mod brat;
pub mod conll;
pub mod conll04;
pub mod doccano;
pub mod html;
pub mod jsonl;
pub mod label_studio;
pub mod standoff;
pub mod text;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::document::Document;
use crate::error::{read_to_string, Diagnostics, Error, Location, Result};
use crate::tags::TagScheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// ertag's own JSON Lines, one document per line.
    Jsonl,
    /// Plain text: a file is a document, a directory holds many (`.txt`, recursive).
    Text,
    /// CoNLL column files (IOB1, IOB2 or BIOES tags; `-DOCSTART-` separates documents).
    Conll,
    /// brat standoff: a directory of `.txt` + `.ann` pairs (T and R lines).
    Brat,
    /// CoNLL04 in the SpERT JSON layout (read only).
    Conll04,
    /// doccano JSONL export (sequence labelling or relation extraction projects).
    Doccano,
    /// Label Studio JSON export (labels and relations).
    LabelStudio,
    /// A folder of static HTML pages, one per document, and `index.html` (write only).
    Html,
    /// Stand-off annotations joined with their source texts, checked by SHA-256 (read only).
    Standoff,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Text => "text",
            Format::Conll => "conll",
            Format::Brat => "brat",
            Format::Conll04 => "conll04",
            Format::Doccano => "doccano",
            Format::LabelStudio => "label-studio",
            Format::Html => "html",
            Format::Standoff => "standoff",
        }
    }

    pub fn can_write(self) -> bool {
        !matches!(self, Format::Conll04 | Format::Standoff)
    }

    pub fn can_read(self) -> bool {
        self != Format::Html
    }

    /// Directory formats write a folder rather than one file.
    pub fn is_directory(self) -> bool {
        matches!(self, Format::Text | Format::Brat | Format::Html)
    }

    /// Guess the format of an existing path: a directory with `.ann` files is brat, any other
    /// directory plain text; files go by extension. doccano and Label Studio exports look like
    /// ordinary JSON(L), so they are never guessed: name them with `--from`.
    pub fn detect(path: &Path) -> Option<Format> {
        if path.is_dir() {
            let has_ann = walk_files(path)
                .ok()?
                .iter()
                .any(|p| p.extension().is_some_and(|e| e == "ann"));
            return Some(if has_ann { Format::Brat } else { Format::Text });
        }
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let ext = name.rsplit('.').next().unwrap_or("");
        match ext {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "txt" if name.contains("conll") => Some(Format::Conll),
            "txt" => Some(Format::Text),
            "conll" | "iob" | "iob1" | "iob2" | "bio" | "bioes" | "testa" | "testb" | "train" => {
                Some(Format::Conll)
            }
            "json" if name.starts_with("conll04") => Some(Format::Conll04),
            _ => None,
        }
    }
}

/// The format to write `path` in: the one named, else JSON lines for `-` (standard output),
/// else the one [`Format::detect`] finds in the name, else JSON lines. An input-only format
/// is a usage error.
pub fn output_format(path: &Path, named: Option<Format>) -> Result<Format> {
    let to = match named {
        Some(f) => f,
        None if path.as_os_str() == "-" => Format::Jsonl,
        None => Format::detect(path).unwrap_or(Format::Jsonl),
    };
    if !to.can_write() {
        return Err(Error::Usage(format!(
            "{} is an input format only; choose another --to",
            to.name()
        )));
    }
    Ok(to)
}

/// The format of `path`: the one named, else guessed from the name; a `.txt` file (which
/// [`Format::detect`] takes for plain text unless it is named `conll`) whose first line looks
/// like CoNLL columns is read as CoNLL, since CoNLL-2003 ships as `train.txt` and `test.txt`;
/// a JSON Lines file whose first record has `source` and `text_sha256` is stand-off.
pub fn guess_format(path: &Path, named: Option<Format>) -> Result<Format> {
    if let Some(f) = named {
        return Ok(f);
    }
    let detected = Format::detect(path);
    if detected == Some(Format::Jsonl) && path.is_file() && standoff::looks_like(path) {
        return Ok(Format::Standoff);
    }
    if path.is_file() && matches!(detected, None | Some(Format::Text)) {
        if let Some(f) = sniff(path) {
            return Ok(f);
        }
    }
    detected.ok_or_else(|| {
        Error::Usage(format!(
            "{}: cannot guess the format; name it with --from",
            path.display()
        ))
    })
}

/// Look at the first non-blank line: JSON object, or CoNLL columns ending in a tag.
fn sniff(path: &Path) -> Option<Format> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let line = std::io::BufReader::new(file)
        .lines()
        .take(50)
        .map_while(|l| l.ok())
        .find(|l| !l.trim().is_empty())?;
    let line = line.trim();
    if line.starts_with('{') {
        return Some(Format::Jsonl);
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    let tag = fields.last()?;
    let tag_like = *tag == "O"
        || tag
            .split_once('-')
            .is_some_and(|(p, _)| matches!(p, "B" | "I" | "E" | "S" | "L" | "U"));
    (line.starts_with("-DOCSTART-") || (fields.len() >= 2 && tag_like)).then_some(Format::Conll)
}

/// Options that some formats need.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub conll: ConllOptions,
}

#[derive(Debug, Clone)]
pub struct ConllOptions {
    /// 0-based column holding the entity tags; `None` means the last column.
    pub tag_column: Option<usize>,
    /// Tag scheme of the input (reading) or the output (writing).
    pub scheme: TagScheme,
    /// Read chunks as seqeval's strict mode does ([`crate::tags::decode_strict`]): invalid
    /// chunks are dropped rather than repaired. This is the semantics of a measure (seqeval
    /// `mode='strict'`), not a repair, so it warns about nothing.
    pub strict_chunks: bool,
    /// Keep each token's tag as written in `meta["conll_tags"]`, so that token accuracy can
    /// compare raw tag strings as seqeval's `accuracy_score` does.
    pub keep_tags: bool,
}

impl Default for ConllOptions {
    fn default() -> Self {
        ConllOptions {
            tag_column: None,
            scheme: TagScheme::Iob2,
            strict_chunks: false,
            keep_tags: false,
        }
    }
}

/// Read every document at `path` (a file, a directory, or `-` for standard input).
pub fn read(
    path: &Path,
    format: Format,
    opts: &Options,
    diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let loc = Location::file(path);
    if !format.can_read() {
        return Err(Error::Usage(format!(
            "{} is an output format only; choose another --from",
            format.name()
        )));
    }
    let docs = match format {
        Format::Text => text::read(path, diag)?,
        Format::Brat => brat::read_dir(path, diag)?,
        _ => {
            let content = if path.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .map_err(|e| Error::io(path, e))?;
                crate::error::utf8(buf, &loc)?
            } else {
                read_to_string(path)?
            };
            match format {
                Format::Jsonl => jsonl::parse(&content, &loc, opts, diag)?,
                Format::Conll => conll::parse(&content, &loc, opts, diag)?,
                Format::Conll04 => conll04::parse(&content, &loc, opts, diag)?,
                Format::Standoff => standoff::parse(&content, &loc, opts, diag)?,
                Format::Doccano => doccano::parse(&content, &loc, opts, diag)?,
                Format::LabelStudio => label_studio::parse(&content, &loc, opts, diag)?,
                Format::Text | Format::Brat | Format::Html => unreachable!(),
            }
        }
    };
    check(&docs, &loc)?;
    Ok(docs)
}

/// Write `docs` to `path` (a file, `-` for standard output, or a directory for text and brat).
pub fn write(
    docs: &[Document],
    path: &Path,
    format: Format,
    opts: &Options,
    diag: &mut Diagnostics,
) -> Result<()> {
    let content = match format {
        Format::Text => return text::write_dir(docs, path),
        Format::Brat => return brat::write_dir(docs, path, diag),
        Format::Html => return html::write_dir(docs, path, diag),
        Format::Jsonl => jsonl::write(docs, opts, diag)?,
        Format::Conll => conll::write(docs, opts, diag)?,
        Format::Doccano => doccano::write(docs, opts, diag)?,
        Format::LabelStudio => label_studio::write(docs, opts, diag)?,
        Format::Conll04 => {
            return Err(Error::Usage(
                "conll04 (SpERT JSON) is an input format only; write jsonl instead".into(),
            ))
        }
        Format::Standoff => {
            return Err(Error::Usage(
                "standoff is an input format only; write jsonl instead".into(),
            ))
        }
    };
    if path.as_os_str() == "-" {
        std::io::Write::write_all(&mut std::io::stdout().lock(), content.as_bytes())
            .map_err(|e| Error::io(path, e))
    } else {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(path, content).map_err(|e| Error::io(path, e))
    }
}

/// What `format` has no place for in `docs`, one line per kind ("entity scores: 120 not
/// written"). These are limits of the format, not faults of the input, so they are reported as
/// notes after writing rather than as warnings that `--strict` would refuse; anything dropped
/// for a reason particular to one document (an overlap in BIO) is a warning of its writer.
pub fn not_held(docs: &[Document], format: Format) -> Vec<String> {
    use Format::*;
    let count = |f: &dyn Fn(&Document) -> usize| docs.iter().map(f).sum::<usize>();
    let mut checks: Vec<(&str, usize)> = Vec::new();
    if format == Text {
        checks.push(("entities", count(&|d| d.entities.len())));
        checks.push(("relations", count(&|d| d.relations.len())));
    }
    if !matches!(format, Jsonl | LabelStudio | Text | Html) {
        let scored = |d: &Document| d.entities.iter().filter(|e| e.score.is_some()).count();
        checks.push(("entity scores", count(&scored)));
    }
    if !matches!(format, Jsonl | Text | Conll | Html) {
        let scored = |d: &Document| d.relations.iter().filter(|r| r.score.is_some()).count();
        checks.push(("relation scores", count(&scored)));
        let evidence = |d: &Document| d.relations.iter().filter(|r| r.evidence.is_some()).count();
        checks.push(("relation evidence spans", count(&evidence)));
    }
    if !matches!(format, Jsonl | Conll | Html) {
        let tokenised = |d: &Document| usize::from(!d.tokens.is_empty() || !d.sentences.is_empty());
        checks.push(("token and sentence spans (documents)", count(&tokenised)));
    }
    checks
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(what, n)| format!("{} cannot hold {what}: {n} not written", format.name()))
        .collect()
}

/// Every document must be internally consistent and ids unique across the input.
pub fn check(docs: &[Document], loc: &Location) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, doc) in docs.iter().enumerate() {
        if let Some(problem) = doc.problems().into_iter().next() {
            return Err(Error::input(&loc.in_doc(&doc.id), problem));
        }
        if let Some(first) = seen.insert(doc.id.as_str(), i) {
            return Err(Error::input(
                &loc.in_doc(&doc.id),
                format!(
                    "document id is used twice (documents {} and {})",
                    first + 1,
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// All files under `dir`, recursively, sorted so that output order never depends on the
/// file system.
pub fn walk_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Turn a document id into a file name that stays inside the output folder: path separators,
/// `..`, control characters and other unsafe characters become `_`.
pub fn safe_file_stem(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.starts_with('.') {
        s.replace_range(0..1, "_");
    }
    if s.is_empty() {
        s.push('_');
    }
    // At most 200 bytes, cut on a character boundary (ids may hold any letters).
    let mut end = s.len().min(200);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// File names for documents written one per file into a folder: [`safe_file_stem`] of the id,
/// with `_2`, `_3`, ... when that name is taken already or reserved. Names are compared
/// without case, so that no two documents share a file on a case-insensitive file system.
#[derive(Debug, Default)]
pub struct FileNames {
    taken: HashSet<String>,
}

impl FileNames {
    /// Keep `stem` for something else (`index` for `index.html`).
    pub fn reserve(&mut self, stem: &str) {
        self.taken.insert(stem.to_lowercase());
    }

    /// A stem for `id` that no earlier call returned.
    pub fn claim(&mut self, id: &str) -> String {
        let base = safe_file_stem(id);
        let mut stem = base.clone();
        let mut k = 1;
        while !self.taken.insert(stem.to_lowercase()) {
            k += 1;
            stem = format!("{base}_{k}");
        }
        stem
    }
}

/// Write `content` to `path` through a temporary file beside it (`.NAME.tmp`) and a rename,
/// so that `path` is either absent, as before, or complete, even if the process is killed.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, content).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_cannot_escape() {
        assert_eq!(safe_file_stem("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_file_stem("/abs/x"), "_abs_x");
        assert_eq!(safe_file_stem(""), "_");
        assert_eq!(safe_file_stem("reuters-001"), "reuters-001");
        assert!(!safe_file_stem("..").starts_with('.'));
        // 199 bytes and a two-byte letter: cut before it, not inside it.
        let long = format!("{}\u{fc}x", "a".repeat(199));
        assert_eq!(safe_file_stem(&long), "a".repeat(199));
    }

    #[test]
    fn file_names_get_a_suffix_when_taken() {
        let mut names = FileNames::default();
        names.reserve("index");
        assert_eq!(names.claim("../x"), "_._x");
        assert_eq!(names.claim("a/b"), "a_b");
        assert_eq!(names.claim("a?b"), "a_b_2");
        assert_eq!(names.claim("INDEX"), "INDEX_2");
        assert_eq!(names.claim("a"), "a");
        assert_eq!(names.claim("A"), "A_2");
        assert_eq!(names.claim("a_2"), "a_2_2");
    }

    #[test]
    fn formats_say_what_they_cannot_hold() {
        let mut d = Document::new("d", "Putin called Netanyahu.");
        let a = d.add_entity(0, 5, "PER").unwrap();
        let b = d.add_entity(13, 22, "PER").unwrap();
        d.entities[0].score = Some(0.9);
        d.relations.push(crate::document::Relation {
            head: a,
            tail: b,
            label: "phone call".into(),
            score: Some(0.8),
            evidence: None,
        });
        let docs = [d];
        assert!(not_held(&docs, Format::Jsonl).is_empty());
        assert_eq!(
            not_held(&docs, Format::Brat),
            [
                "brat cannot hold entity scores: 1 not written",
                "brat cannot hold relation scores: 1 not written"
            ]
        );
        assert_eq!(
            not_held(&docs, Format::Text),
            [
                "text cannot hold entities: 2 not written",
                "text cannot hold relations: 1 not written"
            ]
        );
    }

    #[test]
    fn txt_files_are_sniffed() {
        let dir = tempfile::tempdir().unwrap();
        let conll = dir.path().join("test.txt");
        std::fs::write(&conll, "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n").unwrap();
        assert_eq!(guess_format(&conll, None).unwrap(), Format::Conll);
        let plain = dir.path().join("story.txt");
        std::fs::write(&plain, "Putin met Erdogan in Ankara.\n").unwrap();
        assert_eq!(guess_format(&plain, None).unwrap(), Format::Text);
        assert_eq!(
            guess_format(&plain, Some(Format::Conll)).unwrap(),
            Format::Conll
        );
    }

    #[test]
    fn detect_by_extension() {
        assert_eq!(Format::detect(Path::new("a.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::detect(Path::new("eng.testb")), Some(Format::Conll));
        assert_eq!(
            Format::detect(Path::new("conll04_dev.json")),
            Some(Format::Conll04)
        );
        assert_eq!(Format::detect(Path::new("export.json")), None);
    }
}
