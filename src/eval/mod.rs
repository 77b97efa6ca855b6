//! The evaluation harness: compare predicted documents with gold ones.
//!
//! Every measure is built the same way: a function compares one gold document with its
//! prediction and returns [`LabelCounts`] (true positives, false positives, false negatives per
//! label). Counts add up over documents, so corpus scores, bootstrap resamples over documents
//! and paired comparisons all reuse the same per-document counts.

pub mod align;
pub mod bootstrap;
pub mod confusion;
pub mod counts;
pub mod entities;
pub mod errors;
pub mod nervaluate;
pub mod relations;
pub mod report;

pub use align::{align, AlignOptions, AlignSummary, LabelSchema, Pair};
pub use confusion::{entity_confusion, relation_confusion, Confusion};
pub use counts::{Counts, LabelCounts, Prf, ScoreTable};
pub use entities::{entity_counts, token_tag_counts};
pub use errors::{entity_errors, relation_errors, write_errors, ErrorItem, ErrorKind};
pub use nervaluate::{nervaluate_counts, NerEvalCounts, Scheme, SchemeCounts, SchemeSet};
pub use relations::{
    best_thresholds, relation_counts, threshold_sweep, RelationSetting, ThresholdPoint,
};
