//! Helpers shared by the integration tests: running the real binary, reading its output, and
//! making tiny WordPiece tokenizers and random BERT models.
//!
//! Each test crate uses only some of these, hence the `dead_code` allowances.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ertag::ner::{ModelConfig, TokenClassifier};
use serde_json::{json, Map, Value};
use tch::{Device, Tensor};

/// The crate's root directory.
#[allow(dead_code)]
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shared data file (`../shared/data/<rel>`).
#[allow(dead_code)]
pub fn shared_data(rel: &str) -> PathBuf {
    repo().join("../shared/data").join(rel)
}

/// The `ertag` binary with `args`, ready to run. The binary must find libtorch through its
/// rpath alone, so `LD_LIBRARY_PATH` is removed.
#[allow(dead_code)]
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ertag"));
    cmd.args(args).env_remove("LD_LIBRARY_PATH");
    cmd
}

/// Run the `ertag` binary with `args`.
#[allow(dead_code)]
pub fn ertag(args: &[&str]) -> Output {
    command(args).output().expect("ertag runs")
}

/// Run the `ertag` binary with `args`, which must succeed.
#[allow(dead_code)]
pub fn ertag_ok(args: &[&str]) -> Output {
    succeeded(ertag(args), format_args!("ertag {args:?}"))
}

/// `out`, after asserting that the process (`what`) succeeded.
#[allow(dead_code)]
pub fn succeeded(out: Output, what: impl Display) -> Output {
    assert!(out.status.success(), "{what} failed:\n{}", stderr(&out));
    out
}

#[allow(dead_code)]
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[allow(dead_code)]
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The standard output of a run that must have succeeded.
#[allow(dead_code)]
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", stderr(o));
    stdout(o)
}

/// One value per line of a JSON-lines file.
#[allow(dead_code)]
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A WordPiece tokenizer.json (BERT normaliser, lower-casing and stripping accents,
/// pre-tokenizer and [CLS]/[SEP] post-processor) over `vocab`, whose first `specials` words
/// are special tokens; `[CLS]` must have id 2 and `[SEP]` id 3.
#[allow(dead_code)]
pub fn wordpiece_tokenizer<S: AsRef<str>>(vocab: &[S], specials: usize) -> Value {
    let map: Map<String, Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_ref().to_string(), i.into()))
        .collect();
    let added: Vec<Value> = vocab[..specials]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({"id": i, "content": w.as_ref(), "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
            "strip_accents": true, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": map}
    })
}

/// The config.json of a tiny one-layer BERT with two attention heads; `extra` fields (labels,
/// `ertag` settings, ...) are added to it.
#[allow(dead_code)]
pub fn tiny_bert_config(
    vocab_size: usize,
    hidden_size: usize,
    type_vocab_size: usize,
    extra: Value,
) -> Value {
    let mut config = json!({
        "model_type": "bert", "vocab_size": vocab_size, "hidden_size": hidden_size,
        "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 2 * hidden_size,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 128, "type_vocab_size": type_vocab_size,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0
    });
    let fields = config.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra config fields").clone() {
        fields.insert(k, v);
    }
    config
}

/// Write `config` as `dir/config.json` and build a random model from it.
#[allow(dead_code)]
pub fn tiny_model(dir: &Path, config: &Value) -> TokenClassifier {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    TokenClassifier::new(ModelConfig::from_file(&path).unwrap(), Device::Cpu).unwrap()
}

/// A tiny random BERT NER model (labels O, B/I-PER, B/I-LOC, casing token types) in `dir`,
/// whose head always prefers B-PER, so that every word becomes a PER entity: predictable output
/// from a real model run.
#[allow(dead_code)]
pub fn tiny_ner_model(dir: &Path) {
    const LABELS: [&str; 5] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
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
    let model = tiny_model(dir, &config);
    {
        let _g = tch::no_grad_guard();
        let mut vars = model.vs.variables();
        let bias = vars.get_mut("classifier.bias").unwrap();
        bias.copy_(&tch::Tensor::from_slice(&[0f32, 100.0, 0.0, 0.0, 0.0]));
    }
    model.save(dir, true).unwrap();
    // A lower-casing, accent-stripping WordPiece vocabulary, like the shipped backbone's.
    let words = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "mayor", "of", "zurich", "met", "anna", "in",
        "paris", "said", ".", ",", "he", "she", "##s",
    ];
    std::fs::write(
        dir.join("tokenizer.json"),
        wordpiece_tokenizer(&words, 4).to_string(),
    )
    .unwrap();
}

/// A WordPiece tokenizer.json (BERT normaliser, pre-tokenizer and [CLS]/[SEP] post-processor)
/// whose vocabulary is the special tokens, single characters (as word starts and `##`
/// continuations) and the most frequent lowercased words of `text`.
#[allow(dead_code)]
pub fn tiny_tokenizer(text: &str) -> (Value, usize) {
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .map(String::from)
        .to_vec();
    let chars = "abcdefghijklmnopqrstuvwxyz0123456789.,;:'\"-()/&$%!?";
    vocab.extend(chars.chars().map(|c| c.to_string()));
    vocab.extend(chars.chars().map(|c| format!("##{c}")));
    let mut freq: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        if let Some(w) = line.split_whitespace().next() {
            *freq.entry(w.to_lowercase()).or_default() += 1;
        }
    }
    let mut words: Vec<(usize, String)> = freq
        .into_iter()
        .filter(|(w, _)| w.chars().count() > 1 && w.chars().all(char::is_alphanumeric))
        .map(|(w, n)| (n, w))
        .collect();
    words.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    vocab.extend(words.into_iter().take(200).map(|(_, w)| w));
    (wordpiece_tokenizer(&vocab, 5), vocab.len())
}

/// A bare BERT encoder directory like the MiniLM backbone: config.json without labels,
/// model.safetensors without the head, tokenizer.json.
#[allow(dead_code)]
pub fn tiny_backbone(dir: &Path, corpus: &str) {
    tiny_backbone_with_layers(dir, corpus, 1)
}

/// [`tiny_backbone`] with `layers` encoder layers.
#[allow(dead_code)]
pub fn tiny_backbone_with_layers(dir: &Path, corpus: &str, layers: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let (tokenizer, vocab_size) = tiny_tokenizer(corpus);
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let mut config = tiny_bert_config(
        vocab_size,
        32,
        2,
        json!({"architectures": ["BertModel"], "id2label": {"0": "O"}, "num_hidden_layers": layers}),
    );
    tch::manual_seed(1);
    let model = tiny_model(dir, &config);
    model.save(dir, false).unwrap();
    // Keep only the encoder, saved without the "bert." prefix (as the MiniLM backbone is).
    let weights = dir.join("model.safetensors");
    let named: Vec<(String, Tensor)> = Tensor::read_safetensors(&weights)
        .unwrap()
        .into_iter()
        .filter_map(|(n, t)| n.strip_prefix("bert.").map(|n| (n.to_string(), t)))
        .collect();
    Tensor::write_safetensors(&named, &weights).unwrap();
    config.as_object_mut().unwrap().remove("id2label");
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
}
