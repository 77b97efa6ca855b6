//! The relation corpus of issue 7 (`eval/corpus/`, `eval/gold/`): stand-off files joined with
//! the shared data in `../shared` (and `examples/`). The counts are those of
//! `eval/corpus/DATA_CARD.md`; a changed source text is refused with a clear error.

mod common;

use common::{ertag, repo, stderr};
use ertag::error::Diagnostics;
use ertag::formats::{self, Format, Options};
use std::collections::BTreeMap;

/// (file, documents, entity mentions, positive relations per label)
type Split = (&'static str, usize, usize, [(&'static str, usize); 16]);

const SPLITS: [Split; 3] = [
    (
        "eval/corpus/geopolitics-train.jsonl",
        2719,
        28009,
        [
            ("phone call", 263),
            ("meeting", 588),
            ("mediates", 242),
            ("opposes interference", 179),
            ("supports", 482),
            ("criticizes", 730),
            ("threatens", 169),
            ("sanctions", 430),
            ("withdraws from", 135),
            ("military cooperation", 193),
            ("arms transfer", 66),
            ("cooperates with", 516),
            ("attacks", 687),
            ("leader of", 1275),
            ("member of", 896),
            ("located in", 801),
        ],
    ),
    (
        "eval/corpus/geopolitics-dev.jsonl",
        502,
        3638,
        [
            ("phone call", 2),
            ("meeting", 36),
            ("mediates", 4),
            ("opposes interference", 1),
            ("supports", 64),
            ("criticizes", 75),
            ("threatens", 14),
            ("sanctions", 28),
            ("withdraws from", 8),
            ("military cooperation", 18),
            ("arms transfer", 3),
            ("cooperates with", 41),
            ("attacks", 101),
            ("leader of", 91),
            ("member of", 92),
            ("located in", 109),
        ],
    ),
    (
        "eval/gold/geopolitics-test.jsonl",
        123,
        2233,
        [
            ("phone call", 4),
            ("meeting", 16),
            ("mediates", 4),
            ("opposes interference", 1),
            ("supports", 15),
            ("criticizes", 14),
            ("threatens", 7),
            ("sanctions", 2),
            ("withdraws from", 13),
            ("military cooperation", 21),
            ("arms transfer", 1),
            ("cooperates with", 17),
            ("attacks", 12),
            ("leader of", 51),
            ("member of", 49),
            ("located in", 61),
        ],
    ),
];

fn load(rel: &str) -> Vec<ertag::document::Document> {
    let path = repo().join(rel);
    let mut diag = Diagnostics::default();
    formats::read(&path, Format::Standoff, &Options::default(), &mut diag)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_three_splits_load_with_the_data_card_counts() {
    for (rel, n_docs, n_entities, labels) in SPLITS {
        let docs = load(rel);
        assert_eq!(docs.len(), n_docs, "{rel}: documents");
        let entities: usize = docs.iter().map(|d| d.entities.len()).sum();
        assert_eq!(entities, n_entities, "{rel}: entity mentions");
        let mut per_label: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &docs {
            assert!(
                d.problems().is_empty(),
                "{rel} {}: {:?}",
                d.id,
                d.problems()
            );
            for r in &d.relations {
                *per_label.entry(r.label.as_str()).or_default() += 1;
                // Both arguments lie in one sentence, which is the relation's evidence.
                assert!(
                    r.evidence.is_some(),
                    "{rel} {}: {r:?} has no sentence",
                    d.id
                );
            }
        }
        let expected: BTreeMap<&str, usize> = labels.into_iter().collect();
        assert_eq!(per_label, expected, "{rel}: relations per label");
    }
}

#[test]
fn the_gold_set_holds_the_seed_story() {
    let docs = load("eval/gold/geopolitics-test.jsonl");
    let seed = docs
        .iter()
        .find(|d| d.id == "putin-calls")
        .expect("seed story");
    let has = |h: &str, label: &str, t: &str| {
        seed.relations.iter().any(|r| {
            let text = |id: &str| seed.entity(id).map(|e| e.text.as_str());
            r.label == label && text(&r.head) == Some(h) && text(&r.tail) == Some(t)
        })
    };
    assert!(has("Vladimir Putin", "phone call", "Benjamin Netanyahu"));
    assert!(has("Russia", "opposes interference", "Iran"));
    assert!(docs.iter().any(|d| d.id == "naval-drills"));
}

#[test]
fn the_format_is_guessed_and_converts_to_jsonl() {
    let path = repo().join("eval/gold/geopolitics-test.jsonl");
    assert_eq!(
        formats::guess_format(&path, None).unwrap(),
        Format::Standoff
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gold.jsonl");
    let run = ertag(&[
        "convert",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 123);
    assert!(text.contains("\"text\":\"Russian President Vladimir Putin"));
}

#[test]
fn a_tampered_text_hash_is_a_clear_error() {
    let gold = std::fs::read_to_string(repo().join("eval/gold/geopolitics-test.jsonl")).unwrap();
    let mut lines: Vec<String> = gold.lines().take(3).map(String::from).collect();
    let mut rec: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
    let id = rec["id"].as_str().unwrap().to_string();
    rec["text_sha256"] = "0".repeat(64).into();
    lines[2] = rec.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tampered.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let shared = repo().join("../shared");
    let out = dir.path().join("out.jsonl");
    let args = [
        "convert",
        file.to_str().unwrap(),
        "--from",
        "standoff",
        "-o",
        out.to_str().unwrap(),
    ];
    let run = common::command(&args)
        .env("ERTAG_SHARED", &shared)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(err.contains("tampered.jsonl:line 3"), "{err}");
    assert!(err.contains(&format!("document '{id}'")), "{err}");
    assert!(err.contains("no longer matches"), "{err}");

    // Without the shared folder the source is missing, and the error says so.
    let run = common::command(&args)
        .env("ERTAG_SHARED", dir.path().join("nowhere"))
        .output()
        .unwrap();
    let err = stderr(&run);
    assert!(!run.status.success() && err.contains("missing"), "{err}");
    assert!(!out.exists());
}
