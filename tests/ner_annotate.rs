//! `ertag annotate` end to end: the real binary with a tiny random model (`tests/common`).

mod common;

use common::{ertag, read_jsonl, stderr, tiny_ner_model};
use ertag::document::Document;
use ertag::offsets::CharIndex;

#[test]
fn annotate_a_text_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_ner_model(&model);
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("wire")).unwrap();
    std::fs::write(
        input.join("a.txt"),
        "Zürich’s mayor “Anna” met Ömer 🙂 in Paris.\nQwxyz said: naïve café!\n",
    )
    .unwrap();
    std::fs::write(input.join("wire/b.txt"), "He met the mayor.").unwrap();
    let out = tmp.path().join("out.jsonl");
    let o = ertag(&[
        "annotate",
        input.to_str().unwrap(),
        "--ner-model",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--batch-size",
        "3",
        "--aggregation",
        "max",
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let docs: Vec<Document> = read_jsonl(&out);
    assert_eq!(docs.len(), 2);
    let mut total = 0;
    for doc in &docs {
        assert!(doc.problems().is_empty(), "{:?}", doc.problems());
        // Every word is its own PER entity, at the offsets of its token.
        assert_eq!(doc.entities.len(), doc.tokens.len(), "{}", doc.id);
        let ix = CharIndex::new(&doc.text);
        for (e, t) in doc.entities.iter().zip(&doc.tokens) {
            assert_eq!((e.start, e.end, e.label.as_str()), (t.start, t.end, "PER"));
            assert_eq!(Some(e.text.as_str()), ix.slice(t.start, t.end));
        }
        total += doc.entities.len();
    }
    let a = docs.iter().find(|d| d.id == "a").unwrap();
    let texts: Vec<&str> = a.entities.iter().map(|e| e.text.as_str()).collect();
    for w in ["Zürich", "“", "Ömer", "🙂", "Qwxyz", "naïve", "café"] {
        assert!(texts.contains(&w), "{w} in {texts:?}");
    }
    let err = stderr(&o);
    assert!(
        err.contains(&format!("annotated 2 documents: {total} entities")),
        "{err}"
    );
}

#[test]
fn a_missing_model_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.txt"), "Anna met the mayor.").unwrap();
    let missing = tmp.path().join("no-model");
    let o = ertag(&[
        "annotate",
        tmp.path().to_str().unwrap(),
        "--ner-model",
        missing.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("does not exist") && err.contains("ertag train ner"),
        "{err}"
    );
    // A directory that is not a model names the missing file.
    let o = ertag(&[
        "annotate",
        tmp.path().to_str().unwrap(),
        "--ner-model",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("config.json is missing"),
        "{}",
        stderr(&o)
    );
}
