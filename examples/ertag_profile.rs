//! Where ertag's NER time goes, stage by stage, on a JSON Lines corpus (`{"id", "text"}` per
//! line): segmentation, windows (tokenizer), the encoder's forward passes, and the whole
//! `NerModel::annotate`. Also counts the sub-words the encoder computes (windows with their
//! context and special tokens, and padding) against the corpus's own sub-words. Part of the
//! benchmark (`make bench`, `scripts/bench/bench.py`).
//!
//! ```sh
//! cargo run --release --example ertag_profile -- models/ner DOCS.jsonl [--threads 2] [--precision bf16]
//! ```

use std::path::Path;
use std::time::Instant;

use ertag::document::Document;
use ertag::ner::features::collate;
use ertag::ner::{NerModel, NerOptions, Precision, TokenClassifier};
use ertag::segment::Segmenter;
use tch::Device;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(model_dir), Some(docs_path)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: ertag_profile MODEL_DIR DOCS.jsonl [--threads N] [--precision bf16]");
    };
    let (mut threads, mut bf16) = (2i32, false);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--threads" => threads = value.parse()?,
            "--precision" => bf16 = value == "bf16",
            _ => anyhow::bail!("unknown option {flag}"),
        }
    }
    tch::set_num_threads(threads);
    let dir = Path::new(&model_dir);
    let docs: Vec<Document> = std::fs::read_to_string(&docs_path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)?;
            Ok(Document::new(
                v["id"].as_str().unwrap_or_default(),
                v["text"].as_str().unwrap_or_default(),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let opts = NerOptions::default();
    let t = Instant::now();
    let mut model = NerModel::load(dir, Device::Cpu, opts.clone())?;
    let load_s = t.elapsed().as_secs_f64();
    let mut classifier = TokenClassifier::load(dir, Device::Cpu)?;
    if bf16 {
        model.set_precision(Precision::Bf16);
        classifier.vs.bfloat16();
    }

    // Warm-up: the whole pipeline once.
    let mut warm = docs.clone();
    model.annotate(&mut warm)?;

    let mut segmented = docs.clone();
    let t = Instant::now();
    let segmenter = Segmenter::default();
    for doc in segmented.iter_mut() {
        segmenter.segment(doc);
    }
    let segment_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut windows = Vec::new();
    for (d, doc) in segmented.iter().enumerate() {
        windows.extend(model.featurizer().windows(d, doc)?);
    }
    let windows_s = t.elapsed().as_secs_f64();
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by_key(|&i| windows[i].len());

    let (mut computed, mut padded) = (0usize, 0usize);
    let t = Instant::now();
    {
        let _g = tch::no_grad_guard();
        for chunk in order.chunks(opts.batch_size) {
            let batch: Vec<_> = chunk.iter().map(|&i| &windows[i]).collect();
            let b = collate(&batch, model.featurizer().pad_id(), Device::Cpu);
            computed += batch.iter().map(|w| w.len()).sum::<usize>();
            padded += b.input_ids.numel();
            let (_, logits) =
                classifier.forward_t(&b.input_ids, &b.mask, Some(&b.type_ids), false)?;
            let _ = ertag::ner::pipeline::probabilities(&logits)?;
        }
    }
    let forward_s = t.elapsed().as_secs_f64();

    let mut all = docs.clone();
    let t = Instant::now();
    model.annotate(&mut all)?;
    let annotate_s = t.elapsed().as_secs_f64();

    let words: usize = segmented.iter().map(|d| d.tokens.len()).sum();
    let out = serde_json::json!({
        "tool": "ertag profile",
        "precision": if bf16 { "bf16" } else { "fp32" },
        "documents": docs.len(),
        "words": words,
        "windows": windows.len(),
        "window_subwords": computed,
        "padded_subwords": padded,
        "load_s": load_s,
        "segment_s": segment_s,
        "windows_s": windows_s,
        "forward_s": forward_s,
        "annotate_s": annotate_s,
        "threads": threads,
    });
    println!("{out}");
    Ok(())
}
