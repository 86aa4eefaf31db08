//! The study's CNN: described by a table ([`CnnConfig`]), summarized like Keras
//! ([`ModelSummary`]).

#[cfg(feature = "burn")]
mod activation;
#[cfg(feature = "burn")]
mod cnn;
mod config;
#[cfg(feature = "burn")]
mod conv;
#[cfg(feature = "burn")]
mod dropout;
#[cfg(feature = "tch")]
mod libtorch_shim;
#[cfg(feature = "burn")]
mod norm_elu;
mod summary;
#[cfg(all(test, feature = "burn"))]
mod testing;
#[cfg(feature = "burn")]
pub mod weight_gradient;

#[cfg(feature = "burn")]
pub use activation::elu;
#[cfg(feature = "burn")]
pub use cnn::Cnn;
#[cfg(feature = "burn")]
pub use conv::{conv2d, ConvBackend};
#[cfg(feature = "burn")]
pub use dropout::{dropout, fill_keep_mask, DropoutBackend};
#[cfg(feature = "burn")]
pub use norm_elu::{batch_norm_elu, NormEluBackend};

pub use config::{CnnConfig, ConvBlock, DenseLayer, PRESETS};
pub use summary::{LayerRow, ModelSummary};
