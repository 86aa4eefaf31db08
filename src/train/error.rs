//! Why a run could not start or did not finish.

use std::path::{Path, PathBuf};

use super::device::ComputeError;
use crate::data::DataError;
use crate::ConfigError;

/// Why a run could not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Compute(#[from] ComputeError),
    #[error("the training set is empty")]
    EmptyTrainingSet,
    /// Validation must score the classes the model learns, in the same order.
    #[error(
        "the validation set's classes ({validation}) differ from the training set's ({train})"
    )]
    ClassMismatch { train: String, validation: String },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    #[error("{path}: {error}", path = path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("run '{name}' already exists in {root}", root = root.display())]
    RunExists { name: String, root: PathBuf },
    #[error("cannot resume {run}: there is no such run (no run.json)", run = run.display())]
    NothingToResume { run: PathBuf },
    /// A run name is one folder name inside the runs folder.
    #[error("run name {name:?} {reason}")]
    BadRunName { name: String, reason: &'static str },
    /// The run's folder exists and holds files that are not a run's.
    #[error("{path} exists and is not a fer run (no run.json): refusing to write into it", path = path.display())]
    ForeignFolder { path: PathBuf },
    #[error("the validation set is empty")]
    EmptyValidationSet,
    /// A resumed run may change `epochs` and `validation_batch_size` only.
    #[error("cannot resume: {field} differs from the run's (run: {saved}, now: {given}); only epochs and validation_batch_size may change")]
    ResumeMismatch {
        field: String,
        saved: String,
        given: String,
    },
    #[error("epoch {epoch}, step {step}: the loss is {loss} (not finite); stopped. The last good checkpoint is kept")]
    NonFinite {
        epoch: usize,
        step: usize,
        loss: f64,
    },
}

/// Maps an I/O error on `path` to [`TrainError::Io`].
pub(super) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}
