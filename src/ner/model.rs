//! `TokenClassifier`: an encoder with a linear tagging head, loaded from and saved to a Hugging
//! Face token-classification directory (`config.json`, `model.safetensors` or rust-bert's
//! `rust_model.ot`). The saved directory loads in Python transformers as it is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{nn, Device, Kind, Tensor};

use crate::error::{Error, Location, Result};
use crate::ner::config::ModelConfig;
use crate::ner::encoder::Encoder;

/// Weight files a model directory may hold, in the order they are looked for.
const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "rust_model.ot"];

pub struct TokenClassifier {
    pub vs: nn::VarStore,
    pub encoder: Encoder,
    classifier: nn::Linear,
    dropout: f64,
    pub config: ModelConfig,
    pub hidden_size: i64,
}

impl TokenClassifier {
    /// A model with freshly initialised weights for `config` (its labels give the head's size).
    pub fn new(config: ModelConfig, device: Device) -> Result<Self> {
        if config.labels.is_empty() {
            return Err(Error::input(
                &Location::file(&config.path),
                "config.json has no id2label: a token classifier needs its labels",
            ));
        }
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let (encoder, hidden_size) = Encoder::new(&root, &config)?;
        let classifier = nn::linear(
            &root / "classifier",
            hidden_size,
            config.labels.len() as i64,
            Default::default(),
        );
        let dropout = config.raw["hidden_dropout_prob"]
            .as_f64()
            .or(config.raw["dropout"].as_f64())
            .unwrap_or(0.1);
        Ok(TokenClassifier {
            vs,
            encoder,
            classifier,
            dropout,
            config,
            hidden_size,
        })
    }

    /// Load a token-classification checkpoint directory.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        Self::load_with(dir, device, false)
    }

    /// [`Self::load`]; with `layer_outputs`, [`Self::forward_layers`] returns every layer's
    /// output too.
    pub fn load_with(dir: &Path, device: Device, layer_outputs: bool) -> Result<Self> {
        let mut config = ModelConfig::from_file(&dir.join("config.json"))?;
        if layer_outputs {
            config.keep_layer_outputs();
        }
        let mut model = Self::new(config, device)?;
        let weights = weight_file(dir)?;
        let missing = model.copy_weights(&weights, false)?;
        if let Some(name) = missing.first() {
            return Err(Error::input(
                &Location::file(&weights),
                format!(
                    "weight {name:?} is missing ({} missing in all): the file does not fit config.json",
                    missing.len()
                ),
            ));
        }
        Ok(model)
    }

    /// Start from a backbone (a bare encoder such as MiniLM, or another classifier): encoder
    /// weights are copied, the head starts fresh for `config`'s labels. A backbone saved
    /// without the architecture prefix (`embeddings.*` rather than `bert.embeddings.*`) is
    /// accepted, and a token-type table narrower than `config`'s is widened by repeating its
    /// first row (so the new types start out meaning "no information").
    pub fn from_backbone(base: &Path, config: ModelConfig, device: Device) -> Result<Self> {
        let mut model = Self::new(config, device)?;
        let missing = model.copy_weights(&weight_file(base)?, true)?;
        if let Some(name) = missing.iter().find(|n| !n.starts_with("classifier.")) {
            return Err(Error::input(
                &Location::file(base),
                format!("backbone has no weight {name:?} for this architecture"),
            ));
        }
        Ok(model)
    }

    /// Copy tensors from a weight file into the variables; returns the names not found.
    fn copy_weights(&mut self, file: &Path, adapt: bool) -> Result<Vec<String>> {
        let loc = Location::file(file);
        let named = read_weights(file)?;
        let prefix = format!("{}.", self.config.architecture.prefix());
        let mut missing = Vec::new();
        // In name order, so that the first error named is always the same one.
        let mut vars: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let _guard = tch::no_grad_guard();
        for (name, var) in vars.iter_mut() {
            // From a backbone, the tagging head always starts fresh: another model's labels
            // mean other things even where their number matches.
            if adapt && name.starts_with("classifier.") {
                missing.push(name.clone());
                continue;
            }
            let src = named
                .get(name)
                .or_else(|| name.strip_prefix(&prefix).and_then(|n| named.get(n)));
            let Some(src) = src else {
                missing.push(name.clone());
                continue;
            };
            let src = src.to_kind(var.kind()).to_device(var.device());
            if src.size() == var.size() {
                var.copy_(&src);
            } else if adapt && name.ends_with("token_type_embeddings.weight") {
                let rows = src.size()[0].min(var.size()[0]);
                var.narrow(0, 0, rows).copy_(&src.narrow(0, 0, rows));
                for r in rows..var.size()[0] {
                    var.narrow(0, r, 1).copy_(&src.narrow(0, 0, 1));
                }
            } else {
                return Err(Error::input(
                    &loc,
                    format!(
                        "weight {name:?} has shape {:?} but the model needs {:?}",
                        src.size(),
                        var.size()
                    ),
                ));
            }
        }
        missing.sort();
        Ok(missing)
    }

    /// Save as a Hugging Face directory: config.json and model.safetensors (fp16 when `half`,
    /// which halves the file; weights are widened back to fp32 when loaded).
    pub fn save(&self, dir: &Path, half: bool) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let config_path = dir.join("config.json");
        let json = serde_json::to_string_pretty(&self.config.to_json()).expect("json");
        std::fs::write(&config_path, json + "\n").map_err(|e| Error::io(&config_path, e))?;
        let mut named: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            // A relation head sharing this encoder saves its own weights (`relations::model`).
            .filter(|(n, _)| !n.starts_with(crate::relations::model::HEAD_PREFIX))
            .map(|(n, t)| {
                let t = t.detach().to_device(Device::Cpu);
                (n, if half { t.to_kind(Kind::Half) } else { t })
            })
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let path = dir.join("model.safetensors");
        Tensor::write_safetensors(&named, &path)
            .map_err(|e| Error::Usage(format!("{}: cannot write weights: {e}", path.display())))?;
        mark_as_pytorch(&path)
    }

    /// Hidden states and label logits `[batch, length, labels]`.
    pub fn forward_t(
        &self,
        input_ids: &Tensor,
        mask: &Tensor,
        type_ids: Option<&Tensor>,
        train: bool,
    ) -> Result<(Tensor, Tensor)> {
        let (hidden, logits, _) = self.forward_layers(input_ids, mask, type_ids, train)?;
        Ok((hidden, logits))
    }

    /// Hidden states, label logits, and each layer's output when the model was loaded with
    /// `layer_outputs` (layer 1 first).
    pub fn forward_layers(
        &self,
        input_ids: &Tensor,
        mask: &Tensor,
        type_ids: Option<&Tensor>,
        train: bool,
    ) -> Result<(Tensor, Tensor, Option<Vec<Tensor>>)> {
        let (hidden, layers) = self
            .encoder
            .forward_layers(input_ids, mask, type_ids, train)?;
        let logits = hidden.dropout(self.dropout, train).apply(&self.classifier);
        Ok((hidden, logits, layers))
    }

    pub fn labels(&self) -> &[String] {
        &self.config.labels
    }
}

fn weight_file(dir: &Path) -> Result<PathBuf> {
    if dir.is_file() {
        return Ok(dir.to_path_buf());
    }
    WEIGHT_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::input(
                &Location::file(dir),
                format!("no weights: expected one of {}", WEIGHT_FILES.join(", ")),
            )
        })
}

/// Add `"__metadata__": {"format": "pt"}` to a safetensors file's header. tch writes none, and
/// transformers' `from_pretrained` fails on a file without it (4.46: `'NoneType' object has no
/// attribute 'get'`). The tensor data stays as it is: its offsets count from the header's end.
fn mark_as_pytorch(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = || {
        Error::Usage(format!(
            "{}: tch wrote a malformed safetensors header",
            path.display()
        ))
    };
    let len = u64::from_le_bytes(bytes.get(..8).ok_or_else(bad)?.try_into().unwrap()) as usize;
    let header = bytes.get(8..8 + len).ok_or_else(bad)?;
    let mut json: serde_json::Value = serde_json::from_slice(header).map_err(|_| bad())?;
    json.as_object_mut()
        .ok_or_else(bad)?
        .insert("__metadata__".into(), serde_json::json!({ "format": "pt" }));
    let mut header = serde_json::to_vec(&json).expect("json");
    // The data must start 8-byte aligned: pad the header with spaces.
    header.resize(header.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + header.len() + bytes.len() - 8 - len);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&bytes[8 + len..]);
    std::fs::write(path, out).map_err(|e| Error::io(path, e))
}

fn read_weights(file: &Path) -> Result<HashMap<String, Tensor>> {
    let named = if file.extension().is_some_and(|e| e == "safetensors") {
        Tensor::read_safetensors(file)
    } else {
        Tensor::load_multi(file)
    };
    named
        .map(|v| v.into_iter().collect())
        .map_err(|e| Error::input(&Location::file(file), format!("cannot read weights: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny random BERT token classifier's config (a few kB of weights).
    pub(crate) fn tiny_config(dir: &Path, model_type: &str) -> ModelConfig {
        let json = serde_json::json!({
            "model_type": model_type,
            "vocab_size": 99, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 1,
            "dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 16, "activation": "gelu",
            "dropout": 0.1, "attention_dropout": 0.1, "qa_dropout": 0.1,
            "seq_classif_dropout": 0.1, "sinusoidal_pos_embds": false, "tie_weights_": true,
            "id2label": {"0": "O", "1": "B-PER", "2": "I-PER"}
        });
        let path = dir.join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        ModelConfig::from_file(&path).unwrap()
    }

    #[test]
    fn save_and_load_give_the_same_logits() {
        for model_type in ["bert", "roberta", "distilbert"] {
            let dir = tempfile::tempdir().unwrap();
            let model =
                TokenClassifier::new(tiny_config(dir.path(), model_type), Device::Cpu).unwrap();
            let out = dir.path().join("saved");
            model.save(&out, false).unwrap();
            let again = TokenClassifier::load(&out, Device::Cpu).unwrap();
            let ids = Tensor::from_slice(&[2i64, 5, 7, 3]).unsqueeze(0);
            let mask = ids.ones_like();
            let (_, a) = model.forward_t(&ids, &mask, None, false).unwrap();
            let (_, b) = again.forward_t(&ids, &mask, None, false).unwrap();
            assert_eq!(a.size(), [1, 4, 3], "{model_type}");
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "{model_type}: {diff}");
        }
    }

    #[test]
    fn a_head_that_does_not_fit_the_labels_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let model = TokenClassifier::new(tiny_config(dir.path(), "bert"), Device::Cpu).unwrap();
        let out = dir.path().join("saved");
        model.save(&out, true).unwrap();
        // Rewrite the label map with a fourth label: the saved head has three rows.
        let cfg = out.join("config.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
        v["id2label"]["3"] = "B-LOC".into();
        std::fs::write(&cfg, v.to_string()).unwrap();
        let msg = TokenClassifier::load(&out, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("classifier") && msg.contains("shape"), "{msg}");
    }

    #[test]
    fn missing_weights_are_named() {
        let dir = tempfile::tempdir().unwrap();
        tiny_config(dir.path(), "bert");
        let msg = TokenClassifier::load(dir.path(), Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("no weights"), "{msg}");
    }
}
