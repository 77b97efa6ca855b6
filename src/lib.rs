//! ertag: entity and relation tagging for news.
//!
//! The pipeline reads text, splits it into sentences and tokens ([`segment`]), finds entity
//! mentions, classifies relations between them, and writes the result ([`formats`]). Every stage
//! shares the data model in [`document`]; offsets are Unicode code points ([`offsets`]).

pub mod document;
pub mod error;
pub mod formats;
pub mod offsets;
pub mod segment;
pub mod tags;

pub use document::{Document, Entity, Relation, Span};
pub use error::{Diagnostics, Error, Location, Result};
pub mod annotate;
pub mod augment;
pub mod cli;
pub mod commands;
pub mod ensemble;
pub mod eval;
pub mod ner;
pub mod relations;
