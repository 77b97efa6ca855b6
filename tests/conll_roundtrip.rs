//! CoNLL-2003 through ertag and back: CoNLL -> JSONL -> CoNLL must give the same file, byte for
//! byte, for all six copies in `shared/data/conll2003` (three splits, IOB2 and original IOB1),
//! and the counts must match the published figures (see that folder's SOURCE.md).
//!
//! The data lives outside the repository; when it is missing the test says so and passes, so
//! that a checkout without the shared data still builds and tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ertag::formats::{self, ConllOptions, Format, Options};
use ertag::tags::TagScheme;
use ertag::{Diagnostics, Document};

struct Split {
    name: &'static str,
    iob2: &'static str,
    iob1: &'static str,
    docs: usize,
    sentences: usize,
    tokens: usize,
    /// PER, LOC, ORG, MISC.
    per_type: [usize; 4],
}

const SPLITS: [Split; 3] = [
    Split {
        name: "train",
        iob2: "iob2/train.txt",
        iob1: "iob1_original/eng.train",
        docs: 946,
        sentences: 14_041,
        tokens: 203_621,
        per_type: [6600, 7140, 6321, 3438],
    },
    Split {
        name: "dev",
        iob2: "iob2/dev.txt",
        iob1: "iob1_original/eng.testa",
        docs: 216,
        sentences: 3_250,
        tokens: 51_362,
        per_type: [1842, 1837, 1341, 922],
    },
    Split {
        name: "test",
        iob2: "iob2/test.txt",
        iob1: "iob1_original/eng.testb",
        docs: 231,
        sentences: 3_453,
        tokens: 46_435,
        per_type: [1617, 1668, 1661, 702],
    },
];

/// The shared data sets sit beside the repository (CI has them); their absence is a failure,
/// not a skip, so this test can never pass without running.
fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/conll2003");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

fn options(scheme: TagScheme) -> Options {
    Options {
        conll: ConllOptions {
            tag_column: None,
            scheme,
            ..Default::default()
        },
    }
}

/// Read `path`, go through JSONL, and write CoNLL again; returns the documents first read.
fn round_trip(path: &Path, scheme: TagScheme, tmp: &Path) -> Vec<Document> {
    let opts = options(scheme);
    let mut diag = Diagnostics::new(true); // the published files need no repairs
    let docs = formats::read(path, Format::Conll, &opts, &mut diag)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));

    let jsonl = tmp.join("docs.jsonl");
    formats::write(&docs, &jsonl, Format::Jsonl, &opts, &mut diag).unwrap();
    let back = formats::read(&jsonl, Format::Jsonl, &opts, &mut diag).unwrap();
    assert_eq!(back.len(), docs.len());

    let conll = tmp.join("docs.conll");
    formats::write(&back, &conll, Format::Conll, &opts, &mut diag).unwrap();
    assert!(diag.is_empty(), "{:?}", diag.warnings);

    let original = std::fs::read_to_string(path).unwrap();
    let written = std::fs::read_to_string(&conll).unwrap();
    // Tags first, token for token, for a readable failure; then the exact bytes.
    for (n, (a, b)) in original.lines().zip(written.lines()).enumerate() {
        assert_eq!(a, b, "{} line {}", path.display(), n + 1);
    }
    assert_eq!(original.lines().count(), written.lines().count());
    assert!(
        original == written,
        "{}: not byte-identical",
        path.display()
    );
    docs
}

/// Sentences as (tokens, entities as token spans), independent of document boundaries.
type Sentences = Vec<(Vec<String>, Vec<(usize, usize, String)>)>;

fn sentences(docs: &[Document]) -> Sentences {
    let mut out = Vec::new();
    for doc in docs {
        let chars: Vec<char> = doc.text.chars().collect();
        let word = |s: &ertag::Span| chars[s.start..s.end].iter().collect::<String>();
        for s in &doc.sentences {
            let toks: Vec<_> = doc.tokens.iter().filter(|t| s.contains(**t)).collect();
            let index = |c: usize, end: bool| {
                toks.iter()
                    .position(|t| if end { t.end == c } else { t.start == c })
                    .unwrap()
            };
            let ents = doc
                .entities
                .iter()
                .filter(|e| s.contains(e.span()))
                .map(|e| {
                    (
                        index(e.start, false),
                        index(e.end, true) + 1,
                        e.label.clone(),
                    )
                })
                .collect();
            out.push((toks.iter().map(|t| word(t)).collect(), ents));
        }
    }
    out
}

fn check_counts(split: &Split, file: &str, docs: &[Document]) {
    // The IOB1 copy ends with the first document's DOCSTART line: an empty last document.
    let non_empty: Vec<&Document> = docs.iter().filter(|d| !d.tokens.is_empty()).collect();
    let sentences: usize = docs.iter().map(|d| d.sentences.len()).sum();
    let tokens: usize = docs.iter().map(|d| d.tokens.len()).sum();
    let mut per_type = BTreeMap::new();
    for e in docs.iter().flat_map(|d| &d.entities) {
        *per_type.entry(e.label.as_str()).or_insert(0) += 1;
    }
    let got = [
        per_type.get("PER"),
        per_type.get("LOC"),
        per_type.get("ORG"),
        per_type.get("MISC"),
    ]
    .map(|n| n.copied().unwrap_or(0));
    let what = format!("{} ({file})", split.name);
    assert_eq!(non_empty.len(), split.docs, "{what}: documents");
    assert_eq!(sentences, split.sentences, "{what}: sentences");
    assert_eq!(tokens, split.tokens, "{what}: tokens");
    assert_eq!(got, split.per_type, "{what}: PER/LOC/ORG/MISC");
    assert_eq!(per_type.len(), 4, "{what}: types {per_type:?}");
}

#[test]
fn conll2003_round_trips_byte_for_byte() {
    let dir = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    for split in &SPLITS {
        let iob2 = round_trip(&dir.join(split.iob2), TagScheme::Iob2, tmp.path());
        check_counts(split, split.iob2, &iob2);
        let iob1 = round_trip(&dir.join(split.iob1), TagScheme::Iob1, tmp.path());
        check_counts(split, split.iob1, &iob1);
        assert_eq!(
            iob1.len(),
            iob2.len() + 1,
            "IOB1 has a trailing empty document"
        );
        assert!(iob1.last().unwrap().text.is_empty());

        // Both copies must read to the same sentences and mentions: that checks IOB1 decoding
        // (B- only between same-type neighbours) against IOB2 independently of the round trip.
        let (a, b) = (sentences(&iob1), sentences(&iob2));
        assert_eq!(a.len(), b.len());
        for (n, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "{}: sentence {}", split.name, n + 1);
        }
    }
}

#[test]
fn iob1_converts_to_iob2_and_bioes() {
    let dir = data_dir();
    // Only the NER column is compared: the chunk column stays IOB1 in the converted file.
    let split = &SPLITS[1];
    let mut diag = Diagnostics::new(true);
    let docs = formats::read(
        &dir.join(split.iob1),
        Format::Conll,
        &options(TagScheme::Iob1),
        &mut diag,
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dev.iob2");
    formats::write(
        &docs,
        &out,
        Format::Conll,
        &options(TagScheme::Iob2),
        &mut diag,
    )
    .unwrap();
    let tags = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with("-DOCSTART-"))
            .map(|l| {
                let cols: Vec<&str> = l.split(' ').collect();
                (cols[0].to_string(), cols[cols.len() - 1].to_string())
            })
            .collect()
    };
    let converted = tags(&std::fs::read_to_string(out).unwrap());
    let reference = tags(&std::fs::read_to_string(dir.join(split.iob2)).unwrap());
    assert_eq!(converted.len(), split.tokens);
    assert!(
        converted == reference,
        "IOB1 -> IOB2 differs from iob2/dev.txt"
    );
}
