//! The transformer encoder under every ertag model: rust-bert's BERT, RoBERTa (XLM-R) and
//! DistilBERT, built at the variable names Hugging Face checkpoints use, so their weights load
//! as they are. The encoder returns hidden states, not labels: the NER head and the relation
//! classifier both read them, so a sentence is encoded once.

use rust_bert::bert::{BertEmbedding, BertEmbeddings, BertModel};
use rust_bert::distilbert::DistilBertModel;
use rust_bert::roberta::RobertaEmbeddings;
use rust_bert::RustBertError;
use tch::{nn, Tensor};

use crate::error::{Error, Result};
use crate::ner::config::{Architecture, ModelConfig};

pub enum Encoder {
    Bert(BertModel<BertEmbeddings>),
    Roberta(BertModel<RobertaEmbeddings>),
    DistilBert(DistilBertModel),
}

impl Encoder {
    /// Build the encoder under `root` (the checkpoint's top level); returns it with its hidden size.
    pub fn new(root: &nn::Path, config: &ModelConfig) -> Result<(Self, i64)> {
        Ok(match config.architecture {
            Architecture::Bert => {
                let c = config.bert()?;
                let m = BertModel::new_with_optional_pooler(root / "bert", &c, false);
                (Encoder::Bert(m), c.hidden_size)
            }
            Architecture::Roberta => {
                let c = config.bert()?;
                let m = BertModel::new_with_optional_pooler(root / "roberta", &c, false);
                (Encoder::Roberta(m), c.hidden_size)
            }
            Architecture::DistilBert => {
                let c = config.distilbert()?;
                // DistilBertModel adds the "distilbert" prefix itself.
                (Encoder::DistilBert(DistilBertModel::new(root, &c)), c.dim)
            }
        })
    }

    /// Hidden states `[batch, length, hidden]`. `type_ids` is ignored by DistilBERT, which has
    /// no token types.
    pub fn forward_t(
        &self,
        input_ids: &Tensor,
        mask: &Tensor,
        type_ids: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        self.forward_layers(input_ids, mask, type_ids, train)
            .map(|(hidden, _)| hidden)
    }

    /// Hidden states, and each layer's output (layer 1 first) when the model was built with
    /// `output_hidden_states` (see [`ModelConfig::keep_layer_outputs`]).
    pub fn forward_layers(
        &self,
        input_ids: &Tensor,
        mask: &Tensor,
        type_ids: Option<&Tensor>,
        train: bool,
    ) -> Result<(Tensor, Option<Vec<Tensor>>)> {
        let out = match self {
            Encoder::Bert(m) => bert_hidden(m, input_ids, mask, type_ids, train),
            Encoder::Roberta(m) => bert_hidden(m, input_ids, mask, type_ids, train),
            Encoder::DistilBert(m) => m
                .forward_t(Some(input_ids), Some(mask), None, train)
                .map(|o| (o.hidden_state, o.all_hidden_states)),
        };
        out.map_err(|e| Error::Usage(format!("encoder failed: {e}")))
    }
}

/// The hidden states (and layer outputs) of a BERT-shaped model (BERT or RoBERTa embeddings).
fn bert_hidden<E: BertEmbedding>(
    m: &BertModel<E>,
    input_ids: &Tensor,
    mask: &Tensor,
    type_ids: Option<&Tensor>,
    train: bool,
) -> std::result::Result<(Tensor, Option<Vec<Tensor>>), RustBertError> {
    m.forward_t(
        Some(input_ids),
        Some(mask),
        type_ids,
        None,
        None,
        None,
        None,
        train,
    )
    .map(|o| (o.hidden_state, o.all_hidden_states))
}
