//! A token-classification checkpoint's `config.json`, as Hugging Face writes it.
//!
//! The file is read twice on purpose: once as plain JSON (to find the architecture, the label
//! map and ertag's own settings) and once by rust-bert's config struct for the architecture,
//! which knows every hyper-parameter of its model.

use std::path::{Path, PathBuf};

use rust_bert::bert::BertConfig;
use rust_bert::distilbert::DistilBertConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{read_to_string, Error, Location, Result};
use crate::tags::TagScheme;

/// The encoder families ertag runs, through rust-bert's implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    Bert,
    DistilBert,
    /// RoBERTa and XLM-RoBERTa (same layers, different vocabulary).
    Roberta,
}

impl Architecture {
    /// From config.json's `model_type`.
    fn from_model_type(t: &str) -> Option<Self> {
        match t {
            "bert" => Some(Architecture::Bert),
            "distilbert" => Some(Architecture::DistilBert),
            "roberta" | "xlm-roberta" | "camembert" => Some(Architecture::Roberta),
            _ => None,
        }
    }

    /// Where the encoder's weights sit in a `*ForTokenClassification` checkpoint.
    pub fn prefix(self) -> &'static str {
        match self {
            Architecture::Bert => "bert",
            Architecture::DistilBert => "distilbert",
            Architecture::Roberta => "roberta",
        }
    }

    /// The class name transformers uses for the token-classification head.
    pub fn hf_class(self, model_type: &str) -> String {
        match self {
            Architecture::Bert => "BertForTokenClassification".into(),
            Architecture::DistilBert => "DistilBertForTokenClassification".into(),
            Architecture::Roberta if model_type == "xlm-roberta" => {
                "XLMRobertaForTokenClassification".into()
            }
            Architecture::Roberta => "RobertaForTokenClassification".into(),
        }
    }
}

/// ertag's settings, stored under the key `"ertag"` in config.json (transformers keeps unknown
/// keys as they are, so the file stays loadable there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErtagSettings {
    /// Token type ids carry each word's casing class (see `ner::features`); the backbone's
    /// token-type embedding table was widened for it.
    #[serde(default)]
    pub casing: bool,
    /// How the labels in `id2label` encode entities.
    #[serde(default)]
    pub scheme: TagScheme,
    /// Windows carry neighbouring sentences as context (as in training, so inference matches).
    #[serde(default = "yes")]
    pub context: bool,
}

fn yes() -> bool {
    true
}

impl Default for ErtagSettings {
    fn default() -> Self {
        ErtagSettings {
            casing: false,
            scheme: TagScheme::default(),
            context: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub path: PathBuf,
    pub architecture: Architecture,
    pub model_type: String,
    /// Labels by id (`id2label` in order); empty for a bare backbone.
    pub labels: Vec<String>,
    pub ertag: ErtagSettings,
    /// The whole file, so that saving keeps every field transformers wrote.
    pub raw: Value,
}

impl ModelConfig {
    /// Make the encoder return every layer's output too (a relation head with its own top
    /// layers reads the output of the layer below them).
    pub fn keep_layer_outputs(&mut self) {
        if let Some(o) = self.raw.as_object_mut() {
            o.insert("output_hidden_states".into(), Value::Bool(true));
        }
    }

    /// The encoder's number of layers.
    pub fn layers(&self) -> Option<usize> {
        self.raw["num_hidden_layers"]
            .as_u64()
            .or(self.raw["n_layers"].as_u64())
            .map(|n| n as usize)
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let loc = Location::file(path);
        let raw: Value = serde_json::from_str(&read_to_string(path)?)
            .map_err(|e| Error::input(&loc, format!("malformed config.json: {e}")))?;
        let model_type = raw["model_type"].as_str().unwrap_or_default().to_string();
        let architecture = Architecture::from_model_type(&model_type).ok_or_else(|| {
            Error::input(
                &loc,
                format!(
                    "unknown architecture (model_type {model_type:?}); ertag runs bert, distilbert, roberta and xlm-roberta"
                ),
            )
        })?;
        let labels = labels_of(&raw, &loc)?;
        let ertag = match raw.get("ertag") {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| Error::input(&loc, format!("bad \"ertag\" settings: {e}")))?,
            None => ErtagSettings::default(),
        };
        Ok(ModelConfig {
            path: path.to_path_buf(),
            architecture,
            model_type,
            labels,
            ertag,
            raw,
        })
    }

    pub fn bert(&self) -> Result<BertConfig> {
        self.typed()
    }

    pub fn distilbert(&self) -> Result<DistilBertConfig> {
        self.typed()
    }

    fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        // rust-bert's configs need a label map only for heads we do not use: drop it, so a
        // bare backbone and a classifier read the same way.
        let mut v = self.raw.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("id2label");
            o.remove("label2id");
            if self.architecture == Architecture::DistilBert {
                // Fields rust-bert requires that transformers no longer writes (4.x dropped
                // `tie_weights_`): its defaults, which do not change the encoder.
                for (k, v) in [
                    ("tie_weights_", Value::from(true)),
                    ("qa_dropout", Value::from(0.1)),
                    ("seq_classif_dropout", Value::from(0.2)),
                    ("sinusoidal_pos_embds", Value::from(false)),
                ] {
                    o.entry(k).or_insert(v);
                }
            }
        }
        serde_json::from_value(v).map_err(|e| {
            Error::input(
                &Location::file(&self.path),
                format!("config does not fit {:?}: {e}", self.architecture),
            )
        })
    }

    /// The same config with a new label map and ertag settings, as the file to save.
    pub fn to_json(&self) -> Value {
        let mut v = self.raw.clone();
        let o = v.as_object_mut().expect("config.json is an object");
        let id2label: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), Value::from(l.as_str())))
            .collect();
        let label2id: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), Value::from(i)))
            .collect();
        // A run-time choice of whoever loads the model, not part of it.
        o.remove("output_hidden_states");
        o.insert("id2label".into(), Value::Object(id2label));
        o.insert("label2id".into(), Value::Object(label2id));
        o.insert(
            "architectures".into(),
            Value::from(vec![self.architecture.hf_class(&self.model_type)]),
        );
        o.insert(
            "ertag".into(),
            serde_json::to_value(&self.ertag).expect("settings serialise"),
        );
        v
    }
}

/// `id2label` in id order; ids must be exactly 0..n.
fn labels_of(raw: &Value, loc: &Location) -> Result<Vec<String>> {
    let Some(map) = raw.get("id2label").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        let id: usize = k
            .parse()
            .map_err(|_| Error::input(loc, format!("id2label key {k:?} is not a number")))?;
        let label = v
            .as_str()
            .ok_or_else(|| Error::input(loc, format!("id2label[{k}] is not a string")))?;
        pairs.push((id, label.to_string()));
    }
    pairs.sort();
    for (i, (id, _)) in pairs.iter().enumerate() {
        if *id != i {
            return Err(Error::input(
                loc,
                format!("id2label ids must be 0..{}; id {i} is missing", pairs.len()),
            ));
        }
    }
    Ok(pairs.into_iter().map(|(_, l)| l).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(json: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(&p, json).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_labels_in_id_order() {
        let (_d, p) =
            write(r#"{"model_type": "bert", "id2label": {"1": "B-PER", "0": "O", "2": "I-PER"}}"#);
        let c = ModelConfig::from_file(&p).unwrap();
        assert_eq!(c.architecture, Architecture::Bert);
        assert_eq!(c.labels, ["O", "B-PER", "I-PER"]);
        let out = c.to_json();
        assert_eq!(out["label2id"]["I-PER"], 2);
        assert_eq!(out["architectures"][0], "BertForTokenClassification");
    }

    #[test]
    fn unknown_architecture_is_named() {
        let (_d, p) = write(r#"{"model_type": "gpt2"}"#);
        let msg = ModelConfig::from_file(&p).unwrap_err().to_string();
        assert!(
            msg.contains("config.json") && msg.contains("\"gpt2\""),
            "{msg}"
        );
    }

    #[test]
    fn gaps_in_label_ids_are_errors() {
        let (_d, p) = write(r#"{"model_type": "bert", "id2label": {"0": "O", "2": "B-PER"}}"#);
        let msg = ModelConfig::from_file(&p).unwrap_err().to_string();
        assert!(msg.contains("id 1 is missing"), "{msg}");
    }
}
