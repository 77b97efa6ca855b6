//! Training a relation model: `ertag train relations`.
//!
//! Two modes, one loop:
//! - **joint** (`--joint`): NER and relations on one encoder, fine-tuned together from a
//!   backbone; the loss is the tagger's cross-entropy plus the relation head's binary
//!   cross-entropy over each candidate pair's allowed labels (SpERT's recipe, with a BIO tagger
//!   instead of span classification). The output directory is a complete model. With
//!   `--encoder-layers N` the head's own copies of the top N layers keep the two tasks from
//!   competing for them (PURE's finding that separate encoders beat a shared one, at the cost
//!   of N layers rather than a second encoder; on CoNLL04 it did not pay:
//!   `eval/results/conll04-ablation.md`).
//! - **frozen** (default): the head alone on an existing NER model, whose encoder runs without
//!   gradients; the output directory refers to that NER model and pins its weights by hash.
//!   This is how a shipped relation model shares the shipped NER model's encoder.
//!
//! Pairs are the gold entities' candidate pairs (`relations::pairs`), so the head learns on
//! the pairs it will see at inference when NER is right. Dev is scored end to end with
//! predicted entities (strict relation micro-F1 selects the best epoch); afterwards each
//! label's threshold is chosen on dev and stored with the model. Seeds, data order, the
//! schedule and `--resume` work as in `ner::train`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::augment::replaced_copies;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::eval::counts::add_counts;
use crate::eval::relations::{relation_counts, RelationSetting};
use crate::eval::{entity_counts, LabelCounts, ScoreTable};
use crate::ner::features::{Featurizer, WindowConfig};
use crate::ner::model::TokenClassifier;
use crate::ner::train::{
    adamw, classifier_config, copy_tokenizer_files, epoch_batches, io_err, label_set, lr_at,
    prepared, progress_bar, read_resume_state, score, steps_per_epoch, write_json, write_log,
    Score, TrainConfig,
};
use crate::ner::NerOptions;
use crate::relations::batches::{cache_hidden, examples, step_losses, Example};
use crate::relations::head::HeadDesign;
use crate::relations::model::{read_settings, JointModel, HEAD_GROUP};
use crate::relations::pipeline::predict;
use crate::relations::schema::Schema;
use crate::relations::thresholds::{self, ThresholdChoice};

/// Everything that decides a relation training run (`training_args.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationTrainConfig {
    #[serde(flatten)]
    pub base: TrainConfig,
    /// Fine-tune the encoder with a NER head too (else train the head on a frozen NER model).
    pub joint: bool,
    pub sentence_window: usize,
    /// Learning rate of the relation head (the encoder uses `base.lr`); the head starts from
    /// scratch and learns faster at a higher rate.
    pub head_lr: f64,
    /// Lowest threshold tried when choosing per-label thresholds on dev.
    pub threshold_floor: f32,
    /// Max-pool the text between two mentions into their pair's representation.
    pub pair_context: bool,
    /// Weight of a positive (pair, label) in the loss: most candidate pairs hold no relation,
    /// and a weight above 1 trades precision for recall.
    pub positive_weight: f64,
    /// Frozen mode: the head gets trainable copies of this many of the encoder's top layers.
    #[serde(default)]
    pub encoder_layers: usize,
    /// Max-pool the pair's sentence into its representation too.
    #[serde(default)]
    pub sentence_context: bool,
    /// [`crate::relations::head::HeadConfig::pair_markers`].
    #[serde(default)]
    pub pair_markers: bool,
    /// Which epoch's model is kept.
    #[serde(default)]
    pub keep: Keep,
    /// Take the per-label thresholds from this relation model (same labels) instead of tuning
    /// them on dev: for a final model trained on train + dev, whose dev scores mean nothing.
    #[serde(default)]
    pub thresholds_from: Option<std::path::PathBuf>,
    /// Add this many copies of each training document with its entity mentions replaced by
    /// other training mentions of the same type (`augment`), so that names weigh less.
    #[serde(default)]
    pub mention_swaps: usize,
}

/// Which epoch's model a training run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The epoch with the best dev strict relation micro-F1.
    #[default]
    Best,
    /// The last epoch, whatever dev says (a final model trained on train + dev, as SpERT's).
    Last,
}

impl Default for RelationTrainConfig {
    fn default() -> Self {
        RelationTrainConfig {
            base: TrainConfig::default(),
            joint: false,
            sentence_window: 1,
            head_lr: 1e-3,
            threshold_floor: 0.05,
            pair_context: true,
            positive_weight: 1.0,
            encoder_layers: 0,
            sentence_context: false,
            pair_markers: false,
            keep: Keep::Best,
            thresholds_from: None,
            mention_swaps: 0,
        }
    }
}

/// One line of `train_log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationEpochLog {
    pub epoch: usize,
    pub steps: usize,
    pub ner_loss: f64,
    pub relation_loss: f64,
    pub dev_entities: Score,
    /// Strict setting, micro average, thresholds at 0.5.
    pub dev_relations: Score,
    pub dev_relations_per_label: BTreeMap<String, Score>,
    pub seconds: f64,
    pub tokens_per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationTrainReport {
    pub best_epoch: usize,
    pub best_dev_f1: f64,
    pub epochs: Vec<RelationEpochLog>,
    /// Dev strict micro-F1 with per-label thresholds tuned on all of dev (in-sample).
    pub tuned_dev_f1: Option<f64>,
    /// Cross-validated dev strict micro-F1 that decided whether the thresholds are kept.
    #[serde(default)]
    pub cv_dev_f1: Option<CrossValidated>,
    /// The kept per-label thresholds (empty: 0.5 for every label).
    pub thresholds: BTreeMap<String, f32>,
}

/// Cross-validated dev strict micro-F1 of per-label thresholds and of 0.5 everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CrossValidated {
    pub per_label: f64,
    pub at_half: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    epoch: usize,
    step: usize,
    seed: u64,
    report: RelationTrainReport,
}

/// Train a relation model; see the module doc for the two modes.
pub fn train(
    train: &[Document],
    dev: &[Document],
    schema: Schema,
    base: &Path,
    out: &Path,
    cfg: &RelationTrainConfig,
    progress: bool,
) -> Result<RelationTrainReport> {
    let device = Device::cuda_if_available();
    let b = &cfg.base;
    // Checked before training, not after it.
    let fixed_thresholds = match &cfg.thresholds_from {
        Some(dir) => Some(thresholds_of(dir, &schema)?),
        None => None,
    };
    tch::manual_seed(b.seed as i64);
    let mut train_docs = prepared(train, b.limit_train_docs);
    if cfg.mention_swaps > 0 {
        let copies = replaced_copies(&train_docs, cfg.mention_swaps, b.seed);
        train_docs.extend(copies);
    }
    let dev_docs = prepared(dev, None);
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let last = out.join("last");
    let (mut model, mut state) = if b.resume {
        resume(&last, cfg, device)?
    } else {
        let ner = if cfg.joint {
            let labels = label_set(&train_docs, b.scheme);
            if labels.len() < 2 {
                return Err(Error::Usage(
                    "the training documents have no entities".into(),
                ));
            }
            let mut config = classifier_config(base, labels, b)?;
            if cfg.encoder_layers > 0 {
                config.keep_layer_outputs();
            }
            TokenClassifier::from_backbone(base, config, device)?
        } else {
            let mut ner = TokenClassifier::load_with(base, device, cfg.encoder_layers > 0)?;
            ner.vs.freeze();
            ner
        };
        let ner_dir = if cfg.joint {
            out.to_path_buf()
        } else {
            base.to_path_buf()
        };
        let model = JointModel::new(
            ner,
            ner_dir,
            schema,
            cfg.joint,
            cfg.sentence_window,
            HeadDesign {
                pair_context: cfg.pair_context,
                sentence_context: cfg.sentence_context,
                encoder_layers: cfg.encoder_layers,
                pair_markers: cfg.pair_markers,
            },
        )?;
        let state = State {
            epoch: 0,
            step: 0,
            seed: b.seed,
            report: RelationTrainReport {
                best_epoch: 0,
                best_dev_f1: -1.0,
                epochs: Vec::new(),
                tuned_dev_f1: None,
                cv_dev_f1: None,
                thresholds: BTreeMap::new(),
            },
        };
        (model, state)
    };
    let ner_types: BTreeSet<String> = model
        .ner
        .labels()
        .iter()
        .filter_map(|l| l.split_once('-').map(|(_, t)| t.to_string()))
        .collect();
    if !ner_types
        .iter()
        .any(|t| model.schema.type_index(t).is_some())
    {
        return Err(Error::Usage(format!(
            "the NER model's entity types {ner_types:?} are none of the schema's {:?}",
            model.schema.entity_types
        )));
    }
    let e = &model.ner.config.ertag;
    let featurizer = Featurizer::from_file(
        &base.join("tokenizer.json"),
        WindowConfig {
            max_subwords: b.max_subwords,
            context: e.context,
            casing: e.casing,
        },
    )?;
    let ner_labels = model.ner.labels().to_vec();
    let (mut examples, cov) = examples(&train_docs, &featurizer, &model.schema, &ner_labels, cfg)?;
    if !cfg.joint {
        // Without a NER loss, windows without candidate pairs have nothing to teach.
        examples.retain(|e| !e.candidates.is_empty());
        cache_hidden(
            &model,
            &mut examples,
            featurizer.pad_id(),
            b.batch_size * 2,
            device,
        )?;
    }
    if cov.covered < cov.gold {
        eprintln!(
            "warning: {} of {} training relations are no candidate pair (types the schema does not allow, \
             arguments in different sentences, or not whole tokens) and are not learnt",
            cov.gold - cov.covered,
            cov.gold
        );
    }
    if examples.iter().all(|e| e.candidates.is_empty()) {
        return Err(Error::Usage(
            "the training documents give no candidate pairs".into(),
        ));
    }
    let log_path = out.join("train_log.jsonl");
    write_log(&log_path, &state.report.epochs)?;

    let per_epoch = steps_per_epoch(examples.len(), b.batch_size);
    let total = per_epoch * b.epochs;
    let warmup = (b.warmup * total as f64).round() as usize;
    let mut opt = adamw(&model.ner.vs, b)?;
    let lengths: Vec<usize> = examples.iter().map(|e| e.window.len()).collect();
    let opts = NerOptions {
        batch_size: b.batch_size * 2,
        max_subwords: b.max_subwords,
        ..Default::default()
    };
    copy_tokenizer(base, out, cfg.joint)?;
    for epoch in state.epoch + 1..=b.epochs {
        tch::manual_seed((b.seed ^ epoch as u64) as i64);
        let started = Instant::now();
        let bar = progress_bar(progress, per_epoch as u64, epoch, b.epochs);
        let (mut ner_sum, mut rel_sum, mut n, mut tokens) = (0.0, 0.0, 0usize, 0usize);
        for batch in epoch_batches(&lengths, b.batch_size, b.seed, epoch) {
            // The head learns at its own rate (warm-up and decay alike): it starts from scratch.
            let lr = lr_at(state.step, total, warmup, b.lr);
            opt.set_lr_group(0, lr);
            opt.set_lr_group(HEAD_GROUP, lr * cfg.head_lr / b.lr);
            state.step += 1;
            bar.inc(1);
            let exs: Vec<&Example> = batch.iter().map(|&i| &examples[i]).collect();
            let (ner_loss, rel_loss) = step_losses(&model, &exs, featurizer.pad_id(), cfg, device)?;
            let Some(loss) = (match (&ner_loss, &rel_loss) {
                (Some(a), Some(r)) => Some(a + r),
                (Some(a), None) => Some(a.shallow_clone()),
                (None, Some(r)) => Some(r.shallow_clone()),
                (None, None) => None,
            }) else {
                continue;
            };
            opt.backward_step_clip_norm(&loss, b.clip);
            ner_sum += ner_loss.map_or(0.0, |l| l.double_value(&[]));
            rel_sum += rel_loss.map_or(0.0, |l| l.double_value(&[]));
            n += 1;
            tokens += exs.iter().map(|e| e.window.len()).sum::<usize>();
            let rate = tokens as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "ner {:.4} rel {:.4} {rate:.0} tok/s",
                ner_sum / n as f64,
                rel_sum / n as f64
            ));
        }
        bar.finish_and_clear();
        let train_s = started.elapsed().as_secs_f64();
        let (ents, rels, per_label) = evaluate(&model, &featurizer, &dev_docs, &opts, None)?;
        let entry = RelationEpochLog {
            epoch,
            steps: state.step,
            ner_loss: ner_sum / n.max(1) as f64,
            relation_loss: rel_sum / n.max(1) as f64,
            dev_entities: ents,
            dev_relations: rels,
            dev_relations_per_label: per_label,
            seconds: started.elapsed().as_secs_f64(),
            tokens_per_s: tokens as f64 / train_s.max(1e-9),
        };
        eprintln!(
            "epoch {epoch}/{}: loss ner {:.4} rel {:.4}, dev entities F1 {:.2}, relations (strict) P {:.2} R {:.2} F1 {:.2}, {:.0} s",
            b.epochs,
            entry.ner_loss,
            entry.relation_loss,
            100.0 * ents.f1,
            100.0 * rels.precision,
            100.0 * rels.recall,
            100.0 * rels.f1,
            entry.seconds
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io_err(&log_path))?;
        writeln!(f, "{}", serde_json::to_string(&entry).expect("json"))
            .map_err(io_err(&log_path))?;
        let kept = match cfg.keep {
            Keep::Best => rels.f1 > state.report.best_dev_f1,
            Keep::Last => true,
        };
        if kept {
            state.report.best_dev_f1 = rels.f1;
            state.report.best_epoch = epoch;
            model.save(out, b.half)?;
            write_json(&out.join("training_args.json"), cfg)?;
        }
        state.report.epochs.push(entry);
        state.epoch = epoch;
        save_last(&mut model, &last, base, cfg)?;
        write_json(&last.join("state.json"), &state)?;
    }
    // Thresholds: from another model, or on dev with the kept epoch's model as saved.
    let mut best = JointModel::load(out, device)?;
    let (thresholds, tuned) = match fixed_thresholds {
        Some(fixed) => (fixed, None),
        None => {
            let choice =
                tune_thresholds(&best, &featurizer, &dev_docs, &opts, cfg.threshold_floor)?;
            (choice.thresholds.clone(), Some(choice))
        }
    };
    for (l, r) in best.schema.relations.iter().enumerate() {
        best.settings.thresholds[l] = thresholds.get(&r.name).copied().unwrap_or(0.5);
    }
    best.save_settings(out)?;
    state.report.thresholds = thresholds;
    state.report.tuned_dev_f1 = tuned.as_ref().map(|c| c.tuned_f1);
    state.report.cv_dev_f1 = tuned.as_ref().map(|c| CrossValidated {
        per_label: c.cv_per_label_f1,
        at_half: c.cv_half_f1,
    });
    write_json(&out.join("train_report.json"), &state.report)?;
    let kept = match cfg.keep {
        Keep::Best => "best epoch",
        Keep::Last => "last epoch",
    };
    let thresholds =
        match &tuned {
            Some(c) => format!(
            "per-label thresholds {} ({}-fold cross-validation on dev: {:.2} against {:.2} at 0.5)",
            if c.thresholds.is_empty() { "not kept" } else { "kept" },
            thresholds::FOLDS,
            100.0 * c.cv_per_label_f1,
            100.0 * c.cv_half_f1
        ),
            None => "thresholds from --thresholds-from".to_string(),
        };
    eprintln!(
        "{kept} {}: dev strict relation F1 {:.2} at 0.5, {thresholds}",
        state.report.best_epoch,
        100.0 * state.report.best_dev_f1,
    );
    Ok(state.report)
}

/// The per-label thresholds of the relation model in `dir`, whose labels must be `schema`'s.
fn thresholds_of(dir: &Path, schema: &Schema) -> Result<BTreeMap<String, f32>> {
    let (settings, theirs) = read_settings(dir)?;
    if theirs.labels() != schema.labels() {
        return Err(Error::Usage(format!(
            "--thresholds-from {}: its labels {:?} are not the schema's {:?}",
            dir.display(),
            theirs.labels(),
            schema.labels()
        )));
    }
    Ok(schema
        .labels()
        .into_iter()
        .map(String::from)
        .zip(settings.thresholds)
        .collect())
}

/// Entity F1 (conlleval), strict relation micro-F1 and per-label relation scores on `dev`,
/// predicted end to end.
fn evaluate(
    model: &JointModel,
    featurizer: &Featurizer,
    dev: &[Document],
    opts: &NerOptions,
    floor: Option<f32>,
) -> Result<(Score, Score, BTreeMap<String, Score>)> {
    let mut pred = dev.to_vec();
    predict(model, featurizer, &mut pred, opts, floor)?;
    let symmetric = symmetric_labels(&model.schema);
    let (mut ents, mut rels) = (LabelCounts::new(), LabelCounts::new());
    for (g, p) in dev.iter().zip(&pred) {
        add_counts(&mut ents, &entity_counts(g, p));
        add_counts(
            &mut rels,
            &relation_counts(g, p, RelationSetting::Strict, &symmetric, false),
        );
    }
    let e = ScoreTable::from_counts(&ents);
    let r = ScoreTable::from_counts(&rels);
    let per_label = r
        .per_label
        .iter()
        .map(|s| (s.label.clone(), score(s.prf, s.support)))
        .collect();
    Ok((
        score(e.micro, e.total.tp + e.total.fn_),
        score(r.micro, r.total.tp + r.total.fn_),
        per_label,
    ))
}

pub fn symmetric_labels(schema: &Schema) -> BTreeSet<String> {
    (0..schema.relations.len())
        .filter(|&l| schema.is_symmetric(l))
        .map(|l| schema.relations[l].name.clone())
        .collect()
}

/// Thresholds for `model` from its predictions on dev (see [`thresholds::choose`]).
fn tune_thresholds(
    model: &JointModel,
    featurizer: &Featurizer,
    dev: &[Document],
    opts: &NerOptions,
    floor: f32,
) -> Result<ThresholdChoice> {
    let mut pred = dev.to_vec();
    predict(model, featurizer, &mut pred, opts, Some(floor))?;
    Ok(thresholds::choose(
        dev,
        &pred,
        &symmetric_labels(&model.schema),
    ))
}

fn copy_tokenizer(base: &Path, out: &Path, joint: bool) -> Result<()> {
    if joint {
        copy_tokenizer_files(base, out)?;
    }
    Ok(())
}

fn save_last(
    model: &mut JointModel,
    last: &Path,
    base: &Path,
    cfg: &RelationTrainConfig,
) -> Result<()> {
    model.save(last, false)?;
    copy_tokenizer(base, last, cfg.joint)
}

fn resume(last: &Path, cfg: &RelationTrainConfig, device: Device) -> Result<(JointModel, State)> {
    let state: State = read_resume_state(last, cfg.base.seed, |s: &State| s.seed)?;
    let mut model = JointModel::load(last, device)?;
    if !cfg.joint {
        // Only the head trains: freeze what `load` made trainable, then thaw the head.
        model.ner.vs.freeze();
        for (name, var) in model.ner.vs.variables() {
            if name.starts_with(crate::relations::model::HEAD_PREFIX) {
                let _ = var.set_requires_grad(true);
            }
        }
    }
    Ok((model, state))
}
