//! The relation stage: a schema of labels, candidate pairs of entity mentions, and a head that
//! classifies them from the NER encoder's hidden states (one encoder pass for both stages).

mod batches;
pub mod document_level;
pub mod head;
pub mod model;
pub mod pairs;
pub mod pipeline;
pub mod schema;
pub mod thresholds;
pub mod train;

pub use model::JointModel;
pub use pipeline::RelationTagger;
pub use schema::{Direction, Schema};
