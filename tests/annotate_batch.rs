//! Batch annotation end to end (`ertag annotate` with `--errors`, `--resume`, `--shard`): the
//! real binary with the tiny random model of `tests/common`, which tags every word as PER.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

use common::{command, ertag, stderr, tiny_ner_model};

/// A temporary directory holding the tiny model.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_ner_model(&model);
    (tmp, model)
}

/// `ertag annotate` with the tiny model, one thread and chunks of 2 documents.
fn annotate(model: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "annotate",
        "--ner-model",
        model.to_str().unwrap(),
        "--threads",
        "1",
        "--chunk-size",
        "2",
    ];
    all.extend_from_slice(args);
    ertag(&all)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(path: &Path) -> Vec<String> {
    lines(path)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

/// Twelve good stories, a few with fields of their own.
fn stories(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"s{i}\",\"text\":\"Anna met the mayor of Zurich in Paris, story {i}.\",\"desk\":\"d{}\"}}\n",
                i % 3
            )
        })
        .collect()
}

#[test]
fn every_failure_is_reported_and_the_run_goes_on() {
    let (tmp, model) = setup();
    let input = tmp.path().join("in.jsonl");
    let mut content = b"{\"id\":\"a\",\"text\":\"Anna met the mayor.\"}\n".to_vec();
    content.extend_from_slice(b"{\"id\":\"b\",\"text\": \n");
    content.extend_from_slice(b"{\"id\":\"c\",\"body\":\"no text field\"}\n");
    content.extend_from_slice(b"{\"id\":\"d\",\"text\":\"bad \xff byte\"}\n");
    content.extend_from_slice(b"{\"id\":\"e\",\"text\":\" \\n\\t \"}\n");
    content.extend_from_slice(b"{\"id\":\"f\",\"text\":\"\"}\n");
    content.extend_from_slice(
        b"{\"id\":\"g\",\"text\":\"Anna\\u0007 met\\u0000 the mayor\\u001b.\"}\n",
    );
    content.extend_from_slice(b"{\"id\":\"a\",\"text\":\"The same id again.\"}\n");
    content.extend_from_slice(b"{\"text\":\"No id here.\"}\n");
    std::fs::write(&input, content).unwrap();
    let out = tmp.path().join("out.jsonl");
    let errors = tmp.path().join("errors.jsonl");
    let o = annotate(&model, &[s(&input), "-o", s(&out), "--errors", s(&errors)]);
    assert!(!o.status.success(), "failures give a non-zero exit code");
    let err = stderr(&o);
    assert!(
        err.contains("annotated 3 documents:") && err.contains("(read 9, failed 6)"),
        "{err}"
    );
    let name = input.display().to_string();
    assert_eq!(ids(&out), ["a", "g", &format!("{name}:9")]);
    // Control characters are kept, and the words around them are tagged.
    let g = &lines(&out)[1];
    assert_eq!(g["text"], "Anna\u{7} met\u{0} the mayor\u{1b}.");
    assert!(g["entities"].as_array().unwrap().len() >= 4, "{g}");
    let want = [
        ("2", &*format!("{name}:2"), "malformed JSON"),
        ("3", "c", "missing text field `text`"),
        ("4", &*format!("{name}:4"), "invalid UTF-8"),
        ("5", "e", "the text is only whitespace"),
        ("6", "f", "empty text"),
        ("8", "a", "duplicate id"),
    ];
    let got = lines(&errors);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (v, (line, id, reason)) in got.iter().zip(want) {
        assert_eq!(v["source"], format!("{name}:{line}"));
        assert_eq!(v["id"], id);
        assert!(v["reason"].as_str().unwrap().starts_with(reason), "{v}");
    }

    // --fail-fast stops at line 2, after writing line 1.
    let o = annotate(&model, &[s(&input), "-o", s(&out), "--fail-fast"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--fail-fast"), "{}", stderr(&o));
    assert_eq!(ids(&out), ["a"]);
}

#[test]
fn a_long_document_is_annotated_whole() {
    // 1 MB rather than 5 MB: every word of it becomes an entity with the tiny model, and the
    // unoptimised test build would take minutes over 5 MB; nothing in the path has a size limit.
    let (tmp, model) = setup();
    let sentence = "Anna met the mayor of Zurich in Paris. ";
    let text = sentence.repeat(1_000_000 / sentence.len());
    let input = tmp.path().join("long.jsonl");
    std::fs::write(
        &input,
        serde_json::json!({"id": "long", "text": text}).to_string(),
    )
    .unwrap();
    let out = tmp.path().join("out.jsonl");
    let o = annotate(&model, &[s(&input), "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc = &lines(&out)[0];
    assert_eq!(doc["text"].as_str().unwrap(), text);
    let words = text.split_whitespace().count() + text.matches('.').count();
    assert_eq!(doc["entities"].as_array().unwrap().len(), words);
}

#[test]
fn output_is_deterministic_and_resume_after_a_kill_completes_it() {
    let (tmp, model) = setup();
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, stories(12)).unwrap();
    let clean = tmp.path().join("clean.jsonl");
    let out = tmp.path().join("out.jsonl");
    for path in [&clean, &out] {
        let o = annotate(&model, &[s(&input), "-o", s(path)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let full = std::fs::read(&clean).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        full,
        "two runs, byte-identical"
    );
    // Other thread counts and chunk sizes change nothing.
    for (threads, chunk) in [("2", "5"), ("3", "1")] {
        let other = tmp.path().join(format!("threads{threads}.jsonl"));
        let o = ertag(&[
            "annotate",
            "--ner-model",
            s(&model),
            "--threads",
            threads,
            "--chunk-size",
            chunk,
            s(&input),
            "-o",
            s(&other),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(std::fs::read(&other).unwrap(), full, "{threads} threads");
    }
    // A kill -9 in the middle of a line.
    let torn = &full[..full.len() * 2 / 3];
    assert_ne!(torn.last(), Some(&b'\n'));
    std::fs::write(&out, torn).unwrap();
    let o = annotate(&model, &[s(&input), "-o", s(&out), "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let complete = torn.iter().filter(|&&b| b == b'\n').count();
    let skipped = format!("skipped {complete} already written");
    assert!(stderr(&o).contains(&skipped), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), full);
}

#[test]
fn three_shards_make_the_whole() {
    let (tmp, model) = setup();
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, stories(12)).unwrap();
    let whole = tmp.path().join("whole.jsonl");
    assert!(annotate(&model, &[s(&input), "-o", s(&whole)])
        .status
        .success());
    let mut union: Vec<String> = Vec::new();
    for i in 0..3 {
        let out = tmp.path().join(format!("shard{i}.jsonl"));
        let o = annotate(
            &model,
            &[s(&input), "-o", s(&out), "--shard", &format!("{i}/3")],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.lines().count() < 12, "a shard is a share");
        union.extend(text.lines().map(String::from));
    }
    union.sort();
    let mut want: Vec<String> = std::fs::read_to_string(&whole)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    want.sort();
    assert_eq!(union, want);
}

#[test]
fn compressed_files_custom_fields_and_standard_input() {
    let (tmp, model) = setup();
    let gz = tmp.path().join("a.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(b"{\"key\":\"g1\",\"body\":\"Anna met the mayor.\",\"desk\":\"x\"}\n")
        .unwrap();
    enc.finish().unwrap();
    let zst = tmp.path().join("b.txt.zst");
    std::fs::write(
        &zst,
        zstd::encode_all(&b"The mayor of Paris."[..], 0).unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("out.jsonl");
    let o = annotate(
        &model,
        &[
            s(&gz),
            s(&zst),
            "-o",
            s(&out),
            "--id-field",
            "key",
            "--text-field",
            "body",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let docs = lines(&out);
    assert_eq!(ids(&out), ["g1", "b"]);
    assert_eq!(docs[0]["meta"]["desk"], "x");
    assert_eq!(docs[1]["text"], "The mayor of Paris.");

    let mut child = command(&[
        "annotate",
        "-",
        "--ner-model",
        s(&model),
        "--threads",
        "1",
        "-o",
        "-",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stories(3).as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2]["id"], "s2");
}
