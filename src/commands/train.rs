//! `ertag train ner` and `ertag train relations`: read the training and development documents,
//! then hand them to [`crate::ner::train::train`] or [`crate::relations::train::train`].

use std::path::Path;

use crate::cli::{TrainData, TrainNerArgs, TrainRelationsArgs, TrainRun};
use crate::document::Document;
use crate::error::{Diagnostics, Result};
use crate::formats::{self, ConllOptions, Options};
use crate::ner::train::{train, TrainConfig};
use crate::relations::train::RelationTrainConfig;
use crate::relations::Schema;
use crate::tags::TagScheme;

/// The run's settings from the command line (everything not named keeps its default).
fn run_config(run: &TrainRun) -> TrainConfig {
    TrainConfig {
        epochs: run.epochs,
        lr: run.lr,
        batch_size: run.batch_size,
        seed: run.seed,
        max_subwords: run.max_subwords,
        half: !run.fp32,
        limit_train_docs: run.limit_train_docs,
        resume: run.resume,
        ..TrainConfig::default()
    }
}

pub fn config(args: &TrainNerArgs) -> TrainConfig {
    TrainConfig {
        casing: !args.no_casing,
        context: !args.no_context,
        ..run_config(&args.run)
    }
}

pub fn ner(args: &TrainNerArgs, diag: &mut Diagnostics) -> Result<()> {
    let (train_docs, dev_docs) = read_both(&args.data, args.scheme, diag)?;
    let report = train(
        &train_docs,
        &dev_docs,
        &args.data.base,
        &args.data.out,
        &config(args),
        !args.run.quiet,
    )?;
    eprintln!(
        "best epoch {} (dev micro F1 {:.2}); model in {}",
        report.best_epoch,
        100.0 * report.best_dev_f1,
        args.data.out.display()
    );
    Ok(())
}

pub fn relations(args: &TrainRelationsArgs, diag: &mut Diagnostics) -> Result<()> {
    let schema = Schema::load(&args.schema)?;
    let (train_docs, dev_docs) = read_both(&args.data, args.scheme, diag)?;
    let cfg = RelationTrainConfig {
        base: run_config(&args.run),
        joint: args.joint,
        sentence_window: args.sentence_window,
        head_lr: args.head_lr,
        pair_context: !args.no_pair_context,
        positive_weight: args.positive_weight,
        encoder_layers: args.encoder_layers,
        sentence_context: args.sentence_context,
        pair_markers: args.pair_markers,
        keep: args.keep,
        thresholds_from: args.thresholds_from.clone(),
        mention_swaps: args.mention_swaps,
        ..RelationTrainConfig::default()
    };
    let report = crate::relations::train::train(
        &train_docs,
        &dev_docs,
        schema,
        &args.data.base,
        &args.data.out,
        &cfg,
        !args.run.quiet,
    )?;
    // The dev score of what was kept: per-label thresholds, or 0.5 everywhere.
    let f1 = match report.tuned_dev_f1 {
        Some(tuned) if !report.thresholds.is_empty() => tuned,
        _ => report.best_dev_f1,
    };
    eprintln!(
        "epoch {} kept (dev strict relation F1 {:.2}); model in {}",
        report.best_epoch,
        100.0 * f1,
        args.data.out.display()
    );
    Ok(())
}

fn read_both(
    data: &TrainData,
    scheme: TagScheme,
    diag: &mut Diagnostics,
) -> Result<(Vec<Document>, Vec<Document>)> {
    let read = |path: &Path, diag: &mut Diagnostics| {
        let format = formats::guess_format(path, data.from)?;
        let opts = Options {
            conll: ConllOptions {
                scheme,
                ..Default::default()
            },
        };
        formats::read(path, format, &opts, diag)
    };
    let mut train = Vec::new();
    for path in &data.train {
        train.extend(read(path, diag)?);
    }
    Ok((train, read(&data.dev, diag)?))
}
