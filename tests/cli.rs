//! The real `ertag` binary on real files.

mod common;

use common::{ertag, read_jsonl, shared_data, stderr, stdout};

fn shared(rel: &str) -> String {
    shared_data(rel).display().to_string()
}

#[test]
fn info_runs_libtorch_without_ld_library_path() {
    let o = ertag(&["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("libtorch check: sum([1, 2, 3]) = 6"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        vec!["annotate"],
        vec!["eval"],
        vec!["convert"],
        vec!["segment"],
        vec!["train", "ner"],
        vec!["train", "relations"],
        vec!["schema", "check"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let o = ertag(&args);
        assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Example"), "{cmd:?}: {}", stdout(&o));
    }
}

#[test]
fn missing_schema_files_are_named() {
    for args in [
        vec!["schema", "show", "s.json"],
        vec![
            "train",
            "relations",
            "--schema",
            "s.json",
            "--train",
            "t",
            "--dev",
            "d",
            "--base",
            "b",
            "--out",
            "o",
        ],
    ] {
        let o = ertag(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains("s.json"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn convert_conll04_to_jsonl_and_brat_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("dev.jsonl");
    let input = shared("conll04/spert_json/conll04_dev.json");
    let o = ertag(&["convert", &input, "-o", jsonl.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("converted 231 documents, 893 entities, 343 relations"),
        "{}",
        stderr(&o)
    );
    let docs: Vec<serde_json::Value> = read_jsonl(&jsonl);
    assert_eq!(docs.len(), 231);

    let brat = dir.path().join("brat");
    let o = ertag(&[
        "convert",
        jsonl.to_str().unwrap(),
        "--to",
        "brat",
        "-o",
        brat.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = dir.path().join("back.jsonl");
    let o = ertag(&[
        "convert",
        brat.to_str().unwrap(),
        "-o",
        back.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again: Vec<serde_json::Value> = read_jsonl(&back);
    assert_eq!(again.len(), 231);
    let count = |docs: &[serde_json::Value], key: &str| -> usize {
        docs.iter().map(|d| d[key].as_array().unwrap().len()).sum()
    };
    assert_eq!(count(&again, "entities"), 893);
    assert_eq!(count(&again, "relations"), 343);
}

#[test]
fn malformed_jsonl_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\":\"a\",\"text\":\"Iran\"}\n{\"id\":\"b\",\"text\":\"Moscow\",\"entities\":[{\"id\":\"T1\",\"start\":0,\"end\":6,\"label\":\"LOC\",\"text\":\"Kremlin\"}]}\n",
    )
    .unwrap();
    let o = ertag(&["convert", bad.to_str().unwrap(), "-o", "-"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("bad.jsonl:line 2 document 'b'"), "{err}");
    assert!(err.contains("\"Kremlin\""), "{err}");
}

#[test]
fn strict_refuses_what_would_be_dropped() {
    // Overlapping entities cannot be written as BIO tags: a warning, or an error with --strict.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("overlap.jsonl");
    std::fs::write(
        &input,
        r#"{"id":"o","text":"New York Times","entities":[{"id":"T1","start":0,"end":8,"label":"LOC","text":"New York"},{"id":"T2","start":0,"end":14,"label":"ORG","text":"New York Times"}]}
"#,
    )
    .unwrap();
    let out = dir.path().join("o.conll");
    let args = [
        "convert",
        input.to_str().unwrap(),
        "--to",
        "conll",
        "-o",
        out.to_str().unwrap(),
    ];
    let o = ertag(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("dropped"), "{}", stderr(&o));
    let mut strict = args.to_vec();
    strict.push("--strict");
    let o = ertag(&strict);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--strict"), "{}", stderr(&o));
}

#[test]
fn segment_examples() {
    let o = ertag(&["segment", "examples/"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let docs: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 3);
    for d in &docs {
        assert!(d["sentences"].as_array().unwrap().len() > 3, "{}", d["id"]);
        assert!(d["tokens"].as_array().unwrap().len() > 50, "{}", d["id"]);
    }
}
