//! The study's CNN: described by a table ([`CnnConfig`]), summarized like Keras
//! ([`ModelSummary`]).

mod config;
mod summary;

pub use config::{CnnConfig, ConvBlock, DenseLayer, PRESETS};
pub use summary::{LayerRow, ModelSummary};
