//! `ertag train ner`: read the training and development documents, then hand them to
//! [`crate::ner::train::train`].

use std::path::Path;

use crate::cli::TrainNerArgs;
use crate::document::Document;
use crate::error::{Diagnostics, Result};
use crate::formats::{self, ConllOptions, Format, Options};
use crate::ner::train::{train, TrainConfig};

/// The run's settings from the command line (everything not named keeps its default).
pub fn config(args: &TrainNerArgs) -> TrainConfig {
    TrainConfig {
        epochs: args.epochs,
        lr: args.lr,
        batch_size: args.batch_size,
        seed: args.seed,
        max_subwords: args.max_subwords,
        casing: !args.no_casing,
        context: !args.no_context,
        half: !args.fp32,
        limit_train_docs: args.limit_train_docs,
        resume: args.resume,
        ..TrainConfig::default()
    }
}

pub fn ner(args: &TrainNerArgs, diag: &mut Diagnostics) -> Result<()> {
    let train_docs = read(&args.data.train, args.data.from, args, diag)?;
    let dev_docs = read(&args.data.dev, args.data.from, args, diag)?;
    let report = train(
        &train_docs,
        &dev_docs,
        &args.data.base,
        &args.data.out,
        &config(args),
        !args.quiet,
    )?;
    eprintln!(
        "best epoch {} (dev micro F1 {:.2}); model in {}",
        report.best_epoch,
        100.0 * report.best_dev_f1,
        args.data.out.display()
    );
    Ok(())
}

/// Documents of `path`, in the format named or guessed (a CoNLL `.txt` is sniffed).
fn read(
    path: &Path,
    from: Option<Format>,
    args: &TrainNerArgs,
    diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    let format = formats::guess_format(path, from)?;
    let opts = Options {
        conll: ConllOptions {
            scheme: args.scheme,
            ..Default::default()
        },
    };
    formats::read(path, format, &opts, diag)
}
