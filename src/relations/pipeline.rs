//! Entities and relations in one encoder pass: a relation model directory in, documents with
//! entities and relations out.
//!
//! Each batch of windows goes through the encoder once. The NER head tags the words each window
//! decides; those tags are decoded per sentence right there (windows decide whole sentences, so
//! this is the decoding `ner::decode::entities` does for the whole document), and the relation
//! head scores every candidate pair of the window's mentions from the same hidden states. At the
//! end the document's entities are decoded as usual and the relations attached to them.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::document::{Document, Relation, Span};
use crate::error::{Error, Result};
use crate::ner::decode::{self, TagDecoding};
use crate::ner::features::{sentence_groups, Featurizer, Window, WindowConfig};
use crate::ner::pipeline::{word_probabilities_with, BatchOutput};
use crate::ner::{NerOptions, Precision};
use crate::relations::document_level;
use crate::relations::head::PairInputs;
use crate::relations::model::JointModel;
use crate::relations::pairs::{self, TokenMention};
use crate::segment::Segmenter;
use crate::tags;

/// A loaded relation model with its NER model, ready to annotate.
pub struct RelationTagger {
    pub model: JointModel,
    featurizer: Featurizer,
    segmenter: Segmenter,
    opts: NerOptions,
    /// One threshold for every label instead of the model's (`--relation-threshold`).
    threshold: Option<f32>,
}

impl RelationTagger {
    pub fn load(dir: &Path, device: Device, opts: NerOptions) -> Result<Self> {
        let model = JointModel::load(dir, device)?;
        let featurizer = featurizer_for(&model, &opts)?;
        Ok(RelationTagger {
            model,
            featurizer,
            segmenter: Segmenter::default(),
            opts,
            threshold: None,
        })
    }

    /// Keep relations scoring at least `threshold`, whatever the labels' own thresholds.
    pub fn set_threshold(&mut self, threshold: Option<f32>) {
        self.threshold = threshold;
    }

    /// Compute in `precision` from now on. The head shares the NER model's variable store, so
    /// both are converted.
    pub fn set_precision(&mut self, precision: Precision) {
        precision.apply(&mut self.model.ner.vs);
    }

    /// Replace every document's entities and relations with the models' (documents without
    /// tokens are segmented first).
    pub fn annotate(&self, docs: &mut [Document]) -> Result<()> {
        for doc in docs.iter_mut().filter(|d| d.tokens.is_empty()) {
            self.segmenter.segment(doc);
        }
        predict(
            &self.model,
            &self.featurizer,
            docs,
            &self.opts,
            self.threshold,
        )
    }

    /// What splits documents without tokens into sentences and words.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }
}

impl crate::annotate::Annotator for RelationTagger {
    fn segmenter(&self) -> Option<&Segmenter> {
        Some(RelationTagger::segmenter(self))
    }

    fn annotate(&self, docs: &mut [Document]) -> Result<()> {
        RelationTagger::annotate(self, docs)
    }
}

/// The featurizer a joint model's NER side was trained with.
pub fn featurizer_for(model: &JointModel, opts: &NerOptions) -> Result<Featurizer> {
    let e = &model.ner.config.ertag;
    Featurizer::from_file(
        &model.ner_dir.join("tokenizer.json"),
        WindowConfig {
            max_subwords: opts.max_subwords,
            context: e.context,
            casing: e.casing,
        },
    )
}

/// A relation found in a window, by its arguments' word tokens.
struct Found {
    doc: usize,
    head: (Range<usize>, String),
    tail: (Range<usize>, String),
    label: usize,
    score: f32,
}

/// Set `docs`' entities and relations (the documents must have tokens). Relations scoring at
/// least their label's threshold are kept, or, with `floor`, every one scoring at least `floor`
/// (to choose thresholds on dev).
pub fn predict(
    model: &JointModel,
    featurizer: &Featurizer,
    docs: &mut [Document],
    opts: &NerOptions,
    floor: Option<f32>,
) -> Result<()> {
    let groups: Vec<Vec<Range<usize>>> = docs.iter().map(sentence_groups).collect();
    let group_of: Vec<Vec<usize>> = docs
        .iter()
        .zip(&groups)
        .map(|(d, g)| pairs::group_of_tokens(g, d.tokens.len()))
        .collect();
    let mut found: Vec<Found> = Vec::new();
    let labels = model.ner.labels().to_vec();
    let scheme = model.ner.config.ertag.scheme;
    let dists = word_probabilities_with(
        &model.ner,
        featurizer,
        docs,
        opts.batch_size,
        opts.aggregation,
        |batch| {
            classify_batch(
                model,
                batch,
                &group_of,
                &labels,
                opts.decoding,
                floor,
                &mut found,
            )
        },
    )?;
    for (d, (doc, dists)) in docs.iter_mut().zip(dists).enumerate() {
        doc.entities = decode::entities(doc, &dists, &labels, scheme, opts.decoding)?;
        doc.relations.clear();
        let ids: HashMap<(usize, usize, &str), &str> = doc
            .entities
            .iter()
            .map(|e| ((e.start, e.end, e.label.as_str()), e.id.as_str()))
            .collect();
        let key = |(r, l): &(Range<usize>, String)| {
            (
                doc.tokens[r.start].start,
                doc.tokens[r.end - 1].end,
                l.clone(),
            )
        };
        // Symmetric labels were scored in both orders: keep the better, head first in the text.
        let mut best: HashMap<(String, String, usize), (f32, Span)> = HashMap::new();
        for f in found.iter().filter(|f| f.doc == d) {
            let (hs, he, hl) = key(&f.head);
            let (ts, te, tl) = key(&f.tail);
            let (Some(h), Some(t)) = (
                ids.get(&(hs, he, hl.as_str())),
                ids.get(&(ts, te, tl.as_str())),
            ) else {
                continue;
            };
            let (mut h, mut t) = (h.to_string(), t.to_string());
            if model.schema.is_symmetric(f.label) && ts < hs {
                std::mem::swap(&mut h, &mut t);
            }
            let evidence = sentence_of(doc, hs.min(ts), he.max(te));
            let slot = best.entry((h, t, f.label)).or_insert((f.score, evidence));
            if f.score > slot.0 {
                *slot = (f.score, evidence);
            }
        }
        let mut rels: Vec<(usize, usize, usize, Relation)> = best
            .into_iter()
            .map(|((h, t, l), (score, evidence))| {
                let pos = |id: &str| doc.entities.iter().position(|e| e.id == id).unwrap_or(0);
                (
                    pos(&h),
                    pos(&t),
                    l,
                    Relation {
                        head: h,
                        tail: t,
                        label: model.schema.relations[l].name.clone(),
                        score: Some(score),
                        evidence: Some(evidence),
                    },
                )
            })
            .collect();
        rels.sort_by_key(|r| (r.0, r.1, r.2));
        doc.relations = rels.into_iter().map(|r| r.3).collect();
        doc.actors = document_level::actors(doc);
        doc.triples = document_level::triples(doc, &doc.actors, |l| {
            model
                .schema
                .label_index(l)
                .is_some_and(|i| model.schema.is_symmetric(i))
        });
    }
    Ok(())
}

/// Decode each window's decided sentences, form candidate pairs, and score them with the head.
fn classify_batch(
    model: &JointModel,
    batch: &BatchOutput,
    group_of: &[Vec<usize>],
    labels: &[String],
    decoding: TagDecoding,
    floor: Option<f32>,
    found: &mut Vec<Found>,
) -> Result<()> {
    let mut inputs = PairInputs::default();
    // Per pair: (doc, head mention, tail mention, allowed labels).
    let mut meta: Vec<(usize, TokenMention, TokenMention, Vec<bool>)> = Vec::new();
    let mut spans_label: Vec<Vec<String>> = Vec::new();
    // The head reads only the windows that have candidate pairs (its own encoder layers, if
    // any, run on those alone).
    let mut rows: Vec<i64> = Vec::new();
    for (row, (w, decided)) in batch.windows.iter().zip(&batch.decided).enumerate() {
        let (spans, names) =
            decided_mentions(model, w, decided, &group_of[w.doc], labels, decoding)?;
        let placed = pairs::place(w, &spans, &group_of[w.doc]);
        let cands = pairs::candidates(&placed, &model.schema, model.settings.sentence_window);
        if cands.is_empty() {
            continue;
        }
        inputs.add_window(rows.len(), &placed, &cands);
        rows.push(row as i64);
        for c in cands {
            let (h, t) = (&placed[c.head], &placed[c.tail]);
            meta.push((w.doc, spans[h.key].clone(), spans[t.key].clone(), c.allowed));
            spans_label.push(vec![names[h.key].clone(), names[t.key].clone()]);
        }
    }
    if inputs.is_empty() {
        return Ok(());
    }
    let states = model.head_states(&batch.hidden, batch.layers.as_deref())?;
    let rows = Tensor::from_slice(&rows).to_device(states.device());
    let probs = model
        .head
        .forward_t(
            &states.index_select(0, &rows),
            &batch.mask.index_select(0, &rows),
            &inputs,
            false,
        )
        .sigmoid()
        .to_kind(Kind::Float)
        .to_device(Device::Cpu);
    let n = model.schema.relations.len();
    let probs: Vec<f32> = Vec::<f32>::try_from(probs.flatten(0, -1))
        .map_err(|e| Error::Usage(format!("cannot read relation scores: {e}")))?;
    for (p, ((doc, h, t, allowed), names)) in meta.into_iter().zip(spans_label).enumerate() {
        for (l, ok) in allowed.iter().enumerate() {
            let score = probs[p * n + l];
            let threshold = floor.unwrap_or(model.settings.thresholds[l]);
            if *ok && score >= threshold {
                found.push(Found {
                    doc,
                    head: (h.tokens.clone(), names[0].clone()),
                    tail: (t.tokens.clone(), names[1].clone()),
                    label: l,
                    score,
                });
            }
        }
    }
    Ok(())
}

/// The mentions a window decides, decoded from its words' distributions sentence by sentence,
/// with their NER type names.
fn decided_mentions(
    model: &JointModel,
    w: &Window,
    decided: &[(usize, Vec<f32>)],
    group_of: &[usize],
    labels: &[String],
    decoding: TagDecoding,
) -> Result<(Vec<TokenMention>, Vec<String>)> {
    let scheme = model.ner.config.ertag.scheme;
    let mut spans = Vec::new();
    let mut names = Vec::new();
    let mut i = 0;
    while i < decided.len() {
        let g = group_of[decided[i].0];
        let mut j = i;
        while j < decided.len() && group_of[decided[j].0] == g {
            j += 1;
        }
        let dists: Vec<&[f32]> = decided[i..j].iter().map(|(_, d)| d.as_slice()).collect();
        let tags: Vec<&str> = decode::choose_tags(&dists, labels, scheme, decoding)
            .iter()
            .map(|&(l, _)| labels[l].as_str())
            .collect();
        let (found, _) = tags::decode(&tags, scheme).map_err(|(k, reason)| {
            Error::Usage(format!(
                "window of document {}: token {}: {reason}",
                w.doc,
                decided[i + k].0
            ))
        })?;
        for s in found {
            if let Some(type_id) = model.schema.type_index(&s.label) {
                let first = decided[i + s.start].0;
                spans.push(TokenMention {
                    tokens: first..first + (s.end - s.start),
                    type_id,
                    group: g,
                });
                names.push(s.label.clone());
            }
        }
        i = j;
    }
    Ok((spans, names))
}

/// The sentence that holds `[start, end)`, or that span itself when no sentence does.
fn sentence_of(doc: &Document, start: usize, end: usize) -> Span {
    doc.sentences
        .iter()
        .find(|s| s.start <= start && end <= s.end)
        .copied()
        .unwrap_or(Span::new(start, end))
}
