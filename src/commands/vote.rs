//! `ertag vote`: read each member's annotations, combine them (`crate::ensemble`), write.

use crate::cli::VoteArgs;
use crate::commands::convert::Summary;
use crate::ensemble::{vote, VoteOptions};
use crate::error::{Diagnostics, Error, Result};
use crate::formats::{self, Options};
use crate::relations::schema::Schema;

pub fn run(args: &VoteArgs, diag: &mut Diagnostics) -> Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(Error::Usage(format!(
            "--threshold {} is not a score between 0 and 1",
            args.threshold
        )));
    }
    let mut symmetric = Vec::new();
    if let Some(path) = &args.schema {
        let schema = Schema::load(path)?;
        for (i, label) in schema.relations.iter().enumerate() {
            if schema.is_symmetric(i) {
                symmetric.push(label.name.clone());
            }
        }
    }
    let opts = Options::default();
    let mut members = Vec::with_capacity(args.inputs.len());
    let mut names = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        let format = formats::guess_format(path, args.from)?;
        members.push(formats::read(path, format, &opts, diag)?);
        names.push(path.display().to_string());
    }
    let voted = vote(
        &members,
        &names,
        &VoteOptions {
            threshold: args.threshold,
            symmetric,
        },
    )?;
    let to = formats::output_format(&args.output, args.to)?;
    formats::write(&voted, &args.output, to, &opts, diag)?;
    let s = Summary::of(&voted);
    eprintln!(
        "voted {} members on {} documents: {} entities, {} relations",
        members.len(),
        s.documents,
        s.entities,
        s.relations
    );
    Ok(())
}
