//! `ertag convert`: read any format, write any writable one, say what could not be carried over.

use crate::cli::ConvertArgs;
use crate::document::Document;
use crate::error::{Diagnostics, Result};
use crate::formats;

/// Counts for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub documents: usize,
    pub entities: usize,
    pub relations: usize,
}

impl Summary {
    pub fn of(docs: &[Document]) -> Self {
        Summary {
            documents: docs.len(),
            entities: docs.iter().map(|d| d.entities.len()).sum(),
            relations: docs.iter().map(|d| d.relations.len()).sum(),
        }
    }
}

pub fn run(args: &ConvertArgs, diag: &mut Diagnostics) -> Result<()> {
    diag.strict = args.input.strict;
    let from = args.input.format()?;
    let to = formats::output_format(&args.output, args.to)?;
    let opts = args.input.options();
    let docs = formats::read(&args.input.input, from, &opts, diag)?;
    let before = diag.warnings.len();
    formats::write(&docs, &args.output, to, &opts, diag)?;
    for note in formats::not_held(&docs, to) {
        eprintln!("note: {note}");
    }
    let s = Summary::of(&docs);
    eprintln!(
        "converted {} documents, {} entities, {} relations: {} -> {}{}",
        s.documents,
        s.entities,
        s.relations,
        from.name(),
        to.name(),
        match diag.warnings.len() - before {
            0 => String::new(),
            n => format!(" ({n} warnings while writing: see above)"),
        }
    );
    Ok(())
}
