//! The evaluation harness: compare predicted documents with gold ones.
//!
//! Every measure is built the same way: a function compares one gold document with its
//! prediction and returns [`LabelCounts`] (true positives, false positives, false negatives per
//! label). Counts add up over documents, so corpus scores, bootstrap resamples over documents
//! and paired comparisons all reuse the same per-document counts.

pub mod align;
pub mod counts;

pub use align::{align, AlignOptions, AlignSummary, Pair};
pub use counts::{Counts, LabelCounts, Prf, ScoreTable};
