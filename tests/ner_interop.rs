//! Token classifiers against Python transformers, both ways, on tiny random checkpoints of every
//! architecture ertag runs (made by `scripts/tiny_checkpoints.py`), and the errors a broken
//! checkpoint directory gives.
//!
//! The Python side needs torch, transformers and tokenizers: the project's `.venv`, or the
//! interpreter named by `ERTAG_PYTHON` (`make setup` installs it). Without one these tests fail:
//! an interoperability test that passes without running proves nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ertag::ner::{Architecture, ModelConfig, TokenClassifier};
use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};

use common::{repo, succeeded};

const ARCHS: [&str; 5] = ["bert", "bert-cased", "distilbert", "roberta", "xlm-roberta"];
const LABELS: [&str; 5] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
const TOLERANCE: f64 = 1e-4;

/// A Python with torch, transformers and tokenizers.
fn python() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("ERTAG_PYTHON") {
        Some(p) => vec![p.into()],
        None => vec![repo().join(".venv/bin/python"), "python3".into()],
    };
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", "import torch, transformers, tokenizers"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return p;
        }
    }
    panic!(
        "no Python with torch, transformers and tokenizers: run `make setup` or set ERTAG_PYTHON"
    );
}

fn script(python: &Path, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(repo().join("scripts/tiny_checkpoints.py"))
        .args(args)
        .output()
        .expect("python runs");
    let out = succeeded(out, format_args!("tiny_checkpoints.py {args:?}"));
    String::from_utf8(out.stdout).unwrap()
}

/// Make the tiny checkpoints in `dir`; returns the manifest.
fn make(python: &Path, dir: &Path) -> Value {
    script(python, &["make", dir.to_str().unwrap()]);
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn matrix(v: &Value) -> Vec<Vec<i64>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn tensor(rows: &[Vec<i64>]) -> Tensor {
    let flat: Vec<i64> = rows.concat();
    Tensor::from_slice(&flat).view([rows.len() as i64, rows[0].len() as i64])
}

fn logits_json(v: &Value) -> Vec<Vec<Vec<f64>>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn logits_vec(t: &Tensor) -> Vec<Vec<Vec<f64>>> {
    let t = t.to_kind(Kind::Double).to_device(Device::Cpu);
    let [b, l, n] = t.size()[..] else {
        panic!("logits are not 3-d: {:?}", t.size())
    };
    let flat = Vec::<f64>::try_from(t.flatten(0, -1)).unwrap();
    let n = n as usize;
    (0..b as usize)
        .map(|i| {
            (0..l as usize)
                .map(|j| flat[(i * l as usize + j) * n..][..n].to_vec())
                .collect()
        })
        .collect()
}

/// Largest difference between two logit arrays over the positions where `mask` is 1.
fn max_diff(a: &[Vec<Vec<f64>>], b: &[Vec<Vec<f64>>], mask: &[Vec<i64>], what: &str) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}: batch sizes");
    let mut worst = 0f64;
    for (i, row) in mask.iter().enumerate() {
        assert_eq!(a[i].len(), b[i].len(), "{what}: lengths");
        for (j, m) in row.iter().enumerate() {
            if *m == 0 {
                continue;
            }
            assert_eq!(a[i][j].len(), b[i][j].len(), "{what}: label counts");
            for (x, y) in a[i][j].iter().zip(&b[i][j]) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    worst
}

fn rust_logits(model: &TokenClassifier, ids: &[Vec<i64>], mask: &[Vec<i64>]) -> Tensor {
    let (hidden, logits) = model
        .forward_t(&tensor(ids), &tensor(mask), None, false)
        .unwrap();
    let (b, l) = (ids.len() as i64, ids[0].len() as i64);
    assert_eq!(hidden.size(), [b, l, model.hidden_size]);
    assert_eq!(logits.size(), [b, l, model.labels().len() as i64]);
    logits
}

/// Python's checkpoints load in ertag: labels, architecture, the tokenizer's ids and offsets,
/// and the logits for a padded batch (compared where the mask is 1).
#[test]
fn python_checkpoints_load_in_rust() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let manifest = make(&py, dir.path());
    let mut report = Vec::new();
    for arch in ARCHS {
        let m = &manifest[arch];
        let path = dir.path().join(arch);

        // The tokenizer: the Rust crate reads the file Python wrote and encodes alike.
        let tok = tokenizers::Tokenizer::from_file(path.join("tokenizer.json")).unwrap();
        for e in m["encodings"].as_array().unwrap() {
            let text = e["text"].as_str().unwrap();
            let enc = tok.encode(text, true).unwrap();
            let ids: Vec<i64> = enc.get_ids().iter().map(|&i| i as i64).collect();
            let want: Vec<i64> = serde_json::from_value(e["ids"].clone()).unwrap();
            assert_eq!(ids, want, "{arch}: ids of {text:?}");
            let offsets: Vec<[usize; 2]> = enc.get_offsets().iter().map(|&(a, b)| [a, b]).collect();
            let want: Vec<[usize; 2]> = serde_json::from_value(e["offsets"].clone()).unwrap();
            assert_eq!(offsets, want, "{arch}: offsets of {text:?}");
            assert!(ids.iter().all(|&i| i < m["vocab_size"].as_i64().unwrap()));
        }

        let model = TokenClassifier::load(&path, Device::Cpu).unwrap();
        assert_eq!(model.labels(), LABELS, "{arch}");
        let want_arch = match arch {
            "distilbert" => Architecture::DistilBert,
            "roberta" | "xlm-roberta" => Architecture::Roberta,
            _ => Architecture::Bert,
        };
        assert_eq!(model.config.architecture, want_arch, "{arch}");
        assert_eq!(model.hidden_size, 16, "{arch}");

        let ids = matrix(&m["ids"]);
        let mask = matrix(&m["mask"]);
        assert!(
            mask.iter().flatten().any(|&x| x == 0),
            "{arch}: the batch should have padding"
        );
        let got = logits_vec(&rust_logits(&model, &ids, &mask));
        let d = max_diff(&got, &logits_json(&m["logits"]), &mask, arch);
        report.push(format!("{arch} {d:.2e}"));
        assert!(d < TOLERANCE, "{arch}: logits differ from Python's by {d}");
    }
    eprintln!(
        "Python -> Rust, max |logit difference|: {}",
        report.join(", ")
    );
}

/// Every variable shifted by seeded noise, so that LayerNorm gains, biases and the head all
/// differ from their initial values and a weight loaded under the wrong name shows.
fn perturb(model: &mut TokenClassifier, seed: i64) {
    tch::manual_seed(seed);
    let _guard = tch::no_grad_guard();
    for (_, mut var) in model.vs.variables() {
        let noise = var.randn_like() * 0.3;
        let _ = var.g_add_(&noise);
    }
}

/// ertag's checkpoints load in Python with no missing or unexpected weights and the same labels
/// and logits, saved in fp32 and in fp16.
#[test]
fn rust_checkpoints_load_in_python() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let manifest = make(&py, &dir.path().join("py"));
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for (i, arch) in ARCHS.iter().enumerate() {
        let m = &manifest[*arch];
        // Python's config, Rust's random weights.
        let cfg_dir = dir.path().join("cfg").join(arch);
        std::fs::create_dir_all(&cfg_dir).unwrap();
        let cfg_path = cfg_dir.join("config.json");
        std::fs::copy(
            dir.path().join("py").join(arch).join("config.json"),
            &cfg_path,
        )
        .unwrap();
        let config = ModelConfig::from_file(&cfg_path).unwrap();
        tch::manual_seed(7 + i as i64);
        let mut model = TokenClassifier::new(config, Device::Cpu).unwrap();
        perturb(&mut model, 7 + i as i64);
        let ids = matrix(&m["ids"]);
        let mask = matrix(&m["mask"]);
        for half in [false, true] {
            let out = dir
                .path()
                .join("rust")
                .join(format!("{arch}-{}", if half { "fp16" } else { "fp32" }));
            model.save(&out, half).unwrap();
            // fp16 rounds the weights: compare with the model as Rust reloads it.
            let reloaded = TokenClassifier::load(&out, Device::Cpu).unwrap();
            let saved = Tensor::read_safetensors(out.join("model.safetensors")).unwrap();
            let kind = if half { Kind::Half } else { Kind::Float };
            assert!(
                saved.iter().all(|(_, t)| t.kind() == kind),
                "{arch}: {kind:?}"
            );
            let logits = logits_vec(&rust_logits(&reloaded, &ids, &mask));
            if !half {
                let direct = logits_vec(&rust_logits(&model, &ids, &mask));
                assert!(max_diff(&logits, &direct, &mask, arch) < 1e-6, "{arch}");
            }
            request.push(json!({"dir": out, "ids": ids, "mask": mask}));
            expected.push((
                format!("{arch} {}", if half { "fp16" } else { "fp32" }),
                logits,
                mask.clone(),
            ));
        }
    }
    let request_path = dir.path().join("request.json");
    std::fs::write(&request_path, serde_json::to_string(&request).unwrap()).unwrap();
    let answer: Vec<Value> =
        serde_json::from_str(&script(&py, &["check", request_path.to_str().unwrap()])).unwrap();
    assert_eq!(answer.len(), expected.len());
    let mut report = Vec::new();
    for (a, (what, logits, mask)) in answer.iter().zip(&expected) {
        for key in ["missing", "unexpected", "mismatched"] {
            assert_eq!(a[key], json!([]), "{what}: {key} weights in Python");
        }
        assert_eq!(a["labels"], json!(LABELS), "{what}");
        assert_eq!(a["dtype"], "torch.float32", "{what}");
        let d = max_diff(&logits_json(&a["logits"]), logits, mask, what);
        report.push(format!("{what} {d:.2e}"));
        assert!(d < TOLERANCE, "{what}: Python's logits differ by {d}");
    }
    eprintln!(
        "Rust -> Python, max |logit difference|: {}",
        report.join(", ")
    );
}

/// A tiny BERT classifier's config.json, written by hand (no Python needed).
fn write_config(dir: &Path, model_type: &str, labels: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let id2label: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), Value::from(*l)))
        .collect();
    let v = json!({
        "model_type": model_type,
        "vocab_size": 40, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.02,
        "pad_token_id": 0, "id2label": id2label
    });
    let path = dir.join("config.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

fn load_error(dir: &Path) -> String {
    match TokenClassifier::load(dir, Device::Cpu) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn broken_checkpoints_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    let config = ModelConfig::from_file(&write_config(&good, "bert", &LABELS[..3])).unwrap();
    TokenClassifier::new(config, Device::Cpu)
        .unwrap()
        .save(&good, false)
        .unwrap();
    TokenClassifier::load(&good, Device::Cpu).unwrap();

    // No config.json.
    let no_config = tmp.path().join("no-config");
    std::fs::create_dir_all(&no_config).unwrap();
    std::fs::copy(
        good.join("model.safetensors"),
        no_config.join("model.safetensors"),
    )
    .unwrap();
    let msg = load_error(&no_config);
    assert!(msg.contains("no-config/config.json"), "{msg}");

    // No weights.
    let no_weights = tmp.path().join("no-weights");
    write_config(&no_weights, "bert", &LABELS[..3]);
    let msg = load_error(&no_weights);
    assert!(
        msg.contains("no-weights")
            && msg.contains("no weights")
            && msg.contains("model.safetensors"),
        "{msg}"
    );

    // Weights that are not a safetensors file.
    let garbage = tmp.path().join("garbage");
    write_config(&garbage, "bert", &LABELS[..3]);
    std::fs::write(garbage.join("model.safetensors"), b"not a tensor file").unwrap();
    let msg = load_error(&garbage);
    assert!(
        msg.contains("garbage/model.safetensors") && msg.contains("cannot read weights"),
        "{msg}"
    );

    // An architecture ertag does not run.
    let gpt = tmp.path().join("gpt");
    write_config(&gpt, "gpt2", &LABELS[..3]);
    std::fs::copy(
        good.join("model.safetensors"),
        gpt.join("model.safetensors"),
    )
    .unwrap();
    let msg = load_error(&gpt);
    assert!(
        msg.contains("gpt/config.json")
            && msg.contains("unknown architecture")
            && msg.contains("\"gpt2\""),
        "{msg}"
    );

    // A label map with more labels than the head has rows.
    let wide = tmp.path().join("wide");
    write_config(&wide, "bert", &LABELS);
    std::fs::copy(
        good.join("model.safetensors"),
        wide.join("model.safetensors"),
    )
    .unwrap();
    let msg = load_error(&wide);
    assert!(
        msg.contains("wide/model.safetensors")
            && msg.contains("classifier.")
            && msg.contains("shape"),
        "{msg}"
    );

    // No label map at all.
    let bare = tmp.path().join("bare");
    write_config(&bare, "bert", &[]);
    std::fs::copy(
        good.join("model.safetensors"),
        bare.join("model.safetensors"),
    )
    .unwrap();
    let msg = load_error(&bare);
    assert!(
        msg.contains("bare/config.json") && msg.contains("id2label"),
        "{msg}"
    );

    // Weights of another architecture: BERT weights under a DistilBERT config.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(good.join("config.json")).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.insert("model_type".into(), "distilbert".into());
    for (k, x) in [
        ("dim", json!(8)),
        ("n_layers", json!(1)),
        ("n_heads", json!(2)),
        ("hidden_dim", json!(16)),
        ("activation", json!("gelu")),
        ("dropout", json!(0.1)),
        ("attention_dropout", json!(0.1)),
        ("qa_dropout", json!(0.1)),
        ("seq_classif_dropout", json!(0.1)),
        ("sinusoidal_pos_embds", json!(false)),
        ("tie_weights_", json!(true)),
    ] {
        o.insert(k.into(), x);
    }
    std::fs::write(other.join("config.json"), v.to_string()).unwrap();
    std::fs::copy(
        good.join("model.safetensors"),
        other.join("model.safetensors"),
    )
    .unwrap();
    let msg = load_error(&other);
    assert!(
        msg.contains("other/model.safetensors")
            && msg.contains("missing")
            && msg.contains("distilbert."),
        "{msg}"
    );
}
