//! The named-entity stage: a transformer token classifier over word tokens.

pub mod config;
pub mod encoder;
pub mod model;

pub use config::{Architecture, ErtagSettings, ModelConfig};
pub use model::TokenClassifier;
