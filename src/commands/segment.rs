//! `ertag segment`: sentences and word tokens for every document, written as JSON Lines.

use crate::cli::SegmentArgs;
use crate::error::{Diagnostics, Result};
use crate::formats::{self, Format};
use crate::segment::Segmenter;

pub fn run(args: &SegmentArgs, diag: &mut Diagnostics) -> Result<()> {
    diag.strict = args.input.strict;
    let opts = args.input.options();
    let mut docs = formats::read(&args.input.input, args.input.format()?, &opts, diag)?;
    let segmenter = Segmenter::default();
    for doc in &mut docs {
        segmenter.segment(doc);
    }
    formats::write(&docs, &args.output, Format::Jsonl, &opts, diag)
}
