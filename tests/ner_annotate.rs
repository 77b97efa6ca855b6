//! `ertag annotate` end to end: the real binary with a tiny random model made here.

mod common;

use std::path::Path;

use ertag::document::Document;
use ertag::offsets::CharIndex;
use serde_json::{json, Map, Value};
use tch::Tensor;

use common::{ertag, read_jsonl, stderr, tiny_bert_config, wordpiece_tokenizer};

const LABELS: [&str; 5] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

/// A tiny WordPiece tokenizer (lower-casing, accent-stripping, like the shipped backbone's).
fn tokenizer_json() -> String {
    let words = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "mayor", "of", "zurich", "met", "anna", "in",
        "paris", "said", ".", ",", "he", "she", "##s",
    ];
    wordpiece_tokenizer(&words, 4).to_string()
}

/// A tiny random BERT NER model whose head always prefers B-PER.
fn tiny_model(dir: &Path) {
    let id2label: Map<String, Value> = LABELS
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), (*l).into()))
        .collect();
    let config = tiny_bert_config(
        32,
        8,
        4,
        json!({"id2label": id2label, "ertag": {"casing": true, "scheme": "iob2"}}),
    );
    let model = common::tiny_model(dir, &config);
    {
        let _g = tch::no_grad_guard();
        let mut vars = model.vs.variables();
        let bias = vars.get_mut("classifier.bias").unwrap();
        bias.copy_(&Tensor::from_slice(&[0f32, 100.0, 0.0, 0.0, 0.0]));
    }
    model.save(dir, true).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
}

#[test]
fn annotate_a_text_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_model(&model);
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
