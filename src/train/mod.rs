//! Training: configuration, the loop with adversarial regularization, checkpoints, and the
//! choice of backend and device.

mod allocator;
pub mod checkpoint;
mod config;
mod device;
mod fit;
mod recipes;
mod tensors;

pub use allocator::reuse_freed_memory;
pub use config::{LrSchedule, ModelChoice, TrainConfig};
pub use device::{Backend, Compute};
pub use fit::{fit, FitOutcome, RunOptions, TrainError};
pub use recipes::{Recipe, StudyResult, RECIPES};
pub use tensors::{images_tensor, labels_tensor};
