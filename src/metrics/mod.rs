//! How well a model does: confusion matrix, classification report, and (with Burn)
//! evaluation of a model on a data set, also under attack.

mod confusion;
#[cfg(feature = "burn")]
mod evaluate;
mod predictions;

pub use confusion::{ClassScores, ClassificationReport, ConfusionMatrix};
#[cfg(feature = "burn")]
pub use evaluate::{accuracy_under_attack, evaluate, predict_probabilities, Attack, Evaluation};
pub use predictions::{argmax, write_predictions, FaceId, Prediction};
