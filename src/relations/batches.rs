//! Training batches for `relations::train`: each window of the training documents with its NER
//! labels, gold mentions and candidate pairs, and the losses of a batch of them.

use std::collections::{HashMap, HashSet};

use tch::{Device, Kind, Reduction, Tensor};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::ner::features::{collate, sentence_groups, Featurizer, Window};
use crate::ner::train::{doc_tag_ids, window_labels, IGNORE};
use crate::relations::head::PairInputs;
use crate::relations::model::JointModel;
use crate::relations::pairs::{self, Candidate, TokenMention};
use crate::relations::schema::Schema;
use crate::relations::train::RelationTrainConfig;

/// One training window: NER labels of its sub-words, its gold mentions and candidate pairs
/// with their targets.
pub(super) struct Example {
    pub(super) window: Window,
    pub(super) ner_labels: Vec<i64>,
    pub(super) mentions: Vec<pairs::Mention>,
    pub(super) candidates: Vec<Candidate>,
    /// Per candidate, per label: 1.0 where the gold relation holds.
    pub(super) targets: Vec<Vec<f32>>,
    /// Frozen mode: what the head reads of the frozen encoder for this window (`[length,
    /// hidden]`, fp16 on the CPU), computed once before the first epoch.
    pub(super) frozen_hidden: Option<Tensor>,
}

/// Gold relations no candidate pair can hold (their types are not allowed by the schema, they
/// span more sentences than the window, or an argument is not a whole-token entity).
#[derive(Debug, Default)]
pub(super) struct Coverage {
    pub(super) gold: usize,
    pub(super) covered: usize,
}

pub(super) fn examples(
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
            let placed = pairs::place(&window, &mentions, &group_of);
            let cands = pairs::candidates(&placed, schema, cfg.sentence_window);
            let targets: Vec<Vec<f32>> = cands
                .iter()
                .map(|c| {
                    let (h, t) = (placed[c.head].key, placed[c.tail].key);
                    (0..schema.relations.len())
                        .map(|l| {
                            let hit = c.allowed[l] && gold.contains(&(h, t, l));
                            if hit {
                                // A symmetric relation is one, whichever order holds it.
                                let key = if schema.is_symmetric(l) {
                                    (h.min(t), h.max(t), l)
                                } else {
                                    (h, t, l)
                                };
                                covered.insert(key);
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
        cov.covered += covered.len();
    }
    Ok((out, cov))
}

/// The batch's NER loss (joint mode) and relation loss (when it has candidate pairs).
pub(super) fn step_losses(
    model: &JointModel,
    exs: &[&Example],
    pad_id: i64,
    cfg: &RelationTrainConfig,
    device: Device,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let windows: Vec<&Window> = exs.iter().map(|e| &e.window).collect();
    let b = collate(&windows, pad_id, device);
    let (hidden, logits) = if cfg.joint {
        let (hidden, logits, layers) =
            model
                .ner
                .forward_layers(&b.input_ids, &b.mask, Some(&b.type_ids), true)?;
        (model.head_states(&hidden, layers.as_deref())?, logits)
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
        inputs.add_window(row, &e.mentions, &e.candidates);
        for (c, t) in e.candidates.iter().zip(&e.targets) {
            targets.extend_from_slice(t);
            allowed.extend(c.allowed.iter().map(|&a| if a { 1f32 } else { 0.0 }));
        }
    }
    let rel_loss = (!inputs.is_empty()).then(|| {
        let n = model.schema.relations.len() as i64;
        let logits = model.head.forward_t(&hidden, &b.mask, &inputs, true);
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

/// Run the frozen encoder once over every training window that has candidate pairs and keep what
/// the head reads of it ([`JointModel::head_states`]): training the head then costs no pass
/// through the frozen layers at all.
pub(super) fn cache_hidden(
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
        let (hidden, _, layers) =
            model
                .ner
                .forward_layers(&b.input_ids, &b.mask, Some(&b.type_ids), false)?;
        let hidden = model
            .head_states(&hidden, layers.as_deref())?
            .to_kind(Kind::Half)
            .to_device(Device::Cpu);
        for (r, &i) in chunk.iter().enumerate() {
            let len = examples[i].window.len() as i64;
            examples[i].frozen_hidden = Some(hidden.get(r as i64).narrow(0, 0, len).copy());
        }
    }
    Ok(())
}
