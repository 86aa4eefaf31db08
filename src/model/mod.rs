//! The study's CNN: described by a table ([`CnnConfig`]), summarized like Keras
//! ([`ModelSummary`]), and (with Burn) built as a module ([`Cnn`]) that takes faces as
//! tensors ([`images_tensor`], [`labels_tensor`]).

#[cfg(feature = "burn")]
mod cnn;
mod config;
#[cfg(feature = "burn")]
mod input;
mod summary;
mod weights;

#[cfg(feature = "burn")]
pub use cnn::Cnn;
pub use config::{CnnConfig, ConvBlock, DenseLayer, PRESETS};
#[cfg(feature = "burn")]
pub use input::{images_tensor, labels_tensor};
pub use summary::{LayerRow, ModelSummary};
pub use weights::{Array, CnnWeights, ConvWeights, DenseWeights, NormWeights};
