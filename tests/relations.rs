//! The relation stage through the binary: `ertag schema`, `ertag train relations` (joint on
//! CoNLL04 from a tiny backbone; frozen on a tiny NER model), resuming, and `ertag annotate`
//! with the trained relation model, whose output must be consistent documents whose relation
//! labels come from the schema.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ertag::document::Document;
use serde_json::Value;

use common::{
    ertag, ertag_ok, read_jsonl, repo, shared_data, stderr, succeeded, tiny_backbone,
    tiny_backbone_with_layers, tiny_ner_model,
};

fn conll04(split: &str) -> PathBuf {
    shared_data("conll04/spert_json").join(format!("conll04_{split}.json"))
}

/// The first `n` sentences of a CoNLL04 split as a file of its own.
fn first(split: &str, n: usize, dir: &Path) -> PathBuf {
    let all: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(conll04(split)).unwrap()).unwrap();
    let path = dir.join(format!("conll04_{split}.json"));
    std::fs::write(
        &path,
        Value::Array(all.into_iter().take(n).collect()).to_string(),
    )
    .unwrap();
    path
}

fn schema_labels(path: &Path) -> BTreeSet<String> {
    ertag::relations::Schema::load(path)
        .unwrap()
        .labels()
        .into_iter()
        .map(String::from)
        .collect()
}

/// Annotated documents must be consistent and use only the schema's labels.
fn check_annotated(out: &Path, labels: &BTreeSet<String>) -> Vec<Document> {
    let docs: Vec<Document> = read_jsonl(out);
    for d in &docs {
        assert!(d.problems().is_empty(), "{}: {:?}", d.id, d.problems());
        for r in &d.relations {
            assert!(labels.contains(&r.label), "{}", r.label);
            let s = r.score.expect("predicted relations have scores");
            assert!((0.0..=1.0).contains(&s));
            let ev = r.evidence.expect("evidence sentence");
            let head = d.entity(&r.head).unwrap();
            assert!(ev.start <= head.start && head.end <= ev.end);
        }
    }
    docs
}

#[test]
fn joint_training_on_conll04_annotates_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let train = first("train", 80, tmp.path());
    let dev = first("dev", 20, tmp.path());
    let corpus: String = std::fs::read_to_string(&train)
        .unwrap()
        .replace(['"', ','], " \n");
    let base = tmp.path().join("base");
    tiny_backbone(&base, &corpus);
    let schema = repo().join("eval/conll04/schema.toml");
    // `ertag train relations` on the tiny backbone, its outcome not yet checked.
    let train_cmd = |out: &Path, epochs: &str, resume: bool, base: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "relations",
            "--joint",
            "--schema",
            schema.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--dev",
            dev.to_str().unwrap(),
            "--base",
            base.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            epochs,
            "--lr",
            "2e-3",
            "--head-lr",
            "1e-2",
            "--batch-size",
            "8",
            "--max-subwords",
            "64",
            "--quiet",
        ];
        if resume {
            args.push("--resume");
        }
        args.extend_from_slice(extra);
        ertag(&args)
    };
    let run_with = |out: &Path, epochs: &str, resume: bool, base: &Path, extra: &[&str]| {
        let what = format!("ertag train relations --out {}", out.display());
        succeeded(train_cmd(out, epochs, resume, base, extra), what)
    };
    let run = |out: &Path, epochs: &str, resume: bool| run_with(out, epochs, resume, &base, &[]);
    let full = tmp.path().join("full");
    run(&full, "2", false);
    for f in [
        "relation.json",
        "relation_head.safetensors",
        "schema.toml",
        "model.safetensors",
        "tokenizer.json",
        "train_report.json",
        "last/state.json",
    ] {
        assert!(full.join(f).is_file(), "{f} missing");
    }
    let log: Vec<Value> = read_jsonl(&full.join("train_log.jsonl"));
    assert_eq!(log.len(), 2);
    let loss = |e: &Value| e["relation_loss"].as_f64().unwrap();
    assert!(
        loss(&log[1]) < loss(&log[0]),
        "relation loss did not fall: {log:?}"
    );
    assert!(log[1]["dev_relations"]["f1"].is_number());
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("relation.json")).unwrap())
            .unwrap();
    assert_eq!(settings["ner_model"], ".");
    assert_eq!(settings["thresholds"].as_array().unwrap().len(), 5);

    // The first 30 test sentences annotated with a trained model, checked.
    let test = first("test", 30, tmp.path());
    let annotate_into = |model: &Path, out: &Path, extra: &[&str]| {
        let mut args = vec![
            "annotate",
            test.to_str().unwrap(),
            "--from",
            "conll04",
            "--relation-model",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ertag_ok(&args);
        check_annotated(out, &schema_labels(&schema))
    };
    let annotate_test =
        |model: &Path| annotate_into(model, &tmp.path().join("annotated.jsonl"), &[]);
    let docs = annotate_test(&full);
    assert_eq!(docs.len(), 30);
    assert!(docs.iter().any(|d| !d.entities.is_empty()));

    // One epoch, then the second resumed from last/.
    let resumed = tmp.path().join("resumed");
    run(&resumed, "1", false);
    run(&resumed, "2", true);
    let log2: Vec<Value> = read_jsonl(&resumed.join("train_log.jsonl"));
    assert_eq!(log2.len(), 2);
    assert_eq!(log2[1]["steps"], log[1]["steps"]);

    // The head with an encoder layer of its own on the jointly trained encoder: it is saved
    // with the model, the saved NER config asks for no layer outputs, and annotation uses it.
    // Trained with one mention-swapped copy of each document, which doubles the steps.
    let base2 = tmp.path().join("base2");
    tiny_backbone_with_layers(&base2, &corpus, 2);
    let own = tmp.path().join("own");
    run_with(
        &own,
        "2",
        false,
        &base2,
        &[
            "--encoder-layers",
            "1",
            "--mention-swaps",
            "1",
            "--pair-markers",
        ],
    );
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(own.join("relation.json")).unwrap()).unwrap();
    assert_eq!(settings["head"]["encoder_layers"], 1);
    assert_eq!(settings["head"]["pair_markers"], true);
    let config = std::fs::read_to_string(own.join("config.json")).unwrap();
    assert!(!config.contains("output_hidden_states"), "{config}");
    let own_log: Vec<Value> = read_jsonl(&own.join("train_log.jsonl"));
    assert!(loss(&own_log[1]) < loss(&own_log[0]), "{own_log:?}");
    let steps = |log: &[Value]| log[1]["steps"].as_u64().unwrap() as f64;
    assert!(
        steps(&own_log) > 1.8 * steps(&log),
        "the swapped copies were not trained on: {} steps against {}",
        steps(&own_log),
        steps(&log)
    );
    assert_eq!(annotate_test(&own).len(), 30);

    // A final model on train + dev with the sentence context: every epoch's model is kept (the
    // last one stays) and the thresholds are the dev-selected model's.
    let last = tmp.path().join("last-epoch");
    let final_args = [
        "--train",
        dev.to_str().unwrap(),
        "--keep",
        "last",
        "--thresholds-from",
        full.to_str().unwrap(),
        "--sentence-context",
    ];
    run_with(&last, "2", false, &base, &final_args);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(last.join("train_report.json")).unwrap())
            .unwrap();
    assert_eq!(report["best_epoch"], 2);
    let log3: Vec<Value> = read_jsonl(&last.join("train_log.jsonl"));
    assert!(
        log3[1]["steps"].as_u64() > log[1]["steps"].as_u64(),
        "dev was not added to the training data"
    );
    let thresholds = |dir: &Path| {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("relation.json")).unwrap())
                .unwrap();
        (
            v["thresholds"].clone(),
            v["head"]["sentence_context"].clone(),
        )
    };
    assert_eq!(thresholds(&last).0, thresholds(&full).0);
    assert_eq!(thresholds(&last).1, true);
    assert_eq!(annotate_test(&last).len(), 30);

    // The three models as an ensemble: each annotates with a low threshold, `ertag vote`
    // keeps the mentions most of them found and the relations whose mean score is 0.5 or more.
    let members: Vec<PathBuf> = [&full, &own, &last]
        .iter()
        .enumerate()
        .map(|(i, model)| {
            let out = tmp.path().join(format!("member{i}.jsonl"));
            annotate_into(model, &out, &["--relation-threshold", "0.05"]);
            out
        })
        .collect();
    let voted = tmp.path().join("voted.jsonl");
    let mut args = vec!["vote"];
    args.extend(members.iter().map(|p| p.to_str().unwrap()));
    args.extend([
        "--schema",
        schema.to_str().unwrap(),
        "-o",
        voted.to_str().unwrap(),
    ]);
    ertag_ok(&args);
    let voted = check_annotated(&voted, &schema_labels(&schema));
    let members: Vec<Vec<Document>> = members.iter().map(|p| read_jsonl(p)).collect();
    assert_eq!(voted.len(), 30);
    for (i, d) in voted.iter().enumerate() {
        let found = |e: &ertag::Entity| {
            members
                .iter()
                .filter(|m| {
                    m[i].entities
                        .iter()
                        .any(|x| (x.start, x.end, &x.label) == (e.start, e.end, &e.label))
                })
                .count()
        };
        for e in &d.entities {
            assert!(found(e) >= 2, "{}: {e:?} found by {} of 3", d.id, found(e));
        }
        for r in &d.relations {
            assert!(r.score.unwrap() >= 0.5, "{r:?}");
        }
    }
    // Thresholds of a model with other labels are refused before training starts.
    let shipped = repo().join("models/relations");
    let refused = train_cmd(
        &tmp.path().join("refused"),
        "1",
        false,
        &base,
        &["--thresholds-from", shipped.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(err.contains("are not the schema's"), "{err}");
    assert!(!tmp.path().join("refused/train_log.jsonl").exists());
}

/// A tiny corpus over the tiny NER model's vocabulary: "anna met the mayor of zurich" with
/// `met` (PER--PER, symmetric) and `mayor of` (PER -> LOC) relations.
fn tiny_corpus(path: &Path, n: usize) {
    let mut lines = String::new();
    for i in 0..n {
        let text = "Anna met the mayor of Zurich. He said Paris.";
        let doc = serde_json::json!({
            "id": format!("d{i}"), "text": text,
            "entities": [
                {"id": "T1", "start": 0, "end": 4, "label": "PER", "text": "Anna"},
                {"id": "T2", "start": 13, "end": 18, "label": "PER", "text": "mayor"},
                {"id": "T3", "start": 22, "end": 28, "label": "LOC", "text": "Zurich"},
                {"id": "T4", "start": 38, "end": 43, "label": "LOC", "text": "Paris"}
            ],
            "relations": [
                {"head": "T2", "tail": "T1", "label": "met"},
                {"head": "T2", "tail": "T3", "label": "mayor of"}
            ]
        });
        lines += &(doc.to_string() + "\n");
    }
    std::fs::write(path, lines).unwrap();
}

const TINY_SCHEMA: &str = r#"
name = "tiny"
entity_types = ["PER", "LOC"]

[[relations]]
name = "met"
description = "two people met"
direction = "symmetric"
pairs = [["PER", "PER"]]

[[relations]]
name = "mayor of"
direction = "directed"
pairs = [["PER", "LOC"]]
"#;

#[test]
fn a_frozen_head_shares_its_ner_model_and_refuses_another() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let ner = models.join("ner");
    tiny_ner_model(&ner);
    let data = tmp.path().join("train.jsonl");
    tiny_corpus(&data, 12);
    let schema = tmp.path().join("schema.toml");
    std::fs::write(&schema, TINY_SCHEMA).unwrap();
    let rel = models.join("relations");
    ertag_ok(&[
        "train",
        "relations",
        "--schema",
        schema.to_str().unwrap(),
        "--train",
        data.to_str().unwrap(),
        "--dev",
        data.to_str().unwrap(),
        "--base",
        ner.to_str().unwrap(),
        "--out",
        rel.to_str().unwrap(),
        "--epochs",
        "2",
        "--head-lr",
        "1e-2",
        "--quiet",
    ]);
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(rel.join("relation.json")).unwrap()).unwrap();
    assert_eq!(settings["ner_model"], "../ner");
    assert_eq!(settings["joint"], false);
    assert!(
        !rel.join("model.safetensors").exists(),
        "a frozen head does not copy the encoder"
    );

    let input = tmp.path().join("in.txt");
    std::fs::write(&input, "Anna met the mayor of Zurich. She said.").unwrap();
    let out = tmp.path().join("out.jsonl");
    ertag_ok(&[
        "annotate",
        input.to_str().unwrap(),
        "--relation-model",
        rel.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let docs = check_annotated(&out, &schema_labels(&schema));
    // The tiny NER model tags every word PER, so "Anna" and "met" ... are PER mentions: pairs exist.
    assert!(docs[0].entities.len() >= 2);
    if !docs[0].relations.is_empty() {
        assert!(
            !docs[0].actors.is_empty(),
            "relations come with document-level actors"
        );
    }

    // --ner-model next to --relation-model is refused: the relation model names its encoder.
    let both = ertag(&[
        "annotate",
        input.to_str().unwrap(),
        "--relation-model",
        rel.to_str().unwrap(),
        "--ner-model",
        ner.to_str().unwrap(),
    ]);
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("leave out --ner-model"),
        "{}",
        stderr(&both)
    );

    // Another NER model in its place: the head must not run on it.
    tiny_ner_model(&ner);
    let weights = ner.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&weights, bytes).unwrap();
    let refused = ertag(&[
        "annotate",
        input.to_str().unwrap(),
        "--relation-model",
        rel.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is not the one this relation head was trained on"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn schema_check_and_show() {
    let good = repo().join("eval/conll04/schema.toml");
    let out = ertag_ok(&["schema", "check", good.to_str().unwrap()]);
    assert!(common::stdout(&out).contains("5 relation labels"));
    let out = ertag_ok(&["schema", "show", good.to_str().unwrap()]);
    assert!(
        common::stdout(&out).contains("Peop -> Org"),
        "{}",
        common::stdout(&out)
    );

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        TINY_SCHEMA.replace(r#"[["PER", "LOC"]]"#, r#"[["PER", "GPE"]]"#),
    )
    .unwrap();
    let out = ertag(&["schema", "check", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(
        msg.contains("bad.toml") && msg.contains("line 12") && msg.contains("\"GPE\""),
        "{msg}"
    );
}
