//! The named-entity stage: a transformer token classifier over word tokens.

pub mod config;
pub mod decode;
pub mod encoder;
pub mod features;
pub mod model;
pub mod pipeline;
pub mod train;

pub use config::{Architecture, ErtagSettings, ModelConfig};
pub use decode::{Aggregation, TagDecoding};
pub use features::{Casing, Featurizer, Window, WindowConfig};
pub use model::TokenClassifier;
pub use pipeline::{NerModel, NerOptions, Precision};
