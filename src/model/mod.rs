//! The study's CNN: described by a table ([`CnnConfig`]), summarized like Keras
//! ([`ModelSummary`]).

#[cfg(feature = "burn")]
mod cnn;
mod config;
mod summary;

#[cfg(feature = "burn")]
pub use cnn::Cnn;

pub use config::{CnnConfig, ConvBlock, DenseLayer, PRESETS};
pub use summary::{LayerRow, ModelSummary};
