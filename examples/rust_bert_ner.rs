//! rust-bert's own `NERModel` on a Hugging Face token-classification directory, timed: the
//! baseline of the benchmark (`make bench`, `scripts/bench/bench.py`).
//!
//! ```sh
//! cargo run --release --example rust_bert_ner -- MODEL_DIR DOCS.jsonl [--threads 2] [--runs 3] [--batch 32]
//! ```
//!
//! `MODEL_DIR` holds `config.json` (with `id2label`), `vocab.txt` and `model.safetensors` (read
//! by tch's `VarStore::load`, which picks the format from the extension; fp16 weights are
//! copied into the fp32 variables). `DOCS.jsonl` has one `{"id", "text"}` per line. Token
//! types are left at 0 (rust-bert cannot feed ertag's casing types): same compute, other
//! inputs. Prints one JSON object: load time, the time of each run after a warm-up run, and
//! the counts.
//!
//! rust-bert 0.23's `TokenClassificationModel::predict` reads `features[i]` with `i` counted
//! from the start of each batch rather than of the input, so only its first batch decodes the
//! right windows. Documents are therefore handed over in groups whose windows fit one batch.

use std::path::PathBuf;
use std::time::Instant;

use rust_bert::pipelines::common::{ModelResource, ModelType};
use rust_bert::pipelines::ner::NERModel;
use rust_bert::pipelines::token_classification::{
    LabelAggregationOption, TokenClassificationConfig,
};
use rust_bert::resources::LocalResource;
use tch::Device;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(docs)) = (args.next(), args.next()) else {
        anyhow::bail!(
            "usage: rust_bert_ner MODEL_DIR DOCS.jsonl [--threads N] [--runs N] [--batch N]"
        );
    };
    let (mut threads, mut runs, mut batch) = (2i32, 3usize, 32usize);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--threads" => threads = value.parse()?,
            "--runs" => runs = value.parse()?,
            "--batch" => batch = value.parse()?,
            _ => anyhow::bail!("unknown option {flag}"),
        }
    }
    tch::set_num_threads(threads);
    let model = PathBuf::from(model);
    let texts: Vec<String> = std::fs::read_to_string(&docs)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)?;
            Ok(v["text"].as_str().unwrap_or_default().to_string())
        })
        .collect::<anyhow::Result<_>>()?;

    let started = Instant::now();
    let local = |f: &str| LocalResource {
        local_path: model.join(f),
    };
    let mut config = TokenClassificationConfig::new(
        ModelType::Bert,
        ModelResource::Torch(Box::new(local("model.safetensors"))),
        local("config.json"),
        local("vocab.txt"),
        None,
        true,
        true,
        None,
        LabelAggregationOption::First,
    );
    config.device = Device::Cpu;
    config.batch_size = batch;
    let ner = NERModel::new(config)?;
    let load_s = started.elapsed().as_secs_f64();

    // Windows per document as rust-bert makes them (max_length 512 from config.json, a new
    // window every max_length / 4 sub-words), to group documents into single batches.
    let max_len = 512usize;
    let stride = max_len / 4;
    let tokenizer = ner.get_tokenizer();
    let subwords: Vec<usize> = texts.iter().map(|t| tokenizer.tokenize(t).len()).collect();
    let windows: Vec<usize> = subwords
        .iter()
        .map(|&n| n.div_ceil(stride).max(1))
        .collect();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut start, mut in_group) = (0, 0);
    for (i, &w) in windows.iter().enumerate() {
        if in_group > 0 && in_group + w > batch {
            groups.push(start..i);
            start = i;
            in_group = 0;
        }
        in_group += w;
    }
    groups.push(start..texts.len());

    let run_once = || {
        groups
            .iter()
            .map(|g| {
                ner.predict(&texts[g.clone()])
                    .iter()
                    .map(Vec::len)
                    .sum::<usize>()
            })
            .sum::<usize>()
    };
    let warm = Instant::now();
    let entities = run_once();
    let warmup_s = warm.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        run_once();
        times.push(t.elapsed().as_secs_f64());
    }
    let out = serde_json::json!({
        "tool": "rust-bert NERModel",
        "load_s": load_s,
        "warmup_s": warmup_s,
        "run_s": times,
        "documents": texts.len(),
        "entities": entities,
        "subwords": subwords.iter().sum::<usize>(),
        "windows": windows.iter().sum::<usize>(),
        "groups": groups.len(),
        "batch": batch,
        "threads": threads,
    });
    println!("{out}");
    Ok(())
}
