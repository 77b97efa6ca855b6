//! The batch loop with a stand-in annotator, so that failures, resume and shards are checked
//! without a model.

use std::path::{Path, PathBuf};

use super::*;

/// Tags the first character of every document; fails on a text containing `BOOM`.
struct FirstChar;

impl Annotator for FirstChar {
    fn annotate(&self, docs: &mut [Document]) -> Result<()> {
        if docs.iter().any(|d| d.text.contains("BOOM")) {
            return Err(Error::Usage("boom".into()));
        }
        for d in docs {
            d.entities.clear();
            d.add_entity(0, 1, "X");
        }
        Ok(())
    }
}

const INPUT: &str = concat!(
    "{\"id\":\"a\",\"text\":\"Anna\"}\n",
    "{\"id\":\"b\",\"text\": oops}\n",
    "{\"id\":\"c\"}\n",
    "{\"id\":\"d\",\"text\":\"   \"}\n",
    "{\"id\":\"e\",\"text\":\"\"}\n",
    "{\"id\":\"a\",\"text\":\"again\"}\n",
    "{\"id\":\"f\",\"text\":\"bell\\u0007 and nul\\u0000\"}\n",
    "{\"id\":\"g\",\"text\":\"BOOM\"}\n",
    "{\"id\":\"h\",\"text\":\"Paris\",\"lang\":\"fr\"}\n",
);

fn options(dir: &Path, out: &str) -> BatchOptions {
    BatchOptions {
        output: dir.join(out),
        to: Format::Jsonl,
        errors: Some(dir.join(format!("{out}.errors"))),
        fail_fast: false,
        resume: false,
        shard: None,
        chunk_size: 2,
        formats: Options::default(),
    }
}

fn run_on(input: &Path, opts: &BatchOptions) -> Summary {
    let mut source = DocumentSource::new(&[input.to_path_buf()], SourceOptions::default()).unwrap();
    run(&mut source, &FirstChar, opts, &mut Diagnostics::default()).unwrap()
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, INPUT).unwrap();
    (dir, input)
}

fn ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn every_document_is_annotated_or_reported() {
    let (dir, input) = setup();
    let opts = options(dir.path(), "out.jsonl");
    let s = run_on(&input, &opts);
    assert_eq!((s.read, s.annotated, s.failed, s.skipped), (9, 3, 6, 0));
    assert_eq!(s.entities, 3);
    assert_eq!(ids(&opts.output), ["a", "f", "h"]);
    let out = std::fs::read_to_string(&opts.output).unwrap();
    // Control characters are kept, escaped by JSON; unknown fields go to meta.
    assert!(out.contains("bell\\u0007 and nul\\u0000"), "{out}");
    assert!(out.contains("\"meta\":{\"lang\":\"fr\"}"), "{out}");
    let errors = std::fs::read_to_string(opts.errors.as_ref().unwrap()).unwrap();
    let reasons: Vec<(String, String)> = errors
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let source = v["source"].as_str().unwrap();
            assert!(source.starts_with(&input.display().to_string()), "{source}");
            (
                v["id"].as_str().unwrap().to_string(),
                v["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let line2 = format!("{}:2", input.display());
    let expect = [
        (line2.as_str(), "malformed JSON"),
        ("c", "missing text field `text`"),
        ("d", "the text is only whitespace"),
        ("e", "empty text"),
        ("a", "duplicate id"),
        ("g", "annotation failed"),
    ];
    assert_eq!(reasons.len(), expect.len(), "{errors}");
    for ((id, reason), (want_id, want)) in reasons.iter().zip(expect) {
        assert_eq!(id, want_id);
        assert!(reason.starts_with(want), "{reason}");
    }
}

#[test]
fn resume_after_a_torn_line_equals_a_clean_run() {
    let (dir, input) = setup();
    let clean = options(dir.path(), "clean.jsonl");
    run_on(&input, &clean);
    let opts = options(dir.path(), "out.jsonl");
    run_on(&input, &opts);
    let full = std::fs::read(&opts.output).unwrap();
    std::fs::write(&opts.output, &full[..full.len() / 2]).unwrap();
    let errors = opts.errors.clone().unwrap();
    let full_errors = std::fs::read(&errors).unwrap();
    std::fs::write(&errors, &full_errors[..full_errors.len() / 3]).unwrap();
    let s = run_on(
        &input,
        &BatchOptions {
            resume: true,
            ..opts.clone()
        },
    );
    assert!(s.skipped >= 1, "{s:?}");
    assert_eq!(s.failed, 6);
    assert_eq!(
        std::fs::read(&opts.output).unwrap(),
        std::fs::read(&clean.output).unwrap()
    );
    assert_eq!(
        std::fs::read(&errors).unwrap(),
        std::fs::read(clean.errors.unwrap()).unwrap()
    );
}

#[test]
fn shards_cover_the_input_exactly_once() {
    let (dir, input) = setup();
    let whole = options(dir.path(), "all.jsonl");
    run_on(&input, &whole);
    let mut union = Vec::new();
    let mut failures = Vec::new();
    for i in 0..3 {
        let opts = BatchOptions {
            shard: Some(Shard { index: i, count: 3 }),
            ..options(dir.path(), &format!("s{i}.jsonl"))
        };
        run_on(&input, &opts);
        union.extend(ids(&opts.output));
        failures.extend(ids(opts.errors.as_ref().unwrap()));
    }
    union.sort();
    failures.sort();
    let mut want = ids(&whole.output);
    want.sort();
    let mut want_failures = ids(whole.errors.as_ref().unwrap());
    want_failures.sort();
    assert_eq!((union, failures), (want, want_failures));
}

#[test]
fn fail_fast_stops_after_writing_what_came_before() {
    let (dir, input) = setup();
    let opts = BatchOptions {
        fail_fast: true,
        ..options(dir.path(), "out.jsonl")
    };
    let s = run_on(&input, &opts);
    assert_eq!(s.stopped.unwrap().id, format!("{}:2", input.display()));
    assert_eq!(ids(&opts.output), ["a"]);
}

#[test]
fn shard_specs_and_fnv() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(
        "1/3".parse::<Shard>().unwrap(),
        Shard { index: 1, count: 3 }
    );
    for bad in ["3/3", "1", "a/3", "0/0"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn resume_needs_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), "out.jsonl");
    opts.resume = true;
    opts.output = "-".into();
    assert!(opts.check().is_err());
}

#[test]
fn fail_fast_also_stops_at_an_annotation_failure() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"a\",\"text\":\"BOOM\"}\n{\"id\":\"b\",\"text\":\"x\"}\n{\"id\":\"c\",\"text\":\"y\"}\n",
    )
    .unwrap();
    let opts = BatchOptions {
        fail_fast: true,
        chunk_size: 1,
        ..options(dir.path(), "out.jsonl")
    };
    let s = run_on(&input, &opts);
    assert_eq!(s.stopped.unwrap().id, "a");
    assert_eq!((s.read, s.annotated), (1, 0));
}

/// The documents of a JSON Lines output file.
fn docs_of(path: &Path) -> Vec<Document> {
    crate::formats::read(
        path,
        Format::Jsonl,
        &Options::default(),
        &mut Diagnostics::default(),
    )
    .unwrap()
}

#[test]
fn conll_streamed_in_chunks_equals_conll_written_whole() {
    let (dir, input) = setup();
    let jsonl = options(dir.path(), "all.jsonl");
    run_on(&input, &jsonl);
    let docs = docs_of(&jsonl.output);
    for n in [1, 2, 3, 10] {
        let mut want = String::new();
        let mut d = Diagnostics::default();
        let subset = &docs[..n.min(docs.len())];
        want.push_str(&crate::formats::conll::write(subset, &Options::default(), &mut d).unwrap());
        let sub_input = dir.path().join(format!("in{n}.jsonl"));
        let lines: String = std::fs::read_to_string(&jsonl.output)
            .unwrap()
            .lines()
            .take(n)
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&sub_input, lines).unwrap();
        for chunk_size in [1, 2, 5] {
            let opts = BatchOptions {
                to: Format::Conll,
                chunk_size,
                errors: None,
                ..options(dir.path(), &format!("out{n}-{chunk_size}.conll"))
            };
            run_on(&sub_input, &opts);
            let got = std::fs::read_to_string(&opts.output).unwrap();
            assert_eq!(got, want, "{n} documents in chunks of {chunk_size}");
        }
    }
}

#[test]
fn brat_is_written_per_document_and_resumed() {
    let (dir, input) = setup();
    let whole = dir.path().join("whole");
    let jsonl = options(dir.path(), "all.jsonl");
    run_on(&input, &jsonl);
    crate::formats::write(
        &docs_of(&jsonl.output),
        &whole,
        Format::Brat,
        &Options::default(),
        &mut Diagnostics::default(),
    )
    .unwrap();
    let opts = BatchOptions {
        to: Format::Brat,
        ..options(dir.path(), "brat")
    };
    let s = run_on(&input, &opts);
    assert_eq!(s.annotated, 3);
    let listing = |p: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(listing(&opts.output), listing(&whole));
    // A kill between a document's two files: the .ann is missing, so it is written again;
    // the others are skipped.
    std::fs::remove_file(opts.output.join("f.ann")).unwrap();
    std::fs::remove_file(opts.errors.as_ref().unwrap()).unwrap();
    let s = run_on(
        &input,
        &BatchOptions {
            resume: true,
            ..opts.clone()
        },
    );
    assert_eq!((s.skipped, s.annotated), (2, 1), "{s:?}");
    assert_eq!(listing(&opts.output), listing(&whole));
}

#[test]
fn html_is_written_per_document_and_resumed_with_its_index() {
    let (dir, input) = setup();
    let opts = BatchOptions {
        to: Format::Html,
        ..options(dir.path(), "html")
    };
    run_on(&input, &opts);
    let index = std::fs::read(opts.output.join("index.html")).unwrap();
    let page = std::fs::read(opts.output.join("f.html")).unwrap();
    let text = String::from_utf8(index.clone()).unwrap();
    assert!(text.contains("3 documents, 3 entities"), "{text}");
    let (a, h) = (
        text.find("\"a.html\"").unwrap(),
        text.find("\"h.html\"").unwrap(),
    );
    assert!(a < h);
    // A page cut short by a kill, and the index never written.
    std::fs::write(opts.output.join("f.html"), &page[..100]).unwrap();
    std::fs::remove_file(opts.output.join("index.html")).unwrap();
    std::fs::remove_file(opts.errors.as_ref().unwrap()).unwrap();
    let s = run_on(
        &input,
        &BatchOptions {
            resume: true,
            ..opts.clone()
        },
    );
    assert_eq!((s.skipped, s.annotated), (2, 1), "{s:?}");
    assert_eq!(std::fs::read(opts.output.join("f.html")).unwrap(), page);
    assert_eq!(
        std::fs::read(opts.output.join("index.html")).unwrap(),
        index
    );
}

#[test]
fn resume_is_refused_where_it_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    for (to, out, resume) in [
        (Format::Conll, "out.conll", true),
        (Format::Doccano, "out.jsonl", true),
        (Format::Html, "-", false),
        (Format::Brat, "-", false),
    ] {
        let opts = BatchOptions {
            to,
            resume,
            output: out.into(),
            ..options(dir.path(), "x")
        };
        assert!(opts.check().is_err(), "{to:?} {out}");
    }
    for to in [Format::Brat, Format::Html] {
        let opts = BatchOptions {
            to,
            resume: true,
            ..options(dir.path(), "dir")
        };
        assert!(opts.check().is_ok(), "{to:?}");
    }
}

#[test]
fn output_order_and_content_do_not_depend_on_the_chunk_size() {
    // Reading, annotating and writing overlap on three threads: whatever the chunk size, the
    // output and the errors file are those of one document at a time, in input order.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.jsonl");
    let mut text = String::new();
    for i in 0..2_000 {
        let body = if i % 97 == 0 { "BOOM" } else { "Text" };
        text.push_str(&format!("{{\"id\":\"d{i}\",\"text\":\"{body} {i}\"}}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let run_with = |chunk_size: usize| {
        let opts = BatchOptions {
            chunk_size,
            ..options(dir.path(), &format!("out-{chunk_size}.jsonl"))
        };
        let s = run_on(&input, &opts);
        assert_eq!((s.read, s.annotated, s.failed), (2_000, 1_979, 21));
        let errors = std::fs::read_to_string(opts.errors.as_ref().unwrap()).unwrap();
        (std::fs::read_to_string(&opts.output).unwrap(), errors)
    };
    let one = run_with(1);
    let want: Vec<String> = (0..2_000)
        .filter(|i| i % 97 != 0)
        .map(|i| format!("d{i}"))
        .collect();
    assert_eq!(ids(&dir.path().join("out-1.jsonl")), want);
    for chunk_size in [2, 7, 500, 5_000] {
        assert_eq!(run_with(chunk_size), one, "chunks of {chunk_size}");
    }
}
