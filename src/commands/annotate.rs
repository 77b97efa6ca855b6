//! `ertag annotate`: read documents, find their entities with the NER model, write them.
//!
//! The work is done by the batch-annotation stage ([`crate::annotate`]): streaming input,
//! chunks of constant memory, an errors file, `--resume` and `--shard`. This file turns the
//! command line into its options and prints the summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tch::Device;

use crate::annotate::{self, BatchOptions, DocumentSource, SourceOptions};
use crate::cli::AnnotateArgs;
use crate::error::{Diagnostics, Error, Result};
use crate::formats::{self, ConllOptions, Options};
use crate::ner::{NerModel, NerOptions};
use crate::relations::RelationTagger;

/// Where `make` and `--ner-model`'s default expect the shipped model.
pub const DEFAULT_MODEL: &str = "models/ner";
/// The shipped relation model, used by default when it exists.
pub const DEFAULT_RELATION_MODEL: &str = "models/relations";

/// What runs: NER alone (a NER model directory), or NER and relations (a relation model
/// directory, which names its NER model).
enum Models {
    Ner(PathBuf),
    Relations(PathBuf),
}

/// The models the options ask for (see `--ner-model` and `--relation-model`).
fn choose_models(args: &AnnotateArgs) -> Result<Models> {
    if let Some(rel) = &args.relation_model {
        if !rel.is_dir() {
            return Err(Error::Usage(format!(
                "relation model directory {} does not exist",
                rel.display()
            )));
        }
        if args.ner_model.is_some() {
            return Err(Error::Usage(
                "--relation-model names the NER model it was trained on; leave out --ner-model"
                    .into(),
            ));
        }
        return Ok(Models::Relations(rel.clone()));
    }
    if let Some(ner) = &args.ner_model {
        check_model_dir(ner)?;
        return Ok(Models::Ner(ner.clone()));
    }
    let rel = Path::new(DEFAULT_RELATION_MODEL);
    if !args.no_relations && rel.join("relation.json").is_file() {
        return Ok(Models::Relations(rel.to_path_buf()));
    }
    check_model_dir(Path::new(DEFAULT_MODEL))?;
    Ok(Models::Ner(PathBuf::from(DEFAULT_MODEL)))
}

pub fn run(args: &AnnotateArgs, diag: &mut Diagnostics) -> Result<()> {
    let started = Instant::now();
    let to = formats::output_format(&args.output, args.to)?;
    let opts = Options {
        conll: ConllOptions {
            scheme: args.scheme,
            ..Default::default()
        },
    };
    let batch = BatchOptions {
        output: args.output.clone(),
        to,
        errors: args.errors.clone(),
        fail_fast: args.fail_fast,
        resume: args.resume,
        shard: args.shard,
        chunk_size: args.chunk_size,
        formats: opts.clone(),
    };
    // Check the options, the inputs' formats and the model before loading anything large.
    batch.check()?;
    let models = choose_models(args)?;
    let mut source = DocumentSource::new(
        &args.inputs,
        SourceOptions {
            from: args.from,
            id_field: args.id_field.clone(),
            text_field: args.text_field.clone(),
            formats: opts,
        },
    )?;
    let ner_opts = NerOptions {
        aggregation: args.aggregation,
        decoding: args.decoding,
        batch_size: args.batch_size,
        max_subwords: args.max_subwords,
    };
    let device = Device::cuda_if_available();
    let result = match &models {
        Models::Ner(dir) => {
            if args.relation_threshold.is_some() {
                return Err(Error::Usage(format!(
                    "--relation-threshold: no relation model runs (NER model {} alone)",
                    dir.display()
                )));
            }
            let mut model = NerModel::load(dir, device, ner_opts)?;
            model.set_precision(args.precision);
            annotate::run(&mut source, &model, &batch, diag)
        }
        Models::Relations(dir) => {
            let mut model = RelationTagger::load(dir, device, ner_opts)?;
            model.set_precision(args.precision);
            model.set_threshold(args.relation_threshold);
            annotate::run(&mut source, &model, &batch, diag)
        }
    };
    diag.warnings.extend(source.take_warnings().warnings);
    let s = result?;
    let relations = match models {
        Models::Relations(_) => format!(", {} relations", s.relations),
        Models::Ner(_) => String::new(),
    };
    let mut line = format!(
        "annotated {} documents: {} entities{relations} in {:.1}s (read {}, failed {}",
        s.annotated,
        s.entities,
        started.elapsed().as_secs_f64(),
        s.read,
        s.failed
    );
    if args.resume {
        line.push_str(&format!(", skipped {} already written", s.skipped));
    }
    line.push(')');
    eprintln!("{line}");
    let where_ = match &args.errors {
        Some(path) => format!("reasons in {}", path.display()),
        None => "reasons above".into(),
    };
    if let Some(f) = s.stopped {
        return Err(Error::Usage(format!(
            "stopped at the first failure (--fail-fast): {f}"
        )));
    }
    if s.failed > 0 {
        return Err(Error::Usage(format!(
            "{} of {} documents could not be annotated ({where_})",
            s.failed, s.read
        )));
    }
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
