//! `ertag train ner` end to end through the binary, on a tiny random BERT made here (a few
//! thousand weights, a WordPiece vocabulary of characters and frequent words) and the first
//! CoNLL-2003 training documents: the run must write a loadable checkpoint, log one line per
//! epoch with a falling loss, and resume after an epoch.

mod common;

use std::path::{Path, PathBuf};

use ertag::ner::TokenClassifier;
use serde_json::Value;
use tch::Device;

use common::{ertag_ok as ertag, read_jsonl, shared_data, tiny_backbone};

fn conll(split: &str) -> PathBuf {
    shared_data("conll2003/iob2").join(format!("{split}.txt"))
}

/// The first `n` documents of a CoNLL file (split at `-DOCSTART-`).
fn first_docs(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for (i, doc) in text
        .split("-DOCSTART-")
        .filter(|d| !d.trim().is_empty())
        .enumerate()
    {
        if i == n {
            break;
        }
        out += "-DOCSTART-";
        out += doc;
    }
    out
}

fn log_lines(out: &Path) -> Vec<Value> {
    read_jsonl(&out.join("train_log.jsonl"))
}

#[test]
fn trains_saves_logs_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = tmp.path().join("dev.txt");
    std::fs::write(&dev, first_docs(&conll("dev"), 5)).unwrap();
    let base = tmp.path().join("base");
    tiny_backbone(&base, &first_docs(&conll("train"), 30));
    let train = conll("train");
    let run = |out: &Path, epochs: &str, resume: bool| {
        let mut args = vec![
            "train",
            "ner",
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
            "--batch-size",
            "8",
            "--max-subwords",
            "64",
            "--limit-train-docs",
            "30",
            "--quiet",
        ];
        if resume {
            args.push("--resume");
        }
        ertag(&args)
    };

    let full = tmp.path().join("full");
    run(&full, "2", false);
    let model = TokenClassifier::load(&full, Device::Cpu).unwrap();
    assert_eq!(model.labels()[0], "O");
    assert!(
        model.labels().iter().any(|l| l == "B-PER"),
        "{:?}",
        model.labels()
    );
    assert!(model.config.ertag.casing);
    for f in ["tokenizer.json", "training_args.json", "last/state.json"] {
        assert!(full.join(f).is_file(), "{f} missing");
    }
    let log = log_lines(&full);
    assert_eq!(log.len(), 2);
    let loss = |e: &Value| e["train_loss"].as_f64().unwrap();
    assert!(loss(&log[1]) < loss(&log[0]), "loss did not fall: {log:?}");
    assert!(log[1]["dev_micro"]["f1"].is_number());

    // One epoch, then a second one resumed from last/: the same data order and schedule.
    let resumed = tmp.path().join("resumed");
    run(&resumed, "1", false);
    assert_eq!(log_lines(&resumed).len(), 1);
    run(&resumed, "2", true);
    let log2 = log_lines(&resumed);
    assert_eq!(log2.len(), 2);
    assert_eq!(log2[1]["epoch"], 2);
    assert_eq!(log2[1]["steps"], log[1]["steps"]);
    TokenClassifier::load(&resumed, Device::Cpu).unwrap();
}

/// The pure parts of training: schedule, labels, label alignment, batching.
mod units {
    use ertag::document::{Document, Span};
    use ertag::ner::train::*;
    use ertag::ner::Window;
    use ertag::tags::TagScheme;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        // 100 steps, 10 of warm-up, peak 1.0.
        let lr = |s| lr_at(s, 100, 10, 1.0);
        assert!((lr(0) - 0.1).abs() < 1e-12);
        assert!((lr(4) - 0.5).abs() < 1e-12);
        assert!((lr(9) - 1.0).abs() < 1e-12);
        assert!((lr(10) - 1.0).abs() < 1e-12);
        assert!((lr(55) - 0.5).abs() < 1e-12);
        assert!((lr(99) - 1.0 / 90.0).abs() < 1e-12);
        assert_eq!(lr(100), 0.0);
        // No warm-up: decay from the peak at once.
        assert!((lr_at(0, 4, 0, 2.0) - 2.0).abs() < 1e-12);
        assert!((lr_at(3, 4, 0, 2.0) - 0.5).abs() < 1e-12);
    }

    fn doc_with(entities: &[(usize, usize, &str)]) -> Document {
        // "Ann Lee saw Paris ." : tokens at chars 0-3, 4-7, 8-11, 12-17, 18-19.
        let mut d = Document::new("d", "Ann Lee saw Paris .");
        d.tokens = [(0, 3), (4, 7), (8, 11), (12, 17), (18, 19)]
            .iter()
            .map(|&(a, b)| Span::new(a, b))
            .collect();
        for &(a, b, l) in entities {
            d.add_entity(a, b, l);
        }
        d
    }

    #[test]
    fn label_set_is_o_then_sorted_types() {
        let docs = [
            doc_with(&[(12, 17, "LOC"), (0, 7, "PER")]),
            doc_with(&[(0, 3, "MISC")]),
        ];
        assert_eq!(
            label_set(&docs, TagScheme::Iob2),
            ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-PER", "I-PER"]
        );
        assert_eq!(
            label_set(&docs[1..], TagScheme::Bioes),
            ["O", "B-MISC", "I-MISC", "E-MISC", "S-MISC"]
        );
        assert_eq!(label_set(&[doc_with(&[])], TagScheme::Iob2), ["O"]);
    }

    #[test]
    fn tags_follow_the_tokens_and_misaligned_entities_are_counted() {
        let doc = doc_with(&[(0, 7, "PER"), (13, 17, "LOC")]);
        let labels = label_set(
            &[doc_with(&[(0, 7, "PER"), (12, 17, "LOC")])],
            TagScheme::Iob2,
        );
        let (ids, dropped) = doc_tag_ids(&doc, &labels, TagScheme::Iob2);
        // O=0 B-LOC=1 I-LOC=2 B-PER=3 I-PER=4; "aris" is not a token, so LOC is dropped.
        assert_eq!(ids, [3, 4, 0, 0, 0]);
        assert_eq!(dropped, 1);
    }

    #[test]
    fn only_first_sub_words_of_decided_words_carry_labels() {
        // [CLS] An ##n Lee | saw Par ##is [SEP]: words 0..2 are context, 2..4 decided.
        let w = Window {
            doc: 0,
            input_ids: vec![101, 5, 6, 7, 8, 9, 10, 102],
            type_ids: vec![0; 8],
            word_of: vec![
                None,
                Some(0),
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(3),
                None,
            ],
            first_of_word: vec![false, true, false, true, true, true, false, false],
            decides: 2..4,
        };
        let tags = [3, 4, 0, 1, 0];
        assert_eq!(
            window_labels(&w, &tags),
            [IGNORE, IGNORE, IGNORE, IGNORE, 0, 1, IGNORE, IGNORE]
        );
    }

    #[test]
    fn epoch_batches_cover_every_window_once_and_depend_on_seed_and_epoch() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 37) % 120 + 3).collect();
        let a = epoch_batches(&lengths, 16, 42, 1);
        assert_eq!(a.len(), steps_per_epoch(1000, 16));
        let mut seen: Vec<usize> = a.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert!(a.iter().filter(|b| b.len() < 16).count() <= 1);
        assert_eq!(a, epoch_batches(&lengths, 16, 42, 1));
        assert_ne!(a, epoch_batches(&lengths, 16, 42, 2));
        assert_ne!(a, epoch_batches(&lengths, 16, 7, 1));
        // Bucketing: lengths inside a batch are close (chunks are sorted before cutting).
        let spread: usize = a
            .iter()
            .map(|b| {
                b.iter().map(|&i| lengths[i]).max().unwrap()
                    - b.iter().map(|&i| lengths[i]).min().unwrap()
            })
            .sum();
        assert!(spread / a.len() < 20, "mean spread {}", spread / a.len());
    }

    #[test]
    fn config_round_trips_with_defaults_for_missing_fields() {
        let c: TrainConfig = serde_json::from_str(r#"{"epochs": 2}"#).unwrap();
        assert_eq!(
            c,
            TrainConfig {
                epochs: 2,
                ..TrainConfig::default()
            }
        );
        let back: TrainConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
