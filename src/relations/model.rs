//! A relation model directory, and the joint model it loads: the NER token classifier whose
//! encoder it reads, the relation head, the schema and the per-label thresholds.
//!
//! A relation model directory holds `relation.json` (settings, thresholds, and where its NER
//! model is), `relation_head.safetensors` and `schema.toml`. Its NER model is either the same
//! directory (NER and relations trained jointly on one encoder) or another one, named by a
//! relative path and pinned by the SHA-256 of its weights: a head trained on a frozen encoder
//! is only valid on exactly that encoder, and loading it on another is an error.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Location, Result};
use crate::ner::config::Architecture;
use crate::ner::model::TokenClassifier;
use crate::relations::head::{HeadConfig, HeadDesign, RelationHead};
use crate::relations::schema::Schema;

pub const SETTINGS_FILE: &str = "relation.json";
pub const HEAD_FILE: &str = "relation_head.safetensors";
pub const SCHEMA_FILE: &str = "schema.toml";
/// Variables of the head live under this prefix in the NER model's variable store.
pub const HEAD_PREFIX: &str = "relation_head";
/// The optimizer parameter group of the head's variables (the encoder's is 0).
pub const HEAD_GROUP: usize = 1;
const FORMAT: &str = "ertag-relations/1";

/// `relation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationSettings {
    pub format: String,
    /// The NER model directory, relative to this one (`.`: the same directory).
    pub ner_model: String,
    /// SHA-256 of the NER model's weight file this head was trained with.
    pub ner_weights_sha256: String,
    pub head: HeadConfig,
    /// Per label (schema order): the score from which a relation is output, chosen on dev.
    pub thresholds: Vec<f32>,
    /// Pairs are formed within this many sentences (1: the same sentence).
    pub sentence_window: usize,
    /// Whether the encoder was fine-tuned together with the head (else it was frozen).
    pub joint: bool,
}

pub struct JointModel {
    pub ner: TokenClassifier,
    pub head: RelationHead,
    pub schema: Schema,
    pub settings: RelationSettings,
    /// The NER model directory.
    pub ner_dir: PathBuf,
}

impl JointModel {
    /// A fresh head on `ner` (for training).
    pub fn new(
        ner: TokenClassifier,
        ner_dir: PathBuf,
        schema: Schema,
        joint: bool,
        sentence_window: usize,
        design: HeadDesign,
    ) -> Result<Self> {
        let encoder_layers = design.encoder_layers;
        let config = HeadConfig {
            context: design.pair_context,
            sentence_context: design.sentence_context,
            encoder_layers,
            pair_markers: design.pair_markers,
            ..HeadConfig::new(
                ner.hidden_size,
                schema.relations.len(),
                schema.entity_types.len(),
            )
        };
        let head = build_head(&ner, &config)?;
        copy_top_layers(&ner, encoder_layers)?;
        let settings = RelationSettings {
            format: FORMAT.into(),
            ner_model: ".".into(),
            ner_weights_sha256: String::new(),
            head: config,
            thresholds: vec![0.5; schema.relations.len()],
            sentence_window,
            joint,
        };
        Ok(JointModel {
            ner,
            head,
            schema,
            settings,
            ner_dir,
        })
    }

    /// Load a relation model directory and the NER model it names.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let (settings, schema) = read_settings(dir)?;
        let path = dir.join(SETTINGS_FILE);
        let c = &settings.head;
        let ner_dir = dir.join(&settings.ner_model);
        let weights = ner_weights(&ner_dir)?;
        let sha = sha256_file(&weights)?;
        if sha != settings.ner_weights_sha256 {
            return Err(Error::input(
                &Location::file(&path),
                format!(
                    "the NER model at {} is not the one this relation head was trained on (weights SHA-256 {sha}, expected {})",
                    ner_dir.display(),
                    settings.ner_weights_sha256
                ),
            ));
        }
        let ner = TokenClassifier::load_with(&ner_dir, device, c.encoder_layers > 0)?;
        let head = build_head(&ner, &settings.head)?;
        let head_file = dir.join(HEAD_FILE);
        let named = Tensor::read_safetensors(&head_file).map_err(|e| {
            Error::input(
                &Location::file(&head_file),
                format!("cannot read weights: {e}"),
            )
        })?;
        let named: std::collections::HashMap<String, Tensor> = named.into_iter().collect();
        let _guard = tch::no_grad_guard();
        for (name, mut var) in ner.vs.variables() {
            if !name.starts_with(HEAD_PREFIX) {
                continue;
            }
            let src = named.get(&name).ok_or_else(|| {
                Error::input(
                    &Location::file(&head_file),
                    format!("weight {name:?} is missing"),
                )
            })?;
            if src.size() != var.size() {
                return Err(Error::input(
                    &Location::file(&head_file),
                    format!(
                        "weight {name:?} has shape {:?}, the head needs {:?}",
                        src.size(),
                        var.size()
                    ),
                ));
            }
            var.copy_(&src.to_kind(var.kind()).to_device(var.device()));
        }
        Ok(JointModel {
            ner,
            head,
            schema,
            settings,
            ner_dir,
        })
    }

    /// Save the head, its settings and schema in `dir`; with `self.settings.joint`, the NER model
    /// (encoder and tagging head) is saved there too, else `dir` refers to `self.ner_dir`.
    pub fn save(&mut self, dir: &Path, half: bool) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if self.settings.joint {
            self.ner.save(dir, half)?;
            self.settings.ner_model = ".".into();
        } else {
            self.settings.ner_model = relative_path(dir, &self.ner_dir)?;
        }
        let ner_dir = dir.join(&self.settings.ner_model);
        self.settings.ner_weights_sha256 = sha256_file(&ner_weights(&ner_dir)?)?;
        let named: Vec<(String, Tensor)> = self
            .ner
            .vs
            .variables()
            .into_iter()
            .filter(|(n, _)| n.starts_with(HEAD_PREFIX))
            .map(|(n, t)| {
                let kind = if half { Kind::Half } else { Kind::Float };
                (n, t.detach().to_device(Device::Cpu).to_kind(kind))
            })
            .collect();
        let path = dir.join(HEAD_FILE);
        Tensor::write_safetensors(&named, &path)
            .map_err(|e| Error::Usage(format!("{}: cannot write weights: {e}", path.display())))?;
        let json = serde_json::to_string_pretty(&self.settings).expect("json") + "\n";
        let path = dir.join(SETTINGS_FILE);
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
        let path = dir.join(SCHEMA_FILE);
        std::fs::write(&path, self.schema.to_toml()).map_err(|e| Error::io(&path, e))
    }

    /// What the head reads from one encoder pass: the encoder's output `hidden`, or, when the
    /// head has encoder layers of its own, the output of the layer below them (from `layers`,
    /// every layer's output, which the NER model then returns).
    pub fn head_states(&self, hidden: &Tensor, layers: Option<&[Tensor]>) -> Result<Tensor> {
        let own = self.settings.head.encoder_layers;
        if own == 0 {
            return Ok(hidden.shallow_clone());
        }
        let layers = layers.ok_or_else(|| {
            Error::Usage("internal error: the NER model returned no layer outputs".into())
        })?;
        // layers[k] is layer k+1's output; the head's first layer replaces layer n - own + 1.
        Ok(layers[layers.len() - own - 1].shallow_clone())
    }

    /// Rewrite `relation.json` only (thresholds chosen after the weights were saved).
    pub fn save_settings(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(&self.settings).expect("json") + "\n";
        let path = dir.join(SETTINGS_FILE);
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))
    }
}

/// The settings and schema of a relation model directory, checked to belong together (the
/// weights are not read).
pub fn read_settings(dir: &Path) -> Result<(RelationSettings, Schema)> {
    let loc = Location::file(dir);
    if !dir.is_dir() {
        return Err(Error::input(&loc, "relation model directory not found"));
    }
    let path = dir.join(SETTINGS_FILE);
    if !path.is_file() {
        return Err(Error::input(
            &loc,
            format!("not a relation model directory: {SETTINGS_FILE} is missing"),
        ));
    }
    let text = crate::error::read_to_string(&path)?;
    let settings: RelationSettings = serde_json::from_str(&text)
        .map_err(|e| Error::input(&Location::file(&path).at_line(e.line()), e.to_string()))?;
    if settings.format != FORMAT {
        return Err(Error::input(
            &Location::file(&path),
            format!("format {:?}, expected {FORMAT:?}", settings.format),
        ));
    }
    let schema = Schema::load(&dir.join(SCHEMA_FILE))?;
    let c = &settings.head;
    if c.labels != schema.relations.len()
        || c.entity_types != schema.entity_types.len()
        || settings.thresholds.len() != c.labels
    {
        return Err(Error::input(
                &Location::file(&path),
                format!(
                    "the head has {} labels and {} entity types but the schema {} and {} ({} thresholds): the files do not belong together",
                    c.labels, c.entity_types, schema.relations.len(), schema.entity_types.len(), settings.thresholds.len()
                ),
            ));
    }
    Ok((settings, schema))
}

/// Where the head's variables live: under [`HEAD_PREFIX`], in optimizer parameter group
/// [`HEAD_GROUP`] so that training can give it its own learning rate.
fn head_path(ner: &TokenClassifier) -> tch::nn::Path<'_> {
    ner.vs.root().set_group(HEAD_GROUP) / HEAD_PREFIX
}

/// The head for `config` on `ner`'s variable store. Its own encoder layers (if any) are in
/// parameter group 0, the encoder's, so that they learn at the encoder's rate.
fn build_head(ner: &TokenClassifier, config: &HeadConfig) -> Result<RelationHead> {
    let layers = config.encoder_layers;
    if config.pair_markers && layers == 0 {
        return Err(Error::Usage(
            "pair markers need a relation head with encoder layers of its own (--encoder-layers)"
                .into(),
        ));
    }
    let bert = if layers == 0 {
        None
    } else {
        let arch = ner.config.architecture;
        if arch == Architecture::DistilBert {
            return Err(Error::Usage(
                "a relation head with encoder layers of its own needs a BERT or RoBERTa encoder, not DistilBERT".into(),
            ));
        }
        let total = ner.config.layers().unwrap_or(0);
        if layers >= total {
            return Err(Error::Usage(format!(
                "the relation head cannot own {layers} encoder layers: the encoder has {total}, and at least one must stay shared"
            )));
        }
        Some(ner.config.bert()?)
    };
    let layer_path = ner.vs.root() / HEAD_PREFIX;
    Ok(RelationHead::new(
        &head_path(ner),
        &layer_path,
        config.clone(),
        bert.as_ref(),
    ))
}

/// Start the head's own encoder layers as copies of the encoder's top `layers` layers.
fn copy_top_layers(ner: &TokenClassifier, layers: usize) -> Result<()> {
    if layers == 0 {
        return Ok(());
    }
    let total = ner.config.layers().unwrap_or(0);
    let prefix = ner.config.architecture.prefix();
    let vars = ner.vs.variables();
    let own = format!("{HEAD_PREFIX}.layer.");
    let _guard = tch::no_grad_guard();
    for (name, var) in &vars {
        let Some(rest) = name.strip_prefix(&own) else {
            continue;
        };
        let (j, suffix) = rest.split_once('.').expect("a layer variable name");
        let k = total - layers + j.parse::<usize>().expect("a layer index");
        let source = format!("{prefix}.encoder.layer.{k}.{suffix}");
        let src = vars.get(&source).ok_or_else(|| {
            Error::Usage(format!(
                "internal error: the encoder has no variable {source:?}"
            ))
        })?;
        var.shallow_clone().copy_(src);
    }
    Ok(())
}

fn ner_weights(dir: &Path) -> Result<PathBuf> {
    ["model.safetensors", "rust_model.ot"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::input(
                &Location::file(dir),
                "the relation model's NER model has no weights",
            )
        })
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// `to` relative to `from` (both directories), for a model directory that names another.
fn relative_path(from: &Path, to: &Path) -> Result<String> {
    let abs = |p: &Path| p.canonicalize().map_err(|e| Error::io(p, e));
    let (from, to) = (abs(from)?, abs(to)?);
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c.as_os_str());
    }
    let s = out.to_string_lossy().into_owned();
    Ok(if s.is_empty() { ".".into() } else { s })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::config::ModelConfig;

    /// A head with the pair context and one encoder layer of its own.
    const LAYER_1: HeadDesign = HeadDesign {
        pair_context: true,
        sentence_context: false,
        encoder_layers: 1,
        pair_markers: false,
    };

    /// A random two-layer BERT tagger saved in `dir`.
    fn two_layer_tagger(dir: &Path) -> TokenClassifier {
        std::fs::create_dir_all(dir).unwrap();
        let json = serde_json::json!({
            "model_type": "bert", "vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 2,
            "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "id2label": {"0": "O", "1": "B-PER", "2": "I-PER"}
        });
        let path = dir.join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let model =
            TokenClassifier::new(ModelConfig::from_file(&path).unwrap(), Device::Cpu).unwrap();
        model.save(dir, false).unwrap();
        TokenClassifier::load_with(dir, Device::Cpu, true).unwrap()
    }

    fn schema() -> Schema {
        let text = r#"
name = "test"
entity_types = ["PER"]
[[relations]]
name = "met"
direction = "symmetric"
pairs = [["PER", "PER"]]
"#;
        Schema::parse(text, Path::new("schema.toml")).unwrap()
    }

    #[test]
    fn own_encoder_layers_start_as_the_encoders_top_layers_and_are_saved() {
        let tmp = tempfile::tempdir().unwrap();
        let ner_dir = tmp.path().join("ner");
        let ner = two_layer_tagger(&ner_dir);
        let design = HeadDesign {
            pair_context: true,
            sentence_context: true,
            encoder_layers: 1,
            pair_markers: false,
        };
        let mut model = JointModel::new(ner, ner_dir.clone(), schema(), false, 1, design).unwrap();
        let ids = Tensor::from_slice(&[2i64, 5, 7, 3, 0]).unsqueeze(0);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0]).unsqueeze(0);
        let (hidden, _, layers) = model.ner.forward_layers(&ids, &mask, None, false).unwrap();
        let states = model.head_states(&hidden, layers.as_deref()).unwrap();
        // The copy of the top layer, run on layer 1's output, gives the encoder's output.
        let again = model.head.encode(&states, &mask, false);
        let diff = (&again - &hidden).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "{diff}");

        let mut p = crate::relations::head::PairInputs::default();
        let a = p.mention(0, (1, 2), (1, 4), 0, 1);
        let b = p.mention(0, (3, 4), (1, 4), 0, 1);
        p.pair(a, b);
        let before = model.head.forward_t(&states, &mask, &p, false);
        let out = tmp.path().join("relations");
        model.save(&out, false).unwrap();
        let loaded = JointModel::load(&out, Device::Cpu).unwrap();
        assert_eq!(loaded.settings.head.encoder_layers, 1);
        assert!(loaded.settings.head.sentence_context);
        let (hidden, _, layers) = loaded.ner.forward_layers(&ids, &mask, None, false).unwrap();
        let states = loaded.head_states(&hidden, layers.as_deref()).unwrap();
        let after = loaded.head.forward_t(&states, &mask, &p, false);
        let diff = (before - after).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn the_head_computes_in_bf16_with_its_encoder() {
        let tmp = tempfile::tempdir().unwrap();
        let ner_dir = tmp.path().join("ner");
        let ner = two_layer_tagger(&ner_dir);
        let mut model = JointModel::new(ner, ner_dir, schema(), false, 1, LAYER_1).unwrap();
        let ids = Tensor::from_slice(&[2i64, 5, 7, 3, 9, 4]).unsqueeze(0);
        let mask = ids.ones_like();
        let mut p = crate::relations::head::PairInputs::default();
        let a = p.mention(0, (1, 2), (1, 5), 0, 1);
        let b = p.mention(0, (4, 5), (1, 5), 0, 1);
        p.pair(a, b);
        p.pair(b, a);
        let scores = |m: &JointModel| {
            let (hidden, _, layers) = m.ner.forward_layers(&ids, &mask, None, false).unwrap();
            let states = m.head_states(&hidden, layers.as_deref()).unwrap();
            m.head
                .forward_t(&states, &mask, &p, false)
                .sigmoid()
                .to_kind(Kind::Float)
        };
        let fp32 = scores(&model);
        model.ner.vs.bfloat16();
        let bf16 = scores(&model);
        let diff = (fp32 - bf16).abs().max().double_value(&[]);
        assert!(diff < 0.02, "{diff}");
    }

    #[test]
    fn pair_markers_score_each_pair_on_its_own_marked_copy_and_are_saved() {
        let tmp = tempfile::tempdir().unwrap();
        let ner_dir = tmp.path().join("ner");
        let ner = two_layer_tagger(&ner_dir);
        let design = HeadDesign {
            pair_markers: true,
            ..LAYER_1
        };
        let mut model = JointModel::new(ner, ner_dir, schema(), false, 1, design).unwrap();
        let ids = Tensor::from_slice(&[2i64, 5, 7, 3, 9, 4, 0]).unsqueeze(0);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 1, 1, 0]).unsqueeze(0);
        let (hidden, _, layers) = model.ner.forward_layers(&ids, &mask, None, false).unwrap();
        let states = model.head_states(&hidden, layers.as_deref()).unwrap();
        let with_pairs = |pairs: &[(i64, i64)]| {
            let mut p = crate::relations::head::PairInputs::default();
            for span in [(1, 2), (3, 4), (4, 6)] {
                p.mention(0, span, (1, 6), 0, span.1 - span.0);
            }
            for &(h, t) in pairs {
                p.pair(h, t);
            }
            p
        };
        let pairs = [(0, 1), (1, 0), (0, 2), (2, 1)];
        let all = model
            .head
            .forward_t(&states, &mask, &with_pairs(&pairs), false);
        assert_eq!(all.size(), [4, 1]);
        // A pair's score does not depend on the other pairs of its batch.
        for (i, pair) in pairs.iter().enumerate() {
            let one = model
                .head
                .forward_t(&states, &mask, &with_pairs(&[*pair]), false);
            let diff = (one.get(0) - all.get(i as i64))
                .abs()
                .max()
                .double_value(&[]);
            assert!(diff < 1e-5, "pair {i}: {diff}");
        }
        let out = tmp.path().join("relations");
        model.save(&out, false).unwrap();
        let loaded = JointModel::load(&out, Device::Cpu).unwrap();
        assert!(loaded.settings.head.pair_markers);
        let again = loaded
            .head
            .forward_t(&states, &mask, &with_pairs(&pairs), false);
        let diff = (&again - &all).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        // The marker vectors are in the saved weights and change the scores.
        let _guard = tch::no_grad_guard();
        let mut markers = 0;
        for (name, mut var) in loaded.ner.vs.variables() {
            if name.contains("markers") {
                let _ = var.zero_();
                markers += 1;
            }
        }
        assert_eq!(markers, 2);
        let unmarked = loaded
            .head
            .forward_t(&states, &mask, &with_pairs(&pairs), false);
        let diff = (&unmarked - &all).abs().max().double_value(&[]);
        assert!(diff > 1e-4, "{diff}");
    }

    #[test]
    fn pair_markers_need_encoder_layers_of_the_head() {
        let tmp = tempfile::tempdir().unwrap();
        let ner_dir = tmp.path().join("ner");
        let ner = two_layer_tagger(&ner_dir);
        let design = HeadDesign {
            encoder_layers: 0,
            pair_markers: true,
            ..LAYER_1
        };
        let err = JointModel::new(ner, ner_dir, schema(), false, 1, design)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("pair markers need"), "{err}");
    }

    #[test]
    fn a_head_cannot_own_every_encoder_layer() {
        let tmp = tempfile::tempdir().unwrap();
        let ner_dir = tmp.path().join("ner");
        let ner = two_layer_tagger(&ner_dir);
        let design = HeadDesign {
            encoder_layers: 2,
            ..LAYER_1
        };
        let err = JointModel::new(ner, ner_dir, schema(), false, 1, design)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("at least one must stay shared"), "{err}");
    }

    #[test]
    fn relative_paths_between_model_directories() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (
            d.path().join("models/relations"),
            d.path().join("models/ner"),
        );
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        assert_eq!(relative_path(&a, &b).unwrap(), "../ner");
        assert_eq!(relative_path(&a, &a).unwrap(), ".");
    }
}
