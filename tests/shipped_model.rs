//! The shipped default NER model (`models/ner/`) on the seed story, through the real binary.

mod common;

use std::collections::BTreeSet;

use ertag::document::Document;

use common::{command, ok};

#[test]
fn shipped_model_tags_the_seed_story() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let out = command(&["annotate", "examples/putin-calls.txt", "-o", "-"])
        .current_dir(repo)
        .output()
        .expect("ertag runs");
    let doc: Document = serde_json::from_str(&ok(&out)).expect("one JSON document");
    assert!(doc.problems().is_empty(), "{:?}", doc.problems());
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
