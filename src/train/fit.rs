//! Training a network: [`Training`] gathers the settings (defaults for all but the
//! configuration), [`Training::fit`] runs the epochs.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::TrainConfig;
use super::device::Compute;
use super::error::TrainError;
use super::session::Session;
use crate::data::Dataset;
use crate::model::Cnn;
use crate::run::events::Event;
use crate::run::{EpochRecord, RunDir, RunStatus};

/// A training run, set up step by step. By default it runs in memory (no files), on the
/// pure-Rust CPU backend, without validation and without a callback.
///
/// A run is reproducible from its configuration's seed (weights, batch order, dropout,
/// augmentation) as long as no other run trains in the same process at the same time:
/// Burn's random generator is one per process, and runs in parallel threads draw from it
/// in turns.
///
/// ```
/// use fer::data::synth::{synthesize, SynthConfig};
/// use fer::train::{ModelChoice, TrainConfig, Training};
/// let faces = synthesize(&SynthConfig { n: 40, seed: 1, ..Default::default() })?;
/// let config = TrainConfig {
///     model: ModelChoice::Preset { preset: "tiny".into() },
///     epochs: 1,
///     batch_size: 20,
///     ..Default::default()
/// };
/// let mut epochs = 0;
/// let outcome = Training::new(&config)
///     .validate_on(&faces)
///     .on_event(|event| epochs += matches!(event, fer::run::events::Event::EpochEnd { .. }) as usize)
///     .fit(&faces)?;
/// assert_eq!(outcome.history.len(), 1);
/// assert!(outcome.run_dir.is_none(), "in memory");
/// assert_eq!(epochs, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Training<'a, 'o> {
    pub(super) config: &'a TrainConfig,
    pub(super) validation: Option<&'a Dataset>,
    pub(super) compute: Compute,
    pub(super) max_duration: Option<Duration>,
    pub(super) saved: Option<RunOptions>,
    pub(super) observer: Box<dyn FnMut(&Event) + 'o>,
    pub(super) stop: Option<Arc<AtomicBool>>,
}

/// Where a saved run goes (see [`Training::save`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Folder holding run directories (`runs`).
    pub root: PathBuf,
    /// Run name; a timestamp when `None`.
    pub name: Option<String>,
    /// Continue the named run from its last checkpoint.
    pub resume: bool,
    /// The data's name for `run.json` (a path or `synthetic:N`), so reports can find it.
    pub data_source: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            root: PathBuf::from(crate::run::DEFAULT_ROOT),
            name: None,
            resume: false,
            data_source: None,
        }
    }
}

/// What [`Training::fit`] leaves: the trained model (inference mode) and the run's record.
#[derive(Debug)]
pub struct FitOutcome {
    pub model: Cnn,
    /// The run directory of a saved run.
    pub run_dir: Option<RunDir>,
    pub history: Vec<EpochRecord>,
    /// Epoch and accuracy of the best validation (or training, without validation) epoch.
    pub best: Option<(usize, f64)>,
    pub status: RunStatus,
}

impl<'a, 'o> Training<'a, 'o> {
    /// A run of `config`, in memory, on the CPU.
    pub fn new(config: &'a TrainConfig) -> Self {
        Training {
            config,
            validation: None,
            compute: Compute::default(),
            max_duration: None,
            saved: None,
            observer: Box::new(|_| {}),
            stop: None,
        }
    }

    /// Scores the model on `validation` after every epoch (the best epoch, early stopping
    /// and ReduceOnPlateau then follow validation rather than training).
    pub fn validate_on(mut self, validation: &'a Dataset) -> Self {
        self.validation = Some(validation);
        self
    }

    /// Calls `observer` with every event of the run, as `events.jsonl` records them.
    pub fn on_event(mut self, observer: impl FnMut(&Event) + 'o) -> Self {
        self.observer = Box::new(observer);
        self
    }

    /// Runs on this backend and device.
    pub fn compute(mut self, compute: Compute) -> Self {
        self.compute = compute;
        self
    }

    /// Stops at the first epoch end after which another epoch (at this call's mean epoch
    /// time) would not fit in `budget`; the run is marked `out_of_time`, and a saved run
    /// can be resumed.
    pub fn max_duration(mut self, budget: Option<Duration>) -> Self {
        self.max_duration = budget;
        self
    }

    /// Stops at the next step once `stop` is set (a signal handler's flag): the epoch in
    /// progress is dropped, the run ends `interrupted` with its last checkpoint kept, and
    /// [`fit`](Training::fit) returns the model as it was at that step.
    pub fn interrupt_on(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Writes the run directory `options.root/<name>/` as it goes (see [`crate::run`]):
    /// `run.json`, `events.jsonl`, `history.csv` and checkpoints. With `options.resume` it
    /// continues the named run from its last checkpoint: same configuration (more epochs
    /// allowed), same data order and dropout streams, so the result equals an
    /// uninterrupted run.
    pub fn save(mut self, options: RunOptions) -> Self {
        self.saved = Some(options);
        self
    }

    /// Trains on `train` until the configured epochs are done, early stopping ends the
    /// run, or the time budget is spent.
    pub fn fit(self, train: &'a Dataset) -> Result<FitOutcome, TrainError> {
        let budget = self.max_duration;
        let (mut session, mut model) = Session::start(self, train)?;
        let first_epoch = session.epochs_done();
        let started = Instant::now();
        let mut status = RunStatus::Finished;
        for _ in first_epoch..session.planned_epochs() {
            // A stop request ends the epoch at its next step (Break), before its first one
            // included; between epochs `stop_reason` sees it.
            model = match session.epoch(model)? {
                ControlFlow::Continue(model) => model,
                ControlFlow::Break(model) => return session.finish(model, RunStatus::Interrupted),
            };
            let epochs_this_call = session.epochs_done() - first_epoch;
            if let Some(stop) = session.stop_reason(started.elapsed(), epochs_this_call, budget) {
                status = stop;
                break;
            }
        }
        session.finish(model, status)
    }
}
