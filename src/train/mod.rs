//! Training: configuration, the loop with adversarial regularization ([`Training`]),
//! checkpoints and resume, and the choice of backend and device.

mod allocator;
pub mod checkpoint;
mod config;
mod device;
mod error;
mod fit;
mod recipes;
mod resume;
mod session;

pub use allocator::reuse_freed_memory;
pub use config::{GraphTraining, LrSchedule, ModelChoice, TrainConfig};
pub use device::{Backend, Compute, ComputeError};
pub use error::TrainError;
pub use fit::{FitOutcome, RunOptions, Training};
pub use recipes::{Recipe, StudyResult, RECIPES};
