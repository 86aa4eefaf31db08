//! # fer
//!
//! Facial-expression recognition on FER2013 with adversarial regularization in the manner
//! of TensorFlow's Neural Structured Learning, rebuilt in Rust.
//!
//! - [`data`] loads FER2013 (CSV in every common form, or image folders), computes the
//!   study's tables, splits, batches and augments faces, and draws synthetic faces so every
//!   step runs without a download.
//! - [`graph`] builds, reads and measures similarity graphs over faces, for NSL's graph
//!   regularization.
//! - [`model`] describes the study's CNNs as tables and summarizes them like Keras; with
//!   Burn it builds them, on the backend kernels of `kernels`.
//! - [`export`] writes trained networks as ONNX and safetensors.
//! - [`metrics`] scores predictions: confusion matrix, classification report.
//! - [`run`] is the run directory and its event log, the contract `fer-tui` reads.
//! - `report` (features `burn` and `viz`) writes runs up beside the study's results.
//! - [`memory`] reads a process's peak resident memory (Linux).
//! - [`atomic`] writes files whole or not at all, as every file fer writes is written.
//! - `viz` (feature `viz`) draws the study's pictures as PNG/SVG, inline in evcxr.

pub mod atomic;
mod config_error;
pub mod data;
pub mod export;
pub mod graph;
#[cfg(feature = "burn")]
pub mod kernels;
pub mod memory;
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

pub use config_error::ConfigError;

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(all(doctest, feature = "burn"))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
