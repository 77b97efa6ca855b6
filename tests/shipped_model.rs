//! The shipped default NER model (`models/ner/`) on the seed story, through the real binary.

mod common;

use std::collections::BTreeSet;

use ertag::document::Document;

use common::{command, ok};

/// `ertag annotate` with the default models on the seed story (a copy in `examples/`).
fn annotate_seed_story() -> Document {
    let out = command(&["annotate", "examples/putin-calls.txt", "-o", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ertag runs");
    let doc: Document = serde_json::from_str(&ok(&out)).expect("one JSON document");
    assert!(doc.problems().is_empty(), "{:?}", doc.problems());
    doc
}

#[test]
fn shipped_model_tags_the_seed_story() {
    let doc = annotate_seed_story();
    let found: BTreeSet<(String, String)> = doc
        .entities
        .iter()
        .map(|e| (e.text.clone(), e.label.clone()))
        .collect();
    for (text, label) in [
        ("Vladimir Putin", "PER"),
        ("Benjamin Netanyahu", "PER"),
        ("Masoud Pezeshkian", "PER"),
        ("Dmitry Peskov", "PER"),
        ("Iran", "LOC"),
        ("Israel", "LOC"),
        ("New Zealand", "LOC"),
        ("Tehran", "LOC"),
    ] {
        assert!(
            found.contains(&(text.to_string(), label.to_string())),
            "{text} as {label} not found in {found:?}"
        );
    }
    for e in &doc.entities {
        let s = e.score.expect("model entities carry a score");
        assert!((0.0..=1.0).contains(&s), "{e:?}");
    }
}

/// The shipped relation model (`models/relations/`, a head on the shipped NER model's encoder)
/// runs by default: it finds the seed story's roles, links only mentions of its own document with
/// its schema's labels, finds the three relations of issue 7's done-when (Putin's two phone
/// calls, Russia -> Iran `opposes interference`), and groups mentions into actors and triples.
#[test]
fn shipped_relation_model_runs_by_default_on_the_seed_story() {
    let doc = annotate_seed_story();
    let schema = ertag::relations::Schema::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/relations/schema.toml"),
    )
    .unwrap();
    let text = |id: &str| doc.entity(id).map(|e| e.text.clone()).unwrap_or_default();
    let found: BTreeSet<(String, String, String)> = doc
        .relations
        .iter()
        .map(|r| (text(&r.head), r.label.clone(), text(&r.tail)))
        .collect();
    for r in &doc.relations {
        assert!(schema.label_index(&r.label).is_some(), "{}", r.label);
    }
    for (h, label, t) in [
        ("Vladimir Putin", "leader of", "Russian"),
        ("Benjamin Netanyahu", "leader of", "Israeli"),
        ("Masoud Pezeshkian", "leader of", "Iranian"),
        ("Vladimir Putin", "phone call", "Benjamin Netanyahu"),
        ("Vladimir Putin", "phone call", "Masoud Pezeshkian"),
        ("Russia", "opposes interference", "Iran"),
    ] {
        let key = (h.to_string(), label.to_string(), t.to_string());
        let reverse = (t.to_string(), label.to_string(), h.to_string());
        let symmetric = schema
            .label_index(label)
            .is_some_and(|l| schema.is_symmetric(l));
        assert!(
            found.contains(&key) || (symmetric && found.contains(&reverse)),
            "{key:?} not found in {found:?}"
        );
    }
    let putin = doc
        .actors
        .iter()
        .find(|a| a.name == "Vladimir Putin")
        .expect("an actor for Putin");
    assert!(putin.mentions.len() > 1, "{putin:?}");
    assert!(doc.triples.iter().any(|t| t.label == "leader of"));
}

/// `--relation-threshold` replaces the labels' thresholds: a low one keeps more relations, every
/// one scoring at least it; a score outside [0, 1] is refused.
#[test]
fn one_relation_threshold_for_every_label() {
    let run = |extra: &[&str]| {
        let mut args = vec!["annotate", "examples/putin-calls.txt", "-o", "-"];
        args.extend_from_slice(extra);
        command(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("ertag runs")
    };
    let doc = |out: std::process::Output| -> Document {
        serde_json::from_str(&ok(&out)).expect("one JSON document")
    };
    let default = doc(run(&[]));
    let low = doc(run(&["--relation-threshold", "0.05"]));
    assert!(
        low.relations.len() > default.relations.len(),
        "{} relations at 0.05, {} by default",
        low.relations.len(),
        default.relations.len()
    );
    for r in &low.relations {
        assert!(r.score.unwrap() >= 0.05, "{r:?}");
    }
    let refused = run(&["--relation-threshold", "1.5"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("not between 0 and 1"), "{err}");
}
