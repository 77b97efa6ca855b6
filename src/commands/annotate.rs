//! `ertag annotate`: read documents, find their entities with the NER model, write them.
//!
//! Everything is read first and written at the end; streaming, resuming and an errors file
//! come with batch annotation (issue 8).

use std::path::Path;
use std::time::Instant;

use tch::Device;

use crate::cli::AnnotateArgs;
use crate::error::{Diagnostics, Error, Result};
use crate::formats::{self, ConllOptions, Format, Options};
use crate::ner::{NerModel, NerOptions};

/// Where `make` and `--ner-model`'s default expect the shipped model.
pub const DEFAULT_MODEL: &str = "models/ner";

pub fn run(args: &AnnotateArgs, diag: &mut Diagnostics) -> Result<()> {
    let started = Instant::now();
    let to = formats::output_format(&args.output, args.to)?;
    if args.relation_model.is_some() {
        return Err(Error::NotBuilt {
            what: "--relation-model",
            detail: "the relation classifier is issue 5",
        });
    }
    // Check the model before reading a large input.
    check_model_dir(&args.ner_model)?;
    let opts = Options {
        conll: ConllOptions {
            scheme: args.scheme,
            ..Default::default()
        },
    };
    let mut docs = Vec::new();
    for input in &args.inputs {
        let from = match args.from {
            None if input.as_os_str() == "-" => Format::Jsonl,
            named => formats::guess_format(input, named)?,
        };
        docs.extend(formats::read(input, from, &opts, diag)?);
    }
    let model = NerModel::load(
        &args.ner_model,
        Device::cuda_if_available(),
        NerOptions {
            aggregation: args.aggregation,
            batch_size: args.batch_size,
            max_subwords: args.max_subwords,
        },
    )?;
    model.annotate(&mut docs)?;
    formats::write(&docs, &args.output, to, &opts, diag)?;
    let entities: usize = docs.iter().map(|d| d.entities.len()).sum();
    eprintln!(
        "annotated {} documents: {entities} entities in {:.1}s",
        docs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The default model directory is filled by training (issue 4) and may not exist yet, so its
/// absence gets an explanation of how to make it rather than a bare "not found".
fn check_model_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let how = "train it with `ertag train ner --train TRAIN --dev DEV --base \
               .cache/backbones/minilm-l6 --out models/ner` (`make backbone` fetches the \
               backbone), or name a model directory with --ner-model DIR";
    Err(Error::Usage(if dir == Path::new(DEFAULT_MODEL) {
        format!(
            "the shipped default NER model is not there yet: {DEFAULT_MODEL}/ does not exist \
             (the model is not built yet). To make it, {how}"
        )
    } else {
        format!(
            "NER model directory {} does not exist: {how}",
            dir.display()
        )
    }))
}
