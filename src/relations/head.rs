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

use rust_bert::bert::{BertConfig, BertLayer};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use crate::relations::pairs::{Candidate, Mention};

/// Pairs whose context is pooled at once (bounds the memory of a batch with many pairs).
const PAIRS_PER_SLICE: usize = 64;

/// Widths (in words) above this share one embedding.
pub const MAX_WIDTH: i64 = 15;

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
        }
    }
}

pub struct RelationHead {
    pub config: HeadConfig,
    /// The head's own copies of the encoder's top layers (see [`HeadConfig::encoder_layers`]).
    layers: Vec<BertLayer>,
    type_emb: nn::Embedding,
    width_emb: nn::Embedding,
    hidden: nn::Linear,
    out: nn::Linear,
}

/// The pairs of one batch of windows, as the head reads them.
#[derive(Debug, Default, Clone)]
pub struct PairInputs {
    /// Per mention: its window's row in the batch, sub-word range, type and width in words.
    pub mention_row: Vec<i64>,
    pub mention_span: Vec<(usize, usize)>,
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
        type_id: usize,
        words: usize,
    ) -> i64 {
        self.mention_row.push(row as i64);
        self.mention_span.push(subwords);
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
                self.mention(row, span, m.type_id, m.tokens.len())
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
        let input = 3 * c.hidden + 2 * c.type_dim + 2 * c.width_dim;
        let hidden = nn::linear(path / "hidden", input, c.hidden, Default::default());
        let out = nn::linear(path / "out", c.hidden, c.labels as i64, Default::default());
        RelationHead {
            config,
            layers,
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
        let device = states.device();
        let length = states.size()[1];
        let hidden = self.encode(states, mask, train);
        let long = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        // Mentions: max-pool over their sub-words.
        let rows = long(&inputs.mention_row);
        let spans: Vec<(i64, i64)> = inputs
            .mention_span
            .iter()
            .map(|&(a, b)| (a as i64, b as i64))
            .collect();
        let mentions = masked_max(
            &hidden.index_select(0, &rows),
            &span_mask(&spans, length, device).to_kind(self.kind()),
        );
        let types = long(&inputs.mention_type).apply(&self.type_emb);
        let widths = long(&inputs.mention_width).apply(&self.width_emb);
        let mentions = Tensor::cat(&[mentions, types, widths], 1);
        let head = long(&inputs.head);
        let tail = long(&inputs.tail);
        let h = mentions.index_select(0, &head);
        let t = mentions.index_select(0, &tail);
        // Context: the sub-words strictly between the two mentions; zeros when they touch.
        let ctx = if self.config.context {
            let between: Vec<(i64, i64)> = inputs
                .head
                .iter()
                .zip(&inputs.tail)
                .map(|(&a, &b)| {
                    let (a, b) = (spans[a as usize], spans[b as usize]);
                    (a.1.min(b.1), a.0.max(b.0))
                })
                .collect();
            let pair_rows = rows.index_select(0, &head);
            let mask = span_mask(&between, length, device).to_kind(self.kind());
            let any = mask.sum_dim_intlist(1, true, self.kind()).clamp_max(1.0);
            // In slices of pairs: each needs a [pairs, length, hidden] copy of its windows.
            let n = inputs.len() as i64;
            let parts: Vec<Tensor> = (0..n)
                .step_by(PAIRS_PER_SLICE)
                .map(|start| {
                    let len = (n - start).min(PAIRS_PER_SLICE as i64);
                    let rows = pair_rows.narrow(0, start, len);
                    masked_max(&hidden.index_select(0, &rows), &mask.narrow(0, start, len))
                })
                .collect();
            Tensor::cat(&parts, 0) * any
        } else {
            Tensor::zeros(
                [inputs.len() as i64, self.config.hidden],
                (self.kind(), device),
            )
        };
        Tensor::cat(&[h, t, ctx], 1)
            .dropout(self.config.dropout, train)
            .apply(&self.hidden)
            .gelu("none")
            .dropout(self.config.dropout, train)
            .apply(&self.out)
    }
}

/// `[n, length]` float mask, 1 on each `[start, end)`.
fn span_mask(spans: &[(i64, i64)], length: i64, device: Device) -> Tensor {
    let mut m = vec![0f32; spans.len() * length as usize];
    for (i, &(a, b)) in spans.iter().enumerate() {
        for p in a.max(0)..b.min(length) {
            m[i * length as usize + p as usize] = 1.0;
        }
    }
    Tensor::from_slice(&m)
        .view([spans.len() as i64, length])
        .to_device(device)
}

/// Max over the masked positions of `x` (`[n, length, H]`); rows with an empty mask give a
/// large negative value, which callers zero out.
fn masked_max(x: &Tensor, mask: &Tensor) -> Tensor {
    let m = mask.unsqueeze(-1);
    (x * &m + (m - 1.0) * 1e4).amax([1].as_slice(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_reads_only_the_mentions_and_the_gap() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root() / "relation_head";
        let head = RelationHead::new(&root, &root, HeadConfig::new(4, 3, 2), None);
        // One window of 6 sub-words; mentions at [1,2) and [3,5).
        let hidden = Tensor::randn([1, 6, 4], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([1, 6], (Kind::Int64, Device::Cpu));
        let mut p = PairInputs::default();
        let a = p.mention(0, (1, 2), 0, 1);
        let b = p.mention(0, (3, 5), 1, 2);
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
}
