//! Backend kernels of the study's network: the operations [`Cnn`](crate::model::Cnn) runs,
//! as Burn backend extensions with their own backward passes where Burn's were slow.
//!
//! Each kernel equals Burn's composition of the same operation (the unit tests compare
//! values and gradients), so the network means the same on every backend; only the speed
//! differs. Public for backend-equivalence tests and benchmarks; the README's speed section
//! has the figures.

mod activation;
mod conv;
mod dropout;
#[cfg(feature = "tch")]
mod libtorch_shim;
mod norm_elu;
#[cfg(test)]
mod testing;
pub mod weight_gradient;

pub use activation::elu;
pub use conv::{conv2d, ConvBackend};
pub use dropout::{dropout, DropoutBackend};
pub use norm_elu::{batch_norm_elu, NormEluBackend};
