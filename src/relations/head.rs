//! The relation head: scores every label for a pair of mentions from the encoder's hidden
//! states of their window, as SpERT does (Eberts & Ulges, 2020): each mention is the max-pool of
//! its sub-words, the text between them is max-pooled as context, and entity type and width
//! embeddings are added; a two-layer MLP gives one logit per label (sigmoid: a pair may hold
//! several labels, and none).
//!
//! The head reads hidden states the NER stage has already computed, so relations cost one small
//! MLP per pair on top of NER, not another encoder pass. Optionally
//! ([`HeadConfig::encoder_layers`]) the head owns copies of the encoder's top layers, which it
//! runs on the output of the layer below them: a frozen NER encoder's top layers say what NER
//! needs, and a trainable copy lets the head learn what relations need (the predicate between
//! two mentions) at the cost of those layers, on the windows that have candidate pairs only.
//! Optionally ([`HeadConfig::sentence_context`]) the pair's whole sentence is max-pooled too, for
//! the words that say what holds but stand outside the gap ("During his call with X, Y said").
//! Optionally ([`HeadConfig::pair_markers`]) the head's own layers run once per pair, with
//! learned vectors added to the two mentions' sub-words, so that attention knows which pair is
//! asked about (the effect of PURE's marker tokens, Zhong & Chen 2021, at the cost of the head's
//! layers per pair instead of a whole encoder pass per pair).

use std::collections::HashMap;

use rust_bert::bert::{BertConfig, BertLayer};
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use crate::relations::pairs::{Candidate, Mention};

/// Widths (in words) above this share one embedding.
pub const MAX_WIDTH: i64 = 15;

/// Pairs run through the head's layers at once with `pair_markers` (each is a copy of its
/// window: this bounds the memory a window with many mentions takes).
const PAIR_CHUNK: usize = 128;

/// The head's sizes, saved in `relation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// The encoder's hidden size.
    pub hidden: i64,
    pub labels: usize,
    pub entity_types: usize,
    pub type_dim: i64,
    pub width_dim: i64,
    /// Max-pool the sub-words between the two mentions into the pair's representation.
    pub context: bool,
    pub dropout: f64,
    /// Copies of the encoder's top layers the head owns (0: it reads the encoder's output).
    #[serde(default)]
    pub encoder_layers: usize,
    /// Max-pool the sentence (or sentences) of the two mentions into the pair's representation.
    #[serde(default)]
    pub sentence_context: bool,
    /// Run the head's own encoder layers once per pair, the pair's two mentions marked by a
    /// learned vector added to their sub-words (needs `encoder_layers` > 0).
    #[serde(default)]
    pub pair_markers: bool,
}

impl HeadConfig {
    pub fn new(hidden: i64, labels: usize, entity_types: usize) -> Self {
        HeadConfig {
            hidden,
            labels,
            entity_types,
            type_dim: 32,
            width_dim: 16,
            context: true,
            dropout: 0.1,
            encoder_layers: 0,
            sentence_context: false,
            pair_markers: false,
        }
    }
}

/// The choices a new head is trained with; the rest of [`HeadConfig`] follows from the encoder
/// and the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadDesign {
    /// [`HeadConfig::context`].
    pub pair_context: bool,
    /// [`HeadConfig::sentence_context`].
    pub sentence_context: bool,
    /// [`HeadConfig::encoder_layers`].
    pub encoder_layers: usize,
    /// [`HeadConfig::pair_markers`].
    pub pair_markers: bool,
}

pub struct RelationHead {
    pub config: HeadConfig,
    /// The head's own copies of the encoder's top layers (see [`HeadConfig::encoder_layers`]).
    layers: Vec<BertLayer>,
    /// The vectors added to the head's and the tail's sub-words (with `pair_markers`).
    markers: Option<(Tensor, Tensor)>,
    type_emb: nn::Embedding,
    width_emb: nn::Embedding,
    hidden: nn::Linear,
    out: nn::Linear,
}

/// The pairs of one batch of windows, as the head reads them.
#[derive(Debug, Default, Clone)]
pub struct PairInputs {
    /// Per mention: its window's row in the batch, sub-word range, its sentence's sub-word
    /// range, type and width in words.
    pub mention_row: Vec<i64>,
    pub mention_span: Vec<(usize, usize)>,
    pub mention_sentence: Vec<(usize, usize)>,
    pub mention_type: Vec<i64>,
    pub mention_width: Vec<i64>,
    /// Per pair: head and tail mention indices (into the lists above).
    pub head: Vec<i64>,
    pub tail: Vec<i64>,
}

impl PairInputs {
    /// Add a mention; returns its index.
    pub fn mention(
        &mut self,
        row: usize,
        subwords: (usize, usize),
        sentence: (usize, usize),
        type_id: usize,
        words: usize,
    ) -> i64 {
        self.mention_row.push(row as i64);
        self.mention_span.push(subwords);
        self.mention_sentence.push(sentence);
        self.mention_type.push(type_id as i64);
        self.mention_width.push((words as i64).min(MAX_WIDTH));
        (self.mention_row.len() - 1) as i64
    }

    pub fn pair(&mut self, head: i64, tail: i64) {
        self.head.push(head);
        self.tail.push(tail);
    }

    /// Add the mentions of the window in batch row `row` and its candidate pairs (in order).
    pub fn add_window(&mut self, row: usize, mentions: &[Mention], candidates: &[Candidate]) {
        let ids: Vec<i64> = mentions
            .iter()
            .map(|m| {
                let span = (m.subwords.start, m.subwords.end);
                let sentence = (m.sentence.start, m.sentence.end);
                self.mention(row, span, sentence, m.type_id, m.tokens.len())
            })
            .collect();
        for c in candidates {
            self.pair(ids[c.head], ids[c.tail]);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    pub fn len(&self) -> usize {
        self.head.len()
    }
}

impl RelationHead {
    /// A head with fresh weights under `path` (`relation_head` in a model's variable store);
    /// its encoder layers (if any) are built from `encoder` under `layer_path`.
    pub fn new(
        path: &nn::Path,
        layer_path: &nn::Path,
        config: HeadConfig,
        encoder: Option<&BertConfig>,
    ) -> Self {
        let c = &config;
        let layers = match encoder {
            Some(bert) => (0..c.encoder_layers)
                .map(|i| BertLayer::new(layer_path / "layer" / i as i64, bert))
                .collect(),
            None => Vec::new(),
        };
        let markers = c.pair_markers.then(|| {
            let init = nn::Init::Randn {
                mean: 0.0,
                stdev: 0.1,
            };
            let markers = path / "markers";
            (
                markers.var("head", &[c.hidden], init),
                markers.var("tail", &[c.hidden], init),
            )
        });
        let type_emb = nn::embedding(
            path / "type_embeddings",
            c.entity_types as i64,
            c.type_dim,
            Default::default(),
        );
        let width_emb = nn::embedding(
            path / "width_embeddings",
            MAX_WIDTH + 1,
            c.width_dim,
            Default::default(),
        );
        let pooled = if c.sentence_context { 4 } else { 3 };
        let input = pooled * c.hidden + 2 * c.type_dim + 2 * c.width_dim;
        let hidden = nn::linear(path / "hidden", input, c.hidden, Default::default());
        let out = nn::linear(path / "out", c.hidden, c.labels as i64, Default::default());
        RelationHead {
            config,
            layers,
            markers,
            type_emb,
            width_emb,
            hidden,
            out,
        }
    }

    /// The kind the head computes in: its weights' (fp32, or bf16 with `--precision bf16`).
    fn kind(&self) -> Kind {
        self.out.ws.kind()
    }

    /// The hidden states the head pools from: `states` through the head's own encoder layers.
    pub fn encode(&self, states: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let mut hidden = states.to_kind(self.kind());
        if !self.layers.is_empty() {
            // BERT's additive attention mask: 0 where attended, -10000 on padding.
            let bias = ((mask.to_kind(self.kind()) - 1.0) * 10000.0)
                .unsqueeze(1)
                .unsqueeze(1);
            for layer in &self.layers {
                hidden = layer
                    .forward_t(&hidden, Some(&bias), None, None, train)
                    .hidden_state;
            }
        }
        hidden
    }

    /// Logits `[pairs, labels]` for the pairs of `inputs` over `states` (`[batch, length, H]`,
    /// `mask` `[batch, length]`): the encoder's output, or with encoder layers of its own, the
    /// output of the encoder layer below them.
    pub fn forward_t(
        &self,
        states: &Tensor,
        mask: &Tensor,
        inputs: &PairInputs,
        train: bool,
    ) -> Tensor {
        match &self.markers {
            Some(markers) if !self.layers.is_empty() => {
                let chunks: Vec<Tensor> = (0..inputs.len())
                    .step_by(PAIR_CHUNK)
                    .map(|start| {
                        let end = (start + PAIR_CHUNK).min(inputs.len());
                        self.marked_pairs(states, mask, inputs, start..end, markers, train)
                    })
                    .collect();
                if chunks.is_empty() {
                    let kind = (self.kind(), states.device());
                    return Tensor::zeros([0, self.config.labels as i64], kind);
                }
                Tensor::cat(&chunks, 0)
            }
            _ => self.classify(&self.encode(states, mask, train), inputs, train),
        }
    }

    /// Logits for the pairs `range` of `inputs`, each pair in a row of its own: its window's
    /// states, the two mentions' sub-words plus the head and tail marker vectors, through the
    /// head's encoder layers.
    fn marked_pairs(
        &self,
        states: &Tensor,
        mask: &Tensor,
        inputs: &PairInputs,
        range: std::ops::Range<usize>,
        (head_marker, tail_marker): &(Tensor, Tensor),
        train: bool,
    ) -> Tensor {
        let device = states.device();
        let length = states.size()[1] as usize;
        let mut rows = Vec::with_capacity(range.len());
        let mut is_head = vec![0f32; range.len() * length];
        let mut is_tail = vec![0f32; range.len() * length];
        let mut own = PairInputs::default();
        for (row, p) in range.enumerate() {
            let (h, t) = (inputs.head[p] as usize, inputs.tail[p] as usize);
            rows.push(inputs.mention_row[h]);
            for (m, flags) in [(h, &mut is_head), (t, &mut is_tail)] {
                let (a, b) = inputs.mention_span[m];
                flags[row * length + a..row * length + b].fill(1.0);
            }
            let mut add = |m: usize| {
                let (span, sentence) = (inputs.mention_span[m], inputs.mention_sentence[m]);
                let (kind, width) = (inputs.mention_type[m], inputs.mention_width[m]);
                own.mention(row, span, sentence, kind as usize, width as usize)
            };
            let (a, b) = (add(h), add(t));
            own.pair(a, b);
        }
        let rows = Tensor::from_slice(&rows).to_device(device);
        let flags = |v: &[f32]| {
            Tensor::from_slice(v)
                .view([rows.size()[0], length as i64, 1])
                .to_device(device)
                .to_kind(self.kind())
        };
        let marked = states.index_select(0, &rows).to_kind(self.kind())
            + flags(&is_head) * head_marker
            + flags(&is_tail) * tail_marker;
        let hidden = self.encode(&marked, &mask.index_select(0, &rows), train);
        self.classify(&hidden, &own, train)
    }

    /// Logits `[pairs, labels]` from the head's input states `hidden` (`[batch, length, H]`).
    fn classify(&self, hidden: &Tensor, inputs: &PairInputs, train: bool) -> Tensor {
        let device = hidden.device();
        let long = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        // Mentions: max-pool over their sub-words.
        let spans: Vec<(i64, i64, i64)> = inputs
            .mention_span
            .iter()
            .zip(&inputs.mention_row)
            .map(|(&(a, b), &row)| (row, a as i64, b as i64))
            .collect();
        let mentions = span_max(hidden, &spans);
        let types = long(&inputs.mention_type).apply(&self.type_emb);
        let widths = long(&inputs.mention_width).apply(&self.width_emb);
        let mentions = Tensor::cat(&[mentions, types, widths], 1);
        let head = long(&inputs.head);
        let tail = long(&inputs.tail);
        let h = mentions.index_select(0, &head);
        let t = mentions.index_select(0, &tail);
        // Context: the sub-words strictly between the two mentions; zeros when they touch.
        let ctx = if self.config.context {
            let between: Vec<(i64, i64, i64)> = inputs
                .head
                .iter()
                .zip(&inputs.tail)
                .map(|(&a, &b)| {
                    let (a, b) = (spans[a as usize], spans[b as usize]);
                    (a.0, a.2.min(b.2), a.1.max(b.1))
                })
                .collect();
            span_max(hidden, &between)
        } else {
            Tensor::zeros(
                [inputs.len() as i64, self.config.hidden],
                (self.kind(), device),
            )
        };
        let mut parts = vec![h, t, ctx];
        if self.config.sentence_context {
            // The sentences of both mentions, from the first one's start to the last one's end.
            let sentences: Vec<(i64, i64, i64)> = inputs
                .head
                .iter()
                .zip(&inputs.tail)
                .map(|(&a, &b)| {
                    let (a, b) = (a as usize, b as usize);
                    let (sa, sb) = (inputs.mention_sentence[a], inputs.mention_sentence[b]);
                    let row = inputs.mention_row[a];
                    (row, sa.0.min(sb.0) as i64, sa.1.max(sb.1) as i64)
                })
                .collect();
            parts.push(span_max(hidden, &sentences));
        }
        Tensor::cat(&parts, 1)
            .dropout(self.config.dropout, train)
            .apply(&self.hidden)
            .gelu("none")
            .dropout(self.config.dropout, train)
            .apply(&self.out)
    }
}

/// The max over each `(row, start, end)` span of `hidden` (`[batch, length, H]`), `[spans, H]`;
/// zeros for an empty span. Each span is pooled from a view of its row, so no `[spans, length, H]`
/// copy is made (with many mentions in a batch that copy was hundreds of MB), and a span repeated
/// (the context of a pair in both orders) is pooled once.
fn span_max(hidden: &Tensor, spans: &[(i64, i64, i64)]) -> Tensor {
    let (kind, device, width) = (hidden.kind(), hidden.device(), hidden.size()[2]);
    let mut first: HashMap<(i64, i64, i64), i64> = HashMap::new();
    let mut pooled: Vec<Tensor> = Vec::new();
    let index: Vec<i64> = spans
        .iter()
        .map(|&(row, a, b)| {
            *first.entry((row, a, b)).or_insert_with(|| {
                pooled.push(if b > a {
                    hidden
                        .get(row)
                        .narrow(0, a, b - a)
                        .amax([0].as_slice(), false)
                } else {
                    Tensor::zeros([width], (kind, device))
                });
                pooled.len() as i64 - 1
            })
        })
        .collect();
    if pooled.is_empty() {
        return Tensor::zeros([0, width], (kind, device));
    }
    Tensor::stack(&pooled, 0).index_select(0, &Tensor::from_slice(&index).to_device(device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn spans_are_max_pooled_in_their_row_and_empty_ones_are_zero() {
        let hidden = Tensor::arange(2 * 4 * 3, (Kind::Float, Device::Cpu)).view([2, 4, 3]);
        let got = span_max(&hidden, &[(1, 0, 2), (0, 1, 4), (1, 0, 2), (0, 2, 2)]);
        let want = Tensor::from_slice(&[
            15f32, 16., 17., // row 1, positions 0-1
            9., 10., 11., // row 0, positions 1-3
            15., 16., 17., // the first span again
            0., 0., 0., // empty
        ])
        .view([4, 3]);
        assert_eq!(got, want);
    }

    #[test]
    fn pooling_reads_only_the_mentions_and_the_gap() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root() / "relation_head";
        let head = RelationHead::new(&root, &root, HeadConfig::new(4, 3, 2), None);
        // One window of 6 sub-words; mentions at [1,2) and [3,5).
        let hidden = Tensor::randn([1, 6, 4], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([1, 6], (Kind::Int64, Device::Cpu));
        let mut p = PairInputs::default();
        let a = p.mention(0, (1, 2), (1, 6), 0, 1);
        let b = p.mention(0, (3, 5), (1, 6), 1, 2);
        p.pair(a, b);
        p.pair(b, a);
        let logits = head.forward_t(&hidden, &mask, &p, false);
        assert_eq!(logits.size(), [2, 3]);
        // Changing a sub-word outside both mentions and the gap changes nothing.
        let other = hidden.copy();
        let _ = other.narrow(1, 5, 1).fill_(7.0);
        let again = head.forward_t(&other, &mask, &p, false);
        assert!((&logits - &again).abs().max().double_value(&[]) < 1e-6);
        // Changing the gap (position 2) does.
        let gap = hidden.copy();
        let _ = gap.narrow(1, 2, 1).fill_(7.0);
        let moved = head.forward_t(&gap, &mask, &p, false);
        assert!((&logits - &moved).abs().max().double_value(&[]) > 1e-4);
    }

    #[test]
    fn sentence_context_reads_the_sentence_and_nothing_beyond() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root() / "relation_head";
        let config = HeadConfig {
            sentence_context: true,
            ..HeadConfig::new(4, 3, 2)
        };
        let head = RelationHead::new(&root, &root, config, None);
        // One window of 8 sub-words: the pair's sentence is [1, 6), mentions at [2,3) and [4,5).
        let hidden = Tensor::randn([1, 8, 4], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([1, 8], (Kind::Int64, Device::Cpu));
        let mut p = PairInputs::default();
        let a = p.mention(0, (2, 3), (1, 6), 0, 1);
        let b = p.mention(0, (4, 5), (1, 6), 1, 1);
        p.pair(a, b);
        let logits = head.forward_t(&hidden, &mask, &p, false);
        let changed = |position: i64| {
            let h = hidden.copy();
            let _ = h.narrow(1, position, 1).fill_(7.0);
            let moved = head.forward_t(&h, &mask, &p, false);
            (&logits - &moved).abs().max().double_value(&[]) > 1e-4
        };
        assert!(
            changed(1),
            "a word of the sentence before both mentions counts"
        );
        assert!(changed(5), "and one after both");
        assert!(!changed(6), "the next sentence (context) does not");
    }
}
