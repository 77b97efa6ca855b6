//! Training a relation model: `ertag train relations`.
//!
//! Two modes, one loop:
//! - **joint** (`--joint`): NER and relations on one encoder, fine-tuned together from a
//!   backbone; the loss is the tagger's cross-entropy plus the relation head's binary
//!   cross-entropy over each candidate pair's allowed labels (SpERT's recipe, with a BIO tagger
//!   instead of span classification). The output directory is a complete model.
//! - **frozen** (default): the head alone on an existing NER model, whose encoder runs without
//!   gradients; the output directory refers to that NER model and pins its weights by hash.
//!   This is how a shipped relation model shares the shipped NER model's encoder.
//!
//! Pairs are the gold entities' candidate pairs (`relations::pairs`), so the head learns on
//! the pairs it will see at inference when NER is right. Dev is scored end to end with
//! predicted entities (strict relation micro-F1 selects the best epoch); afterwards each
//! label's threshold is chosen on dev and stored with the model. Seeds, data order, the
//! schedule and `--resume` work as in `ner::train`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Device, Kind, Reduction, Tensor};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::eval::counts::add_counts;
use crate::eval::relations::{best_thresholds, relation_counts, RelationSetting};
use crate::eval::{entity_counts, LabelCounts, ScoreTable};
use crate::ner::features::{collate, sentence_groups, Featurizer, Window, WindowConfig};
use crate::ner::model::TokenClassifier;
use crate::ner::train::{
    classifier_config, doc_tag_ids, epoch_batches, io_err, label_set, lr_at, prepared,
    progress_bar, score, steps_per_epoch, window_labels, write_json, Score, TrainConfig, IGNORE,
};
use crate::ner::NerOptions;
use crate::relations::head::PairInputs;
use crate::relations::model::{JointModel, HEAD_GROUP};
use crate::relations::pairs::{self, Candidate, TokenMention};
use crate::relations::pipeline::predict;
use crate::relations::schema::Schema;

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
    /// Dev strict micro-F1 with the thresholds chosen after training.
    pub tuned_dev_f1: Option<f64>,
    pub thresholds: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    epoch: usize,
    step: usize,
    seed: u64,
    report: RelationTrainReport,
}

/// One training window: NER labels of its sub-words, its gold mentions and candidate pairs
/// with their targets.
struct Example {
    window: Window,
    ner_labels: Vec<i64>,
    mentions: Vec<pairs::Mention>,
    candidates: Vec<Candidate>,
    /// Per candidate, per label: 1.0 where the gold relation holds.
    targets: Vec<Vec<f32>>,
    /// Frozen mode: the encoder's hidden states of this window (`[length, hidden]`, fp16 on the
    /// CPU), computed once before the first epoch.
    frozen_hidden: Option<Tensor>,
}

/// Gold relations no candidate pair can hold (their types are not allowed by the schema, they
/// span more sentences than the window, or an argument is not a whole-token entity).
#[derive(Debug, Default)]
struct Coverage {
    gold: usize,
    covered: usize,
}

fn examples(
    docs: &[Document],
    featurizer: &Featurizer,
    schema: &Schema,
    ner_labels: &[String],
    cfg: &RelationTrainConfig,
) -> Result<(Vec<Example>, Coverage)> {
    let mut out = Vec::new();
    let mut cov = Coverage::default();
    for (d, doc) in docs.iter().enumerate() {
        let groups = sentence_groups(doc);
        let group_of = pairs::group_of_tokens(&groups, doc.tokens.len());
        let spans = crate::eval::entities::token_spans(doc, &doc.tokens);
        // Entity id -> index into `mentions` (entities the tagger can hold, of schema types).
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut mentions: Vec<TokenMention> = Vec::new();
        for e in &doc.entities {
            let Some(type_id) = schema.type_index(&e.label) else {
                continue;
            };
            let start = doc.tokens.binary_search_by_key(&e.start, |t| t.start).ok();
            let last = doc.tokens.binary_search_by_key(&e.end, |t| t.end).ok();
            let (Some(start), Some(last)) = (start, last) else {
                continue;
            };
            if !spans.iter().any(|s| s.start == start && s.end == last + 1) {
                continue;
            }
            index.insert(e.id.as_str(), mentions.len());
            mentions.push(TokenMention {
                tokens: start..last + 1,
                type_id,
                group: group_of[start],
            });
        }
        let mut gold: HashSet<(usize, usize, usize)> = HashSet::new();
        for r in &doc.relations {
            let Some(l) = schema.label_index(&r.label) else {
                return Err(Error::Usage(format!(
                    "document '{}': relation label {:?} is not in the schema {:?}",
                    doc.id,
                    r.label,
                    schema.labels()
                )));
            };
            cov.gold += 1;
            let (Some(&h), Some(&t)) = (index.get(r.head.as_str()), index.get(r.tail.as_str()))
            else {
                continue;
            };
            gold.insert((h, t, l));
            if schema.is_symmetric(l) {
                gold.insert((t, h, l));
            }
        }
        let (tags, _) = doc_tag_ids(doc, ner_labels, cfg.base.scheme);
        let mut covered: HashSet<(usize, usize, usize)> = HashSet::new();
        for window in featurizer.windows(d, doc)? {
            let placed = pairs::place(&window, &mentions);
            let cands = pairs::candidates(&placed, schema, cfg.sentence_window);
            let targets: Vec<Vec<f32>> = cands
                .iter()
                .map(|c| {
                    let (h, t) = (placed[c.head].key, placed[c.tail].key);
                    (0..schema.relations.len())
                        .map(|l| {
                            let hit = c.allowed[l] && gold.contains(&(h, t, l));
                            if hit {
                                covered.insert((h.min(t), h.max(t), l));
                                if !schema.is_symmetric(l) {
                                    covered.insert((h, t, l + 1_000_000));
                                }
                            }
                            if hit {
                                1.0
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect();
            let ner_labels = window_labels(&window, &tags);
            out.push(Example {
                window,
                ner_labels,
                mentions: placed,
                candidates: cands,
                targets,
                frozen_hidden: None,
            });
        }
        // A directed relation counts once; a symmetric one once per unordered pair.
        cov.covered += covered
            .iter()
            .filter(|k| k.2 >= 1_000_000 || schema.is_symmetric(k.2))
            .count();
    }
    Ok((out, cov))
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
    tch::manual_seed(b.seed as i64);
    let train_docs = prepared(train, b.limit_train_docs);
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
            TokenClassifier::from_backbone(base, classifier_config(base, labels, b)?, device)?
        } else {
            let mut ner = TokenClassifier::load(base, device)?;
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
            cfg.pair_context,
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
    let mut log = String::new();
    for e in &state.report.epochs {
        log += &(serde_json::to_string(e).expect("json") + "\n");
    }
    std::fs::write(&log_path, log).map_err(io_err(&log_path))?;

    let per_epoch = steps_per_epoch(examples.len(), b.batch_size);
    let total = per_epoch * b.epochs;
    let warmup = (b.warmup * total as f64).round() as usize;
    let mut opt = nn::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        wd: b.weight_decay,
        eps: 1e-8,
        amsgrad: false,
    }
    .build(&model.ner.vs, b.lr)
    .map_err(|e| Error::Usage(format!("cannot build the optimizer: {e}")))?;
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
        if rels.f1 > state.report.best_dev_f1 {
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
    // Thresholds: on dev, with the best epoch's model as saved.
    let mut best = JointModel::load(out, device)?;
    let (thresholds, tuned) =
        tune_thresholds(&best, &featurizer, &dev_docs, &opts, cfg.threshold_floor)?;
    for (l, r) in best.schema.relations.iter().enumerate() {
        if let Some(&t) = thresholds.get(&r.name) {
            best.settings.thresholds[l] = t;
        }
    }
    best.save_settings(out)?;
    state.report.thresholds = thresholds;
    state.report.tuned_dev_f1 = Some(tuned);
    write_json(&out.join("train_report.json"), &state.report)?;
    eprintln!(
        "best epoch {}: dev strict relation F1 {:.2} at 0.5, {:.2} with per-label thresholds",
        state.report.best_epoch,
        100.0 * state.report.best_dev_f1,
        100.0 * tuned
    );
    Ok(state.report)
}

/// The batch's NER loss (joint mode) and relation loss (when it has candidate pairs).
fn step_losses(
    model: &JointModel,
    exs: &[&Example],
    pad_id: i64,
    cfg: &RelationTrainConfig,
    device: Device,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let windows: Vec<&Window> = exs.iter().map(|e| &e.window).collect();
    let b = collate(&windows, pad_id, device);
    let (hidden, logits) = if cfg.joint {
        model
            .ner
            .forward_t(&b.input_ids, &b.mask, Some(&b.type_ids), true)?
    } else {
        // The frozen encoder's output never changes: it was computed once, before training.
        let width = b.input_ids.size()[1];
        let rows: Vec<Tensor> = exs
            .iter()
            .map(|e| {
                let h = e
                    .frozen_hidden
                    .as_ref()
                    .expect("frozen hidden states were cached");
                h.constant_pad_nd([0, 0, 0, width - h.size()[0]])
            })
            .collect();
        let hidden = Tensor::stack(&rows, 0)
            .to_kind(Kind::Float)
            .to_device(device);
        (hidden, Tensor::new())
    };
    let ner_loss = if cfg.joint {
        let width = b.input_ids.size()[1] as usize;
        let mut flat = Vec::with_capacity(exs.len() * width);
        for e in exs {
            flat.extend_from_slice(&e.ner_labels);
            flat.extend(std::iter::repeat_n(IGNORE, width - e.ner_labels.len()));
        }
        (!flat.iter().all(|&l| l == IGNORE)).then(|| {
            let gold = Tensor::from_slice(&flat).to_device(device);
            logits
                .view([-1, model.ner.labels().len() as i64])
                .cross_entropy_loss::<Tensor>(&gold, None, Reduction::Mean, IGNORE, 0.0)
        })
    } else {
        None
    };
    let mut inputs = PairInputs::default();
    let (mut targets, mut allowed) = (Vec::new(), Vec::new());
    for (row, e) in exs.iter().enumerate() {
        if e.candidates.is_empty() {
            continue;
        }
        let ids: Vec<i64> = e
            .mentions
            .iter()
            .map(|m| {
                inputs.mention(
                    row,
                    (m.subwords.start, m.subwords.end),
                    m.type_id,
                    m.tokens.len(),
                )
            })
            .collect();
        for (c, t) in e.candidates.iter().zip(&e.targets) {
            inputs.pair(ids[c.head], ids[c.tail]);
            targets.extend_from_slice(t);
            allowed.extend(c.allowed.iter().map(|&a| if a { 1f32 } else { 0.0 }));
        }
    }
    let rel_loss = (!inputs.is_empty()).then(|| {
        let n = model.schema.relations.len() as i64;
        let logits = model.head.forward_t(&hidden, &inputs, true);
        let shape = [inputs.len() as i64, n];
        let target = Tensor::from_slice(&targets).view(shape).to_device(device);
        let mask = Tensor::from_slice(&allowed).view(shape).to_device(device);
        let pos_weight = Tensor::from_slice(&[cfg.positive_weight as f32]).to_device(device);
        let per = logits.binary_cross_entropy_with_logits::<Tensor>(
            &target,
            None,
            Some(pos_weight),
            Reduction::None,
        );
        (per * &mask).sum(Kind::Float) / mask.sum(Kind::Float).clamp_min(1.0)
    });
    Ok((ner_loss, rel_loss))
}

/// Run the frozen encoder once over every training window that has candidate pairs and keep its
/// hidden states: training the head then costs no encoder pass at all.
fn cache_hidden(
    model: &JointModel,
    examples: &mut [Example],
    pad_id: i64,
    batch_size: usize,
    device: Device,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples[i].window.len());
    for chunk in order.chunks(batch_size.max(1)) {
        let windows: Vec<&Window> = chunk.iter().map(|&i| &examples[i].window).collect();
        let b = collate(&windows, pad_id, device);
        let (hidden, _) = model
            .ner
            .forward_t(&b.input_ids, &b.mask, Some(&b.type_ids), false)?;
        let hidden = hidden.to_kind(Kind::Half).to_device(Device::Cpu);
        for (r, &i) in chunk.iter().enumerate() {
            let len = examples[i].window.len() as i64;
            examples[i].frozen_hidden = Some(hidden.get(r as i64).narrow(0, 0, len).copy());
        }
    }
    Ok(())
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

/// Per-label thresholds that maximise each label's strict F1 on dev, and the micro-F1 they give.
fn tune_thresholds(
    model: &JointModel,
    featurizer: &Featurizer,
    dev: &[Document],
    opts: &NerOptions,
    floor: f32,
) -> Result<(BTreeMap<String, f32>, f64)> {
    let mut pred = dev.to_vec();
    predict(model, featurizer, &mut pred, opts, Some(floor))?;
    let symmetric = symmetric_labels(&model.schema);
    let best = best_thresholds(
        dev.iter().zip(&pred),
        RelationSetting::Strict,
        &symmetric,
        false,
    );
    let thresholds: BTreeMap<String, f32> = best.into_iter().map(|(l, (t, _))| (l, t)).collect();
    let mut rels = LabelCounts::new();
    for (g, p) in dev.iter().zip(pred.iter_mut()) {
        p.relations
            .retain(|r| r.score.unwrap_or(1.0) >= *thresholds.get(&r.label).unwrap_or(&0.5));
        add_counts(
            &mut rels,
            &relation_counts(g, p, RelationSetting::Strict, &symmetric, false),
        );
    }
    Ok((thresholds, ScoreTable::from_counts(&rels).micro.f1))
}

fn copy_tokenizer(base: &Path, out: &Path, joint: bool) -> Result<()> {
    if !joint {
        return Ok(());
    }
    for f in [
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        let src = base.join(f);
        if src.is_file() {
            std::fs::copy(&src, out.join(f)).map_err(io_err(&src))?;
        }
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
    let state_path = last.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| {
        Error::Usage(format!(
            "--resume: cannot read {}: {e} (no finished epoch to resume from)",
            state_path.display()
        ))
    })?;
    let state: State = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("--resume: {}: {e}", state_path.display())))?;
    if state.seed != cfg.base.seed {
        return Err(Error::Usage(format!(
            "--resume: the run used seed {}, not {}",
            state.seed, cfg.base.seed
        )));
    }
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
