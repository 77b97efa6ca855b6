//! Fine-tuning a token classifier for NER: `ertag train ner`.
//!
//! The loop is the usual recipe for BERT-style taggers (AdamW, linear warm-up then linear decay,
//! clipping by norm, label on the first sub-word of each word), written so that a run is
//! reproducible from its seed: dropout is seeded per epoch and the windows are shuffled by a
//! splitmix64 seeded with (seed, epoch), so epoch `k` sees the same batches whether the run
//! started at epoch 1 or resumed at `k`.
//!
//! Resuming (`--resume`) restores the weights, the epoch, the step (hence the learning rate's
//! place in the schedule) and the best dev score so far from `out/last/`. It cannot restore
//! AdamW's moment estimates: tch 0.17 does not expose them, so they restart from zero at the
//! resumed epoch. The first steps after a resume therefore take slightly different updates
//! than an uninterrupted run would; the schedule and the data order are the same.
//!
//! Output directory: the best epoch's checkpoint (config.json, model.safetensors, the base's
//! tokenizer files, training_args.json), `train_log.jsonl` (one line per epoch), and `last/`
//! (fp32 weights and `state.json` of the latest epoch, for `--resume`). Dev is scored with the
//! in-memory model decoded as `NerModel::annotate` decodes, so the logged F1 is the saved
//! model's. Weight decay applies to every parameter, LayerNorm and biases included (tch's
//! AdamW has no per-parameter exclusion for variables created by rust-bert); at 0.01 this
//! differs little from transformers' default.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Device, Reduction, Tensor};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::eval::bootstrap::SplitMix64;
use crate::eval::counts::add_counts;
use crate::eval::{entity_counts, ScoreTable};
use crate::ner::config::{ErtagSettings, ModelConfig};
use crate::ner::decode::{self, Aggregation, TagDecoding};
use crate::ner::features::{collate, Featurizer, Window, WindowConfig};
use crate::ner::model::TokenClassifier;
use crate::ner::pipeline::word_probabilities;
use crate::segment::Segmenter;
use crate::tags::{self, TagScheme};

/// Label id of sub-words the loss ignores (PyTorch's default `ignore_index`).
pub const IGNORE: i64 = -100;
/// Batches are formed from chunks of this many batches' worth of shuffled windows, sorted by
/// length: padding stays small while the order stays random at the scale of an epoch.
const BUCKET_BATCHES: usize = 50;

/// Everything that decides a training run; written to `training_args.json` in the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Peak learning rate (reached at the end of warm-up).
    pub lr: f64,
    pub batch_size: usize,
    /// Fraction of all steps spent warming up linearly from ~0 to `lr`.
    pub warmup: f64,
    pub weight_decay: f64,
    /// Gradient clipping by global norm.
    pub clip: f64,
    pub seed: u64,
    /// Sub-words per window, special tokens included.
    pub max_subwords: usize,
    /// Casing class of each word in the token type ids (see `ner::features`).
    pub casing: bool,
    /// Fill windows with the neighbouring sentences as context.
    pub context: bool,
    /// Tag scheme of the model's labels.
    pub scheme: TagScheme,
    /// Save the best checkpoint in fp16 (half the size; loaded back as fp32).
    pub half: bool,
    /// Score dev after every epoch and keep the best; otherwise only after the last.
    pub eval_every_epoch: bool,
    /// Train on the first N documents only (quick tests).
    pub limit_train_docs: Option<usize>,
    /// Continue from `out/last/`.
    pub resume: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 4,
            lr: 5e-5,
            batch_size: 16,
            warmup: 0.1,
            weight_decay: 0.01,
            clip: 1.0,
            seed: 42,
            max_subwords: 128,
            casing: true,
            context: true,
            scheme: TagScheme::Iob2,
            half: true,
            eval_every_epoch: true,
            limit_train_docs: None,
            resume: false,
        }
    }
}

/// Precision, recall and F1 of one entity type (or the micro average) on dev.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// One line of `train_log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    /// Optimizer steps taken since the start of the run (all epochs).
    pub steps: usize,
    pub train_loss: f64,
    /// `None` when dev was not scored after this epoch.
    pub dev_micro: Option<Score>,
    pub dev_per_type: BTreeMap<String, Score>,
    pub lr: f64,
    pub seconds: f64,
    /// Non-padding sub-words trained on per second (forward and backward).
    pub tokens_per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub best_epoch: usize,
    pub best_dev_f1: f64,
    pub epochs: Vec<EpochLog>,
}

/// Where a run stands after an epoch, saved in `out/last/state.json` for `--resume`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    epoch: usize,
    step: usize,
    seed: u64,
    report: TrainReport,
    note: String,
}

const RESUME_NOTE: &str = "AdamW moment estimates are not saved (tch 0.17 cannot): \
                           they restart from zero when a run resumes";

/// Learning rate at optimizer step `step` (0-based) of `total`: linear warm-up over `warmup`
/// steps to `peak`, then linear decay to 0 at `total`. Warm-up starts at `peak / warmup`
/// rather than 0 (transformers' schedule wastes its first step at lr 0).
pub fn lr_at(step: usize, total: usize, warmup: usize, peak: f64) -> f64 {
    if step < warmup {
        peak * (step + 1) as f64 / warmup as f64
    } else {
        let left = total.saturating_sub(step) as f64;
        peak * left / total.saturating_sub(warmup).max(1) as f64
    }
}

/// The model's labels: `O`, then every entity type's tags in `scheme` (B-/I-, plus E-/S- for
/// BIOES), types sorted so the same corpus always gives the same ids.
pub fn label_set(docs: &[Document], scheme: TagScheme) -> Vec<String> {
    let types: std::collections::BTreeSet<&str> = docs
        .iter()
        .flat_map(|d| d.entities.iter().map(|e| e.label.as_str()))
        .filter(|l| !l.is_empty())
        .collect();
    let prefixes: &[&str] = match scheme {
        TagScheme::Bioes => &["B", "I", "E", "S"],
        TagScheme::Iob1 | TagScheme::Iob2 => &["B", "I"],
    };
    let mut labels = vec!["O".to_string()];
    for t in types {
        labels.extend(prefixes.iter().map(|p| format!("{p}-{t}")));
    }
    labels
}

/// Tag ids of every token of `doc` in `scheme`; also the number of entities that a tag
/// sequence cannot hold (not on token boundaries, or overlapping), which are left out.
pub fn doc_tag_ids(doc: &Document, labels: &[String], scheme: TagScheme) -> (Vec<i64>, usize) {
    let spans = crate::eval::entities::token_spans(doc, &doc.tokens);
    let dropped = doc.entities.len() - spans.len();
    let ids = tags::encode(&spans, doc.tokens.len(), scheme)
        .iter()
        .map(|t| labels.iter().position(|l| l == t).unwrap_or(0) as i64)
        .collect();
    (ids, dropped)
}

/// Per sub-word labels of a window: the word's tag id on the first sub-word of each word the
/// window decides, [`IGNORE`] elsewhere (later sub-words, context words, special tokens), so
/// each word is trained on exactly once and in the window that will tag it at inference.
pub fn window_labels(w: &Window, doc_tags: &[i64]) -> Vec<i64> {
    w.word_of
        .iter()
        .zip(&w.first_of_word)
        .map(|(word, &first)| match word {
            Some(i) if first && w.decides.contains(i) => doc_tags[*i],
            _ => IGNORE,
        })
        .collect()
}

/// The batches of one epoch as window indices: shuffle, cut into chunks of
/// [`BUCKET_BATCHES`] batches, sort each chunk by length, cut into batches, shuffle the
/// batches. Deterministic in `(seed, epoch)`.
pub fn epoch_batches(
    lengths: &[usize],
    batch_size: usize,
    seed: u64,
    epoch: usize,
) -> Vec<Vec<usize>> {
    let mut rng = SplitMix64::new(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    shuffle(&mut order, &mut rng);
    let batch_size = batch_size.max(1);
    let mut batches = Vec::new();
    for chunk in order.chunks_mut(batch_size * BUCKET_BATCHES) {
        chunk.sort_by_key(|&i| lengths[i]);
        batches.extend(chunk.chunks(batch_size).map(<[usize]>::to_vec));
    }
    shuffle(&mut batches, &mut rng);
    batches
}

fn shuffle<T>(v: &mut [T], rng: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

/// Steps in one epoch of `n` windows (every batch is full except possibly one per chunk's end,
/// and chunks are whole batches, so this is exact).
pub fn steps_per_epoch(n: usize, batch_size: usize) -> usize {
    n.div_ceil(batch_size.max(1))
}

/// The classifier's config: the backbone's config.json with our labels and settings; with
/// casing, the token-type vocabulary is widened to the 4 casing classes (the backbone's table
/// is widened by [`TokenClassifier::from_backbone`]).
pub(crate) fn classifier_config(
    base: &Path,
    labels: Vec<String>,
    cfg: &TrainConfig,
) -> Result<ModelConfig> {
    let mut config = ModelConfig::from_file(&base.join("config.json"))?;
    if cfg.casing {
        let o = config
            .raw
            .as_object_mut()
            .expect("config.json is an object");
        let width = o
            .get("type_vocab_size")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        o.insert("type_vocab_size".into(), width.max(4).into());
    }
    config.labels = labels;
    config.ertag = ErtagSettings {
        casing: cfg.casing,
        scheme: cfg.scheme,
        context: cfg.context,
    };
    Ok(config)
}

/// Training examples: windows with their sub-word labels.
struct Example {
    window: Window,
    labels: Vec<i64>,
}

fn examples(
    docs: &[Document],
    featurizer: &Featurizer,
    labels: &[String],
    scheme: TagScheme,
) -> Result<(Vec<Example>, usize)> {
    let mut out = Vec::new();
    let mut dropped = 0;
    for (i, doc) in docs.iter().enumerate() {
        let (tags, d) = doc_tag_ids(doc, labels, scheme);
        dropped += d;
        for window in featurizer.windows(i, doc)? {
            let labels = window_labels(&window, &tags);
            out.push(Example { window, labels });
        }
    }
    Ok((out, dropped))
}

/// Documents ready to featurize: segmented where they have no word tokens.
pub(crate) fn prepared(docs: &[Document], limit: Option<usize>) -> Vec<Document> {
    let seg = Segmenter::new();
    docs.iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|d| {
            let mut d = d.clone();
            seg.segment(&mut d);
            d
        })
        .collect()
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value).expect("json") + "\n";
    std::fs::write(path, json).map_err(io_err(path))
}

/// AdamW with transformers' defaults and `cfg`'s weight decay, at `cfg.lr`.
pub(crate) fn adamw(vs: &nn::VarStore, cfg: &TrainConfig) -> Result<nn::Optimizer> {
    nn::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        wd: cfg.weight_decay,
        eps: 1e-8,
        amsgrad: false,
    }
    .build(vs, cfg.lr)
    .map_err(|e| Error::Usage(format!("cannot build the optimizer: {e}")))
}

/// Rewrite `train_log.jsonl` with exactly the epochs done so far (a resumed run rewrites what
/// it restored).
pub(crate) fn write_log<T: Serialize>(path: &Path, epochs: &[T]) -> Result<()> {
    let mut log = String::new();
    for e in epochs {
        log += &(serde_json::to_string(e).expect("json") + "\n");
    }
    std::fs::write(path, log).map_err(io_err(path))
}

/// Copy the backbone's tokenizer files (those it has) into a model directory.
pub(crate) fn copy_tokenizer_files(base: &Path, dir: &Path) -> Result<()> {
    for f in [
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        let src = base.join(f);
        if src.is_file() {
            std::fs::copy(&src, dir.join(f)).map_err(io_err(&src))?;
        }
    }
    Ok(())
}

/// Save a checkpoint directory the inference side loads: weights, config, tokenizer files.
fn save_checkpoint(
    model: &TokenClassifier,
    base: &Path,
    dir: &Path,
    half: bool,
    cfg: &TrainConfig,
) -> Result<()> {
    model.save(dir, half)?;
    copy_tokenizer_files(base, dir)?;
    write_json(&dir.join("training_args.json"), cfg)
}

/// Fine-tune `base` on `train`, score on `dev` after each epoch, and keep the best epoch's
/// checkpoint in `out` (see the module doc for what `cfg.resume` restores).
pub fn train(
    train: &[Document],
    dev: &[Document],
    base: &Path,
    out: &Path,
    cfg: &TrainConfig,
    progress: bool,
) -> Result<TrainReport> {
    let device = Device::cuda_if_available();
    // Seeds the new head's initialisation (each epoch re-seeds dropout from (seed, epoch)).
    tch::manual_seed(cfg.seed as i64);
    let train_docs = prepared(train, cfg.limit_train_docs);
    let dev_docs = prepared(dev, None);
    let labels = label_set(&train_docs, cfg.scheme);
    if labels.len() < 2 {
        return Err(Error::Usage(
            "the training documents have no entities".into(),
        ));
    }
    let featurizer = Featurizer::from_file(
        &base.join("tokenizer.json"),
        WindowConfig {
            max_subwords: cfg.max_subwords,
            context: cfg.context,
            casing: cfg.casing,
        },
    )?;
    let (examples, dropped) = examples(&train_docs, &featurizer, &labels, cfg.scheme)?;
    if dropped > 0 {
        eprintln!("warning: {dropped} training entities are not on token boundaries or overlap another; trained as O");
    }
    if examples.is_empty() {
        return Err(Error::Usage(
            "the training documents give no windows".into(),
        ));
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let last = out.join("last");
    let log_path = out.join("train_log.jsonl");

    let (model, mut state) = if cfg.resume {
        resume(&last, &labels, cfg, device)?
    } else {
        let config = classifier_config(base, labels.clone(), cfg)?;
        let model = TokenClassifier::from_backbone(base, config, device)?;
        let state = State {
            epoch: 0,
            step: 0,
            seed: cfg.seed,
            report: TrainReport {
                best_epoch: 0,
                best_dev_f1: -1.0,
                epochs: Vec::new(),
            },
            note: RESUME_NOTE.into(),
        };
        (model, state)
    };
    write_log(&log_path, &state.report.epochs)?;

    let per_epoch = steps_per_epoch(examples.len(), cfg.batch_size);
    let total = per_epoch * cfg.epochs;
    let mut opt = adamw(&model.vs, cfg)?;
    let lengths: Vec<usize> = examples.iter().map(|e| e.window.input_ids.len()).collect();

    for epoch in state.epoch + 1..=cfg.epochs {
        tch::manual_seed((cfg.seed ^ epoch as u64) as i64);
        let started = Instant::now();
        let bar = progress_bar(progress, per_epoch as u64, epoch, cfg.epochs);
        let pass = Pass {
            model: &model,
            examples: &examples,
            lengths: &lengths,
            pad_id: featurizer.pad_id(),
            n_labels: labels.len() as i64,
        };
        let (loss, tokens, lr) = pass.epoch(&mut opt, &mut state.step, epoch, cfg, total, &bar)?;
        bar.finish_and_clear();
        let train_seconds = started.elapsed().as_secs_f64();
        let scored = cfg.eval_every_epoch || epoch == cfg.epochs;
        let dev_table = if scored {
            Some(evaluate(&model, &featurizer, &dev_docs, cfg.batch_size)?)
        } else {
            None
        };
        let entry = EpochLog {
            epoch,
            steps: state.step,
            train_loss: loss,
            dev_micro: dev_table
                .as_ref()
                .map(|t| score(t.micro, t.total.tp + t.total.fn_)),
            dev_per_type: dev_table
                .as_ref()
                .map(|t| {
                    t.per_label
                        .iter()
                        .map(|s| (s.label.clone(), score(s.prf, s.support)))
                        .collect()
                })
                .unwrap_or_default(),
            lr,
            seconds: started.elapsed().as_secs_f64(),
            tokens_per_s: tokens as f64 / train_seconds.max(1e-9),
        };
        print_epoch(&entry, cfg.epochs);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io_err(&log_path))?;
        writeln!(f, "{}", serde_json::to_string(&entry).expect("json"))
            .map_err(io_err(&log_path))?;
        let f1 = entry.dev_micro.map_or(-1.0, |s| s.f1);
        if scored && f1 > state.report.best_dev_f1 {
            state.report.best_dev_f1 = f1;
            state.report.best_epoch = epoch;
            save_checkpoint(&model, base, out, cfg.half, cfg)?;
        }
        state.report.epochs.push(entry);
        state.epoch = epoch;
        model.save(&last, false)?;
        write_json(&last.join("state.json"), &state)?;
    }
    Ok(state.report)
}

/// One epoch's optimizer steps over the training windows.
struct Pass<'a> {
    model: &'a TokenClassifier,
    examples: &'a [Example],
    lengths: &'a [usize],
    pad_id: i64,
    n_labels: i64,
}

impl Pass<'_> {
    /// Train one epoch from global step `*step` of `total`; returns the mean loss, the
    /// sub-words seen and the last learning rate.
    fn epoch(
        &self,
        opt: &mut nn::Optimizer,
        step: &mut usize,
        epoch: usize,
        cfg: &TrainConfig,
        total: usize,
        bar: &indicatif::ProgressBar,
    ) -> Result<(f64, usize, f64)> {
        let warmup = (cfg.warmup * total as f64).round() as usize;
        let device = self.model.vs.device();
        let started = Instant::now();
        let (mut loss_sum, mut loss_n, mut tokens, mut lr) = (0.0, 0usize, 0usize, cfg.lr);
        for batch in epoch_batches(self.lengths, cfg.batch_size, cfg.seed, epoch) {
            lr = lr_at(*step, total, warmup, cfg.lr);
            opt.set_lr(lr);
            let windows: Vec<&Window> = batch.iter().map(|&i| &self.examples[i].window).collect();
            let b = collate(&windows, self.pad_id, device);
            let width = b.input_ids.size()[1] as usize;
            let mut flat = Vec::with_capacity(batch.len() * width);
            for &i in &batch {
                let l = &self.examples[i].labels;
                flat.extend_from_slice(l);
                flat.extend(std::iter::repeat_n(IGNORE, width - l.len()));
            }
            *step += 1;
            bar.inc(1);
            // A batch of context words only has nothing to learn from (its mean loss would be
            // 0/0 and its gradients NaN); its step still counts, so the schedule stays fixed.
            if flat.iter().all(|&l| l == IGNORE) {
                continue;
            }
            let gold = Tensor::from_slice(&flat).to_device(device);
            let (_, logits) =
                self.model
                    .forward_t(&b.input_ids, &b.mask, Some(&b.type_ids), true)?;
            let loss = logits
                .view([-1, self.n_labels])
                .cross_entropy_loss::<Tensor>(&gold, None, Reduction::Mean, IGNORE, 0.0);
            opt.backward_step_clip_norm(&loss, cfg.clip);
            loss_sum += loss.double_value(&[]);
            loss_n += 1;
            tokens += batch.iter().map(|&i| self.lengths[i]).sum::<usize>();
            let rate = tokens as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let mean = loss_sum / loss_n.max(1) as f64;
            bar.set_message(format!("loss {mean:.4}  {rate:.0} tok/s"));
        }
        Ok((loss_sum / loss_n.max(1) as f64, tokens, lr))
    }
}

/// Read `last/state.json` for `--resume`, refusing a run that used another seed (its remaining
/// epochs would not match). Shared by the NER and relation training loops.
pub(crate) fn read_resume_state<T: serde::de::DeserializeOwned>(
    last: &Path,
    seed: u64,
    seed_of: impl Fn(&T) -> u64,
) -> Result<T> {
    let state_path = last.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| {
        Error::Usage(format!(
            "--resume: cannot read {}: {e} (no finished epoch to resume from)",
            state_path.display()
        ))
    })?;
    let state: T = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("--resume: {}: {e}", state_path.display())))?;
    if seed_of(&state) != seed {
        return Err(Error::Usage(format!(
            "--resume: the run used seed {}, not {seed}: the remaining epochs would not match",
            seed_of(&state)
        )));
    }
    Ok(state)
}

/// Restore the model and the run's position from `last` (written after every epoch).
fn resume(
    last: &Path,
    labels: &[String],
    cfg: &TrainConfig,
    device: Device,
) -> Result<(TokenClassifier, State)> {
    let state: State = read_resume_state(last, cfg.seed, |s: &State| s.seed)?;
    let model = TokenClassifier::load(last, device)?;
    if model.labels() != labels {
        return Err(Error::Usage(format!(
            "--resume: the saved model has labels {:?}, the training data gives {labels:?}",
            model.labels()
        )));
    }
    Ok((model, state))
}

pub(crate) fn score(prf: crate::eval::Prf, support: usize) -> Score {
    Score {
        precision: prf.precision,
        recall: prf.recall,
        f1: prf.f1,
        support,
    }
}

pub(crate) fn progress_bar(
    show: bool,
    steps: u64,
    epoch: usize,
    epochs: usize,
) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "epoch {epoch}/{epochs} [{{bar:30}}] {{pos}}/{{len}} {{elapsed_precise}}<{{eta_precise}} {{msg}}"
    ))
    .expect("template");
    bar.set_style(style.progress_chars("=> "));
    bar
}

fn print_epoch(e: &EpochLog, epochs: usize) {
    let dev = e.dev_micro.map_or("dev not scored".to_string(), |s| {
        format!(
            "dev P {:.2} R {:.2} F1 {:.2}",
            100.0 * s.precision,
            100.0 * s.recall,
            100.0 * s.f1
        )
    });
    eprintln!(
        "epoch {}/{epochs}: loss {:.4}, {dev}, {:.0} s, {:.0} tokens/s",
        e.epoch, e.train_loss, e.seconds, e.tokens_per_s
    );
}

/// Entity-level exact-match scores of the in-memory model on `dev` (conlleval's figures),
/// decoded exactly as [`crate::ner::NerModel::annotate`] does by default (first sub-word, the
/// best valid tag sequence), so the dev F1 here is the F1 of the saved model.
fn evaluate(
    model: &TokenClassifier,
    featurizer: &Featurizer,
    dev: &[Document],
    batch_size: usize,
) -> Result<ScoreTable> {
    let labels = model.labels();
    let dists = word_probabilities(model, featurizer, dev, batch_size * 2, Aggregation::First)?;
    let scheme = model.config.ertag.scheme;
    let mut counts = crate::eval::LabelCounts::new();
    for (gold, dists) in dev.iter().zip(&dists) {
        let mut pred = gold.clone();
        pred.entities = decode::entities(gold, dists, labels, scheme, TagDecoding::default())?;
        add_counts(&mut counts, &entity_counts(gold, &pred));
    }
    Ok(ScoreTable::from_counts(&counts))
}
