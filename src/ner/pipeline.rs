//! The NER stage end to end: a model directory in, entities on documents out.
//!
//! Windows of all documents are sorted by length and batched, so that a batch holds windows of
//! nearly the same length and little of it is padding; results go back to their documents by
//! index, so the output does not depend on the batch size or on the order of the input.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::document::Document;
use crate::error::{Error, Location, Result};
use crate::ner::decode::{self, Aggregation, TagDecoding};
use crate::ner::features::{collate, Featurizer, Window, WindowConfig};
use crate::ner::model::TokenClassifier;
use crate::segment::Segmenter;
use crate::tags;

/// Files a NER model directory must hold (weights may also be rust-bert's `rust_model.ot`).
const MODEL_FILES: [&str; 2] = ["config.json", "tokenizer.json"];

/// How to run the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerOptions {
    pub aggregation: Aggregation,
    pub decoding: TagDecoding,
    /// Windows per forward pass.
    pub batch_size: usize,
    /// Sub-words per window, special tokens included.
    pub max_subwords: usize,
}

impl Default for NerOptions {
    fn default() -> Self {
        NerOptions {
            aggregation: Aggregation::First,
            decoding: TagDecoding::default(),
            batch_size: 16,
            max_subwords: 128,
        }
    }
}

/// The number format the model computes in (`ertag annotate --precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Precision {
    /// 32-bit floats, as the model was trained.
    #[default]
    Fp32,
    /// bfloat16 weights and activations (8-bit mantissa): about twice the matrix-product
    /// speed on CPUs with AVX-512 BF16 or AMX; word probabilities are computed in fp32.
    Bf16,
}

impl Precision {
    /// Convert every variable of `vs` to this precision, in place.
    pub fn apply(self, vs: &mut tch::nn::VarStore) {
        match self {
            Precision::Fp32 => vs.float(),
            Precision::Bf16 => vs.bfloat16(),
        }
    }
}

/// A loaded NER model: classifier, tokenizer windows and decoding settings.
pub struct NerModel {
    classifier: TokenClassifier,
    featurizer: Featurizer,
    segmenter: Segmenter,
    opts: NerOptions,
}

impl NerModel {
    /// Load a model directory (`config.json`, `model.safetensors`, `tokenizer.json`, as
    /// `TokenClassifier::save` and Hugging Face write them).
    pub fn load(dir: &Path, device: Device, opts: NerOptions) -> Result<Self> {
        let loc = Location::file(dir);
        if !dir.is_dir() {
            return Err(Error::input(&loc, "NER model directory not found"));
        }
        for f in MODEL_FILES {
            if !dir.join(f).is_file() {
                return Err(Error::input(
                    &loc,
                    format!("not a NER model directory: {f} is missing"),
                ));
            }
        }
        if opts.batch_size == 0 {
            return Err(Error::Usage("the batch size must be at least 1".into()));
        }
        let classifier = TokenClassifier::load(dir, device)?;
        let config = &classifier.config;
        let config_loc = Location::file(&config.path);
        // Every label must be a tag of the model's scheme; checked once here rather than on
        // the first document that happens to predict it.
        for label in &config.labels {
            tags::decode(&[label.as_str()], config.ertag.scheme).map_err(|(_, reason)| {
                Error::input(&config_loc, format!("label {label:?}: {reason}"))
            })?;
        }
        if let Some(max) = config.raw["max_position_embeddings"].as_u64() {
            // RoBERTa's positions start after the padding index.
            let offset = if config.architecture == crate::ner::Architecture::Roberta {
                2
            } else {
                0
            };
            let max = (max as usize).saturating_sub(offset);
            if opts.max_subwords > max {
                return Err(Error::Usage(format!(
                    "windows of {} sub-words are longer than the model allows ({max})",
                    opts.max_subwords
                )));
            }
        }
        let casing = config.ertag.casing;
        if casing
            && config.raw["type_vocab_size"]
                .as_u64()
                .is_some_and(|n| n < 4)
        {
            return Err(Error::input(
                &config_loc,
                "ertag.casing needs type_vocab_size of at least 4 (one token type per casing class)",
            ));
        }
        let featurizer = Featurizer::from_file(
            &dir.join("tokenizer.json"),
            WindowConfig {
                max_subwords: opts.max_subwords,
                context: config.ertag.context,
                casing,
            },
        )?;
        Ok(NerModel {
            classifier,
            featurizer,
            segmenter: Segmenter::default(),
            opts,
        })
    }

    pub fn labels(&self) -> &[String] {
        self.classifier.labels()
    }

    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    /// Compute in `precision` from now on: the weights are converted in place (token ids and
    /// masks stay integers; rust-bert casts the attention mask to the weights' kind).
    pub fn set_precision(&mut self, precision: Precision) {
        precision.apply(&mut self.classifier.vs);
    }

    /// What splits documents without tokens into sentences and words.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Find the entities of every document, replacing `doc.entities`. Documents without
    /// tokens are segmented first; pre-tokenised documents (CoNLL) keep their tokens, so the
    /// result can be compared with their gold annotations token for token. Relations are
    /// cleared too: they name entity ids, which no longer exist.
    pub fn annotate(&self, docs: &mut [Document]) -> Result<()> {
        for doc in docs.iter_mut().filter(|d| d.tokens.is_empty()) {
            self.segmenter.segment(doc);
        }
        let dists = self.predict_word_probs(docs)?;
        let scheme = self.classifier.config.ertag.scheme;
        for (doc, dists) in docs.iter_mut().zip(dists) {
            doc.entities =
                decode::entities(doc, &dists, self.labels(), scheme, self.opts.decoding)?;
            doc.relations.clear();
            doc.actors.clear();
            doc.triples.clear();
        }
        Ok(())
    }

    /// The label distribution of every word token: `out[d][t]` for `docs[d].tokens[t]`, in
    /// the order of [`Self::labels`]. Documents must already have their tokens (see
    /// [`Self::annotate`], which segments them).
    pub fn predict_word_probs(&self, docs: &[Document]) -> Result<Vec<Vec<Vec<f32>>>> {
        word_probabilities(
            &self.classifier,
            &self.featurizer,
            docs,
            self.opts.batch_size,
            self.opts.aggregation,
        )
    }
}

/// The label distribution of every word token of `docs` under `classifier`: `out[d][t]` for
/// `docs[d].tokens[t]`. Windows are sorted by length (stably, so batches are the same every run)
/// and run in batches without gradients. Shared by [`NerModel`] and the dev evaluation of
/// training, so that the logged dev score is the saved model's.
pub fn word_probabilities(
    classifier: &TokenClassifier,
    featurizer: &Featurizer,
    docs: &[Document],
    batch_size: usize,
    aggregation: Aggregation,
) -> Result<Vec<Vec<Vec<f32>>>> {
    word_probabilities_with(
        classifier,
        featurizer,
        docs,
        batch_size,
        aggregation,
        |_| Ok(()),
    )
}

/// One forward pass as [`word_probabilities_with`] hands it to its hook: the batch's windows,
/// the encoder's hidden states `[batch, length, hidden]`, and per window the distributions of
/// the words it decides (`(token index, distribution)`).
pub struct BatchOutput<'a> {
    pub windows: Vec<&'a Window>,
    pub hidden: Tensor,
    /// `[batch, length]`, 1 on the windows' sub-words and 0 on padding.
    pub mask: Tensor,
    /// Every encoder layer's output, when the classifier was loaded to return them.
    pub layers: Option<Vec<Tensor>>,
    pub decided: Vec<Vec<(usize, Vec<f32>)>>,
}

/// [`word_probabilities`], calling `hook` after each batch with its hidden states, so that a
/// later stage (the relation head) reads the same encoder pass instead of running its own.
pub fn word_probabilities_with(
    classifier: &TokenClassifier,
    featurizer: &Featurizer,
    docs: &[Document],
    batch_size: usize,
    aggregation: Aggregation,
    mut hook: impl FnMut(&BatchOutput) -> Result<()>,
) -> Result<Vec<Vec<Vec<f32>>>> {
    let mut windows: Vec<Window> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        windows.extend(featurizer.windows(d, doc)?);
    }
    let mut order: Vec<usize> = (0..windows.len()).collect();
    // Longest first: each batch's tensors then fit in memory the batch before freed, where
    // ascending lengths make every batch allocate afresh and the heap grow.
    order.sort_by_key(|&i| std::cmp::Reverse(windows[i].len()));
    let n_labels = classifier.labels().len();
    let device = classifier.vs.device();
    let mut out: Vec<Vec<Option<Vec<f32>>>> =
        docs.iter().map(|d| vec![None; d.tokens.len()]).collect();
    let _guard = tch::no_grad_guard();
    for chunk in order.chunks(batch_size.max(1)) {
        let batch: Vec<&Window> = chunk.iter().map(|&i| &windows[i]).collect();
        let b = collate(&batch, featurizer.pad_id(), device);
        let (hidden, logits, layers) =
            classifier.forward_layers(&b.input_ids, &b.mask, Some(&b.type_ids), false)?;
        let probs = probabilities(&logits)?;
        let width = probs.len() / batch.len();
        let decided: Vec<Vec<(usize, Vec<f32>)>> = batch
            .iter()
            .enumerate()
            .map(|(r, w)| {
                let rows = &probs[r * width..(r + 1) * width];
                decode::word_distributions(w, rows, n_labels, aggregation)
            })
            .collect();
        let output = BatchOutput {
            windows: batch,
            hidden,
            mask: b.mask,
            layers,
            decided,
        };
        hook(&output)?;
        for (w, dists) in output.windows.iter().zip(output.decided) {
            for (t, dist) in dists {
                out[w.doc][t] = Some(dist);
            }
        }
    }
    docs.iter()
        .zip(out)
        .map(|(doc, dists)| {
            dists
                .into_iter()
                .enumerate()
                .map(|(t, d)| {
                    d.ok_or_else(|| {
                        Error::input(
                            &Location::default().in_doc(doc.id.clone()),
                            format!("internal error: token {t} was decided by no window"),
                        )
                    })
                })
                .collect()
        })
        .collect()
}

/// A `[batch, length, labels]` logits tensor as flat f32 probabilities (softmax over labels),
/// row-major on the CPU: the layout [`decode::word_distributions`] reads. Training calls it
/// on dev batches too.
pub fn probabilities(logits: &Tensor) -> Result<Vec<f32>> {
    let p = logits
        .to_kind(Kind::Float)
        .softmax(-1, Kind::Float)
        .to_device(Device::Cpu)
        .flatten(0, -1);
    Vec::<f32>::try_from(&p).map_err(|e| Error::Usage(format!("cannot read model output: {e}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::document::Span;
    use crate::ner::config::ModelConfig;
    use crate::ner::features::tests::{check_windows, long_document};
    use crate::offsets::CharIndex;

    /// A tiny BERT WordPiece tokenizer as Hugging Face writes it, lower-casing and stripping
    /// accents like the shipped backbone, and (like it) padding and truncating, which
    /// `Featurizer` must switch off.
    pub(crate) fn tiny_tokenizer_json() -> String {
        let words = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "mayor", "of", "zurich", "met", "anna",
            "in", "paris", "said", ".", ",", "he", "she", "walk", "##s", "##ing", "talk", "a", "b",
            "c", "d", "e", "##e", "##r",
        ];
        let vocab: serde_json::Map<String, serde_json::Value> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i.into()))
            .collect();
        let added: Vec<serde_json::Value> = words[..4]
            .iter()
            .enumerate()
            .map(|(i, w)| {
                serde_json::json!({"id": i, "content": w, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        serde_json::json!({
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 32}, "direction": "Right", "pad_to_multiple_of": null,
                "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": added,
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                "strip_accents": true, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
            "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": vocab}
        })
        .to_string()
    }

    pub(crate) const LABELS: [&str; 5] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    /// A tiny random BERT NER model directory. With `force`, the head's bias makes that label
    /// win for every sub-word.
    pub(crate) fn tiny_model(dir: &Path, casing: bool, force: Option<usize>) {
        let id2label: serde_json::Map<String, serde_json::Value> = LABELS
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), (*l).into()))
            .collect();
        let json = serde_json::json!({
            "model_type": "bert",
            "vocab_size": 40, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": 128, "type_vocab_size": 4, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "id2label": id2label,
            "ertag": {"casing": casing, "scheme": "iob2"}
        });
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let model =
            TokenClassifier::new(ModelConfig::from_file(&path).unwrap(), Device::Cpu).unwrap();
        if let Some(label) = force {
            let mut bias = vec![0f32; LABELS.len()];
            bias[label] = 100.0;
            let _g = tch::no_grad_guard();
            let mut vars = model.vs.variables();
            let b = vars.get_mut("classifier.bias").unwrap();
            b.copy_(&Tensor::from_slice(&bias));
        }
        model.save(dir, false).unwrap();
        std::fs::write(dir.join("tokenizer.json"), tiny_tokenizer_json()).unwrap();
    }

    fn opts(aggregation: Aggregation, batch_size: usize) -> NerOptions {
        NerOptions {
            aggregation,
            batch_size,
            max_subwords: 24,
            ..Default::default()
        }
    }

    const TRICKY: &str = "Zürich’s mayor “Anna” met Ömer 🙂 in Paris. Qwxyz said: naïve café!";

    #[test]
    fn forced_labels_give_one_entity_per_word_with_exact_offsets() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), true, Some(1));
        for aggregation in [Aggregation::First, Aggregation::Average, Aggregation::Max] {
            let model = NerModel::load(dir.path(), Device::Cpu, opts(aggregation, 4)).unwrap();
            let mut docs = vec![Document::new("t", TRICKY), long_document()];
            model.annotate(&mut docs).unwrap();
            for doc in &docs {
                assert_eq!(doc.entities.len(), doc.tokens.len(), "{aggregation:?}");
                let ix = CharIndex::new(&doc.text);
                for (e, t) in doc.entities.iter().zip(&doc.tokens) {
                    assert_eq!((e.start, e.end), (t.start, t.end));
                    assert_eq!(Some(e.text.as_str()), ix.slice(t.start, t.end));
                    assert_eq!(e.label, "PER");
                    assert!(e.score.unwrap() > 0.99);
                }
                assert!(doc.problems().is_empty(), "{:?}", doc.problems());
            }
            let texts: Vec<&str> = docs[0].entities.iter().map(|e| e.text.as_str()).collect();
            for w in [
                "Zürich", "“", "Anna", "Ömer", "🙂", "Qwxyz", "naïve", "café",
            ] {
                assert!(texts.contains(&w), "{w} in {texts:?}");
            }
            assert_eq!(docs[0].entities[0].id, "T1");
        }
    }

    #[test]
    fn bf16_gives_nearly_the_fp32_probabilities() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), true, None);
        let mut docs = vec![Document::new("t", TRICKY), long_document()];
        for doc in docs.iter_mut().filter(|d| d.tokens.is_empty()) {
            Segmenter::default().segment(doc);
        }
        let mut model =
            NerModel::load(dir.path(), Device::Cpu, opts(Aggregation::First, 4)).unwrap();
        let fp32 = model.predict_word_probs(&docs).unwrap();
        model.set_precision(Precision::Bf16);
        assert!(model
            .classifier
            .vs
            .variables()
            .values()
            .all(|v| v.kind() == Kind::BFloat16));
        let bf16 = model.predict_word_probs(&docs).unwrap();
        let diff = fp32
            .iter()
            .flatten()
            .flatten()
            .zip(bf16.iter().flatten().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff > 0.0 && diff < 0.05, "{diff}");
        model.set_precision(Precision::Fp32);
        assert_eq!(model.predict_word_probs(&docs).unwrap().len(), docs.len());
    }

    #[test]
    fn inside_tags_join_words_into_one_entity_per_sentence() {
        let dir = tempfile::tempdir().unwrap();
        // Every word I-LOC: conlleval reading makes one LOC entity per sentence.
        tiny_model(dir.path(), false, Some(4));
        let model = NerModel::load(dir.path(), Device::Cpu, NerOptions::default()).unwrap();
        let mut docs = vec![Document::new("t", TRICKY)];
        model.annotate(&mut docs).unwrap();
        let ents: Vec<&str> = docs[0].entities.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            ents,
            [
                "Zürich’s mayor “Anna” met Ömer 🙂 in Paris.",
                "Qwxyz said: naïve café!"
            ]
        );
    }

    #[test]
    fn results_do_not_depend_on_the_batch_size() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), true, None);
        let run = |batch| {
            let model =
                NerModel::load(dir.path(), Device::Cpu, opts(Aggregation::Average, batch)).unwrap();
            let mut docs = vec![long_document(), Document::new("t", TRICKY), long_document()];
            model.annotate(&mut docs).unwrap();
            docs
        };
        let (a, b) = (run(1), run(7));
        let key = |docs: &[Document]| -> Vec<Vec<(usize, usize, String)>> {
            docs.iter()
                .map(|d| {
                    d.entities
                        .iter()
                        .map(|e| (e.start, e.end, e.label.clone()))
                        .collect()
                })
                .collect()
        };
        assert_eq!(key(&a), key(&b));
        assert!(a.iter().map(|d| d.entities.len()).sum::<usize>() > 0);
        for (x, y) in a
            .iter()
            .flat_map(|d| &d.entities)
            .zip(b.iter().flat_map(|d| &d.entities))
        {
            assert!((x.score.unwrap() - y.score.unwrap()).abs() < 1e-4);
        }
    }

    #[test]
    fn word_probs_have_one_distribution_per_token() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), false, None);
        let model = NerModel::load(dir.path(), Device::Cpu, opts(Aggregation::First, 3)).unwrap();
        let docs = vec![long_document(), Document::new("empty", "")];
        let probs = model.predict_word_probs(&docs).unwrap();
        assert_eq!(probs[0].len(), docs[0].tokens.len());
        assert!(probs[1].is_empty());
        for d in &probs[0] {
            assert_eq!(d.len(), LABELS.len());
            assert!((d.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        let windows = model.featurizer().windows(0, &docs[0]).unwrap();
        check_windows(&docs[0], &windows, 24);
        // Logits have the batch's shape.
        let refs: Vec<&Window> = windows.iter().take(3).collect();
        let b = collate(&refs, model.featurizer().pad_id(), Device::Cpu);
        let (_, logits) = model
            .classifier
            .forward_t(&b.input_ids, &b.mask, Some(&b.type_ids), false)
            .unwrap();
        let len = refs.iter().map(|w| w.len()).max().unwrap() as i64;
        assert_eq!(logits.size(), [3, len, LABELS.len() as i64]);
        assert_eq!(
            probabilities(&logits).unwrap().len(),
            (3 * len) as usize * LABELS.len()
        );
    }

    #[test]
    fn pre_tokenised_documents_keep_their_tokens_and_can_be_scored() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), false, Some(1));
        let model = NerModel::load(dir.path(), Device::Cpu, NerOptions::default()).unwrap();
        // As the CoNLL reader gives them: tokens and sentences set, gold entities.
        let mut gold = Document::new("c", "EU rejects German call\nPeter Blackburn");
        gold.tokens = vec![
            Span::new(0, 2),
            Span::new(3, 10),
            Span::new(11, 17),
            Span::new(18, 22),
            Span::new(23, 28),
            Span::new(29, 38),
        ];
        gold.sentences = vec![Span::new(0, 22), Span::new(23, 38)];
        gold.add_entity(23, 38, "PER").unwrap();
        let mut pred = vec![gold.clone()];
        model.annotate(&mut pred).unwrap();
        assert_eq!(pred[0].tokens, gold.tokens);
        assert_eq!(pred[0].entities.len(), 6);
        let counts = crate::eval::entity_counts(&gold, &pred[0]);
        let per = &counts["PER"];
        assert_eq!((per.tp, per.fp, per.fn_), (0, 6, 1));
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), false, None);
        std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
        let err = NerModel::load(dir.path(), Device::Cpu, NerOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("tokenizer.json is missing"), "{err}");
        let err = NerModel::load(&dir.path().join("nope"), Device::Cpu, NerOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not found"), "{err}");
        tiny_model(dir.path(), false, None);
        let long = NerOptions {
            max_subwords: 129,
            ..Default::default()
        };
        let err = NerModel::load(dir.path(), Device::Cpu, long).err().unwrap();
        assert!(
            err.to_string()
                .contains("longer than the model allows (128)"),
            "{err}"
        );
    }
}
