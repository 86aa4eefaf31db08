//! How well a model does: confusion matrix and classification report.

mod confusion;

pub use confusion::{ClassScores, ClassificationReport, ConfusionMatrix};
