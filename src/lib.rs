//! # fer
//!
//! Facial-expression recognition on FER2013 with adversarial regularization in the manner
//! of TensorFlow's Neural Structured Learning, rebuilt in Rust.
//!
//! - [`data`] loads FER2013 (CSV in every common form, or image folders), computes the
//!   study's tables, splits, batches and augments faces, and draws synthetic faces so every
//!   step runs without a download.
//! - [`model`] describes the study's CNNs as tables and summarizes them like Keras.
//! - [`metrics`] scores predictions: confusion matrix, classification report.
//! - [`run`] is the run directory and its event log, the contract `fer-tui` reads.
//! - `report` (features `burn` and `viz`) writes runs up beside the study's results.
//! - `viz` (feature `viz`) draws the study's pictures as PNG/SVG, inline in evcxr.

mod atomic;
pub mod data;
pub mod metrics;
pub mod model;
pub mod nsl;
#[cfg(all(feature = "burn", feature = "viz"))]
pub mod report;
pub mod run;
#[cfg(feature = "burn")]
pub mod train;
#[cfg(feature = "viz")]
pub mod viz;
