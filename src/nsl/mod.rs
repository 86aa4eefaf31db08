//! Adversarial regularization as TensorFlow Neural Structured Learning does it.
//!
//! [`AdvRegConfig`] carries NSL's settings; [`train_step`] computes the gradients of
//! `L_lab + multiplier * L_adv` for any [`Classifier`]; [`adversarial_examples`] makes
//! FGSM/FGM/PGD neighbors, also for robustness evaluation. [`GraphRegConfig`] and
//! [`scaled_graph_loss`] are NSL's other half: graph regularization, which pulls a face's
//! output towards those of its neighbours in a similarity graph (graphs are built and read by `fer::graph`).

mod config;
mod graph_config;
#[cfg(feature = "burn")]
mod graph_loss;
#[cfg(feature = "burn")]
pub mod perturb;
#[cfg(feature = "burn")]
mod step;

pub use config::{AdvNorm, AdvRegConfig};
pub use graph_config::{
    DistanceConfig, DistanceType, GraphRegConfig, Reduction, RegularizedOutput, TransformFn,
};
#[cfg(feature = "burn")]
pub use graph_loss::{pairwise_distance, regularized_output, scaled_graph_loss, Neighbors};
#[cfg(feature = "burn")]
pub use step::{adversarial_examples, cross_entropy, train_step, Classifier, GraphTerm, StepStats};
