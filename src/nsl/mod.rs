//! Adversarial regularization as TensorFlow Neural Structured Learning does it.
//!
//! [`AdvRegConfig`] carries NSL's settings; [`train_step`] computes the gradients of
//! `L_lab + multiplier * L_adv` for any [`Classifier`]; [`adversarial_examples`] makes
//! FGSM/FGM/PGD neighbors, also for robustness evaluation.

mod config;
#[cfg(feature = "burn")]
pub mod perturb;
#[cfg(feature = "burn")]
mod step;

pub use config::{AdvNorm, AdvRegConfig};
#[cfg(feature = "burn")]
pub use step::{adversarial_examples, cross_entropy, train_step, Classifier, StepStats};
