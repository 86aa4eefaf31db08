//! The training loop: epochs of (adversarial) steps, validation, checkpoints, events.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::AdamConfig;

use super::checkpoint::{self, Checkpoint, CheckpointState};
use super::config::{LrSchedule, TrainConfig};
use super::device::Compute;
use super::tensors::{images_tensor, labels_tensor};
use crate::data::{Batch, BatchConfig, DataError, Dataset, Emotion};
use crate::metrics::{evaluate, ConfusionMatrix};
use crate::model::Cnn;
use crate::nsl::train_step;
use crate::run::events::{unix_now, Event, EventLog, Metrics};
use crate::run::{
    hostname, timestamp_name, update_best, write_history, EpochRecord, RunDir, RunInfo, RunStatus,
};

/// Why a run could not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("run '{name}' already exists in {root}", root = root.display())]
    RunExists { name: String, root: PathBuf },
    #[error("cannot resume {run}: it has no checkpoint yet (no epoch finished)", run = run.display())]
    NothingToResume { run: PathBuf },
    /// A resumed run may change `epochs` only.
    #[error("cannot resume: {field} differs from the run's (run: {saved}, now: {given}); only epochs may change")]
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

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where the run goes and what it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Folder holding run directories (`runs`).
    pub root: PathBuf,
    /// Run name; a timestamp when `None`.
    pub name: Option<String>,
    /// Continue the named run from its last checkpoint.
    pub resume: bool,
    pub compute: Compute,
    /// Time budget of this call: stop at the first epoch end after which another epoch
    /// (at the mean epoch time so far) would not fit; the run is marked `out_of_time` and
    /// `--resume` continues it.
    pub max_duration: Option<Duration>,
    /// The data's name for `run.json` (a path or `synthetic:N`), so reports can find it.
    pub data_source: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            root: PathBuf::from(crate::run::DEFAULT_ROOT),
            name: None,
            resume: false,
            compute: Compute::default(),
            max_duration: None,
            data_source: None,
        }
    }
}

/// What [`fit`] leaves: the trained model (inference mode) and the run's record.
#[derive(Debug)]
pub struct FitOutcome {
    pub model: Cnn,
    pub run_dir: RunDir,
    pub history: Vec<EpochRecord>,
    /// Epoch and accuracy of the best validation (or training, without validation) epoch.
    pub best: Option<(usize, f64)>,
    pub status: RunStatus,
}

/// Running means and per-class counts over the steps of an epoch.
#[derive(Default)]
struct Running {
    images: usize,
    ce: f64,
    adv: f64,
    correct: Vec<usize>,
    seen: Vec<usize>,
}

impl Running {
    fn new(classes: usize) -> Running {
        Running {
            correct: vec![0; classes],
            seen: vec![0; classes],
            ..Default::default()
        }
    }

    fn add(&mut self, labels: &[u8], stats: &crate::nsl::StepStats) {
        let n = labels.len();
        self.images += n;
        self.ce += stats.cross_entropy * n as f64;
        self.adv += stats.scaled_adversarial_loss * n as f64;
        for (&t, &p) in labels.iter().zip(&stats.predictions) {
            self.seen[t as usize] += 1;
            self.correct[t as usize] += usize::from(t == p);
        }
    }

    fn metrics(&self) -> Metrics {
        let n = self.images.max(1) as f64;
        let correct: usize = self.correct.iter().sum();
        Metrics {
            loss: (self.ce + self.adv) / n,
            categorical_crossentropy: self.ce / n,
            categorical_accuracy: correct as f64 / n,
            scaled_adversarial_loss: self.adv / n,
        }
    }

    fn per_class(&self) -> Vec<Option<f64>> {
        self.correct
            .iter()
            .zip(&self.seen)
            .map(|(&c, &s)| (s > 0).then(|| c as f64 / s as f64))
            .collect()
    }
}

/// Mixes the run seed with an epoch, for per-epoch dropout streams.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    crate::data::splitmix64(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Trains a network on `train`, validating on `validation` after every epoch.
///
/// Writes `options.root/<name>/` as it goes (see [`crate::run`]) and calls `observer` with
/// every event it logs, so callers can draw progress. With `options.resume` it continues
/// the named run from `checkpoints/last.ckpt`: same configuration (more epochs allowed),
/// same data order and dropout streams, so the result equals an uninterrupted run.
pub fn fit(
    config: &TrainConfig,
    train: &Dataset,
    validation: Option<&Dataset>,
    options: &RunOptions,
    observer: &mut dyn FnMut(&Event),
) -> Result<FitOutcome, TrainError> {
    config.validate().map_err(TrainError::Config)?;
    train.require_labels("training")?;
    if train.is_empty() {
        return Err(TrainError::Config("the training set is empty".into()));
    }
    let classes = train.classes().to_vec();
    if let Some(val) = validation {
        val.require_labels("validation")?;
        if val.classes() != classes {
            return Err(TrainError::Config(
                "validation and training sets have different classes".into(),
            ));
        }
    }
    let network = config
        .model
        .resolve(classes.len())
        .map_err(TrainError::Config)?;
    let device = options.compute.device().map_err(TrainError::Config)?;
    let train_device = device.clone().autodiff();

    let name = options.name.clone().unwrap_or_else(timestamp_name);
    let run_dir = RunDir::new(&options.root, &name);
    let resumed = if options.resume {
        Some(resume_state(&run_dir, config, &classes)?)
    } else {
        if run_dir.info().exists() {
            return Err(TrainError::RunExists {
                name,
                root: options.root.clone(),
            });
        }
        None
    };
    std::fs::create_dir_all(run_dir.checkpoints()).map_err(io_error(&run_dir.path))?;

    let adam = AdamConfig::new().with_epsilon(config.adam_epsilon as f32);
    let (mut model, mut optimizer, mut state) = match resumed {
        Some(ckpt) => {
            let model = ckpt
                .model(&train_device)
                .map_err(io_error(&run_dir.last_checkpoint()))?;
            let optimizer = ckpt
                .optimizer(adam.init())
                .map_err(io_error(&run_dir.last_checkpoint()))?;
            let mut state = ckpt.state;
            state.config = config.clone();
            (model, optimizer, state)
        }
        None => {
            train_device.seed(config.seed);
            let state = CheckpointState {
                epoch: 0,
                config: config.clone(),
                network: network.clone(),
                classes: classes.clone(),
                lr: config.learning_rate,
                best: None,
                plateau: None,
                history: Vec::new(),
            };
            (network.init(&train_device), adam.init(), state)
        }
    };

    let mut info = match (options.resume, RunInfo::read(&run_dir.path)) {
        (true, Ok(info)) => info,
        _ => RunInfo {
            name: name.clone(),
            config: serde_json::to_value(config).expect("config serializes"),
            classes: classes.iter().map(|c| c.name().to_string()).collect(),
            backend: options.compute.backend.to_string(),
            device: options.compute.device.clone(),
            host: hostname(),
            pid: std::process::id(),
            start_time: unix_now(),
            updated_time: unix_now(),
            status: RunStatus::Running,
            data: None,
        },
    };
    info.data = options.data_source.clone().or(info.data.take());
    info.config = serde_json::to_value(config).expect("config serializes");
    info.pid = std::process::id();
    info.host = hostname();
    info.set_status(RunStatus::Running);
    info.write(&run_dir.path).map_err(io_error(&run_dir.path))?;
    write_history(&run_dir.history(), &state.history).map_err(io_error(&run_dir.history()))?;

    let log = EventLog::open(&run_dir.events()).map_err(io_error(&run_dir.events()))?;
    let mut emit = |event: Event| {
        observer(&event);
        log.emit(event);
    };
    let batching = BatchConfig {
        batch_size: config.batch_size,
        shuffle: true,
        drop_last: false,
        seed: config.seed,
        augment: config.augment,
    };
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    emit(Event::RunStart {
        name: name.clone(),
        model: network.name.clone(),
        classes: info.classes.clone(),
        epochs: config.epochs,
        steps_per_epoch,
        batch_size: config.batch_size,
        backend: info.backend.clone(),
        device: info.device.clone(),
        adversarial: config.adversarial.is_some(),
        resumed_from_epoch: options.resume.then_some(state.epoch),
    });

    let mut status = RunStatus::Finished;
    let mut global_step = state.epoch * steps_per_epoch;
    let call_started = Instant::now();
    let first_epoch = state.epoch + 1;
    for epoch in first_epoch..=config.epochs {
        let started = Instant::now();
        train_device.seed(epoch_seed(config.seed, epoch));
        let mut running = Running::new(classes.len());
        let mut last_report = Instant::now();
        let lr = state.lr;
        let mut data_wait = Duration::ZERO;
        let outcome = fold_prefetched(
            train,
            &batching,
            epoch as u64,
            model,
            &mut data_wait,
            |model, step, batch| {
                let labels = labels_tensor(&batch.labels, &train_device);
                let images = images_tensor(batch.images, &train_device);
                let (grads, stats) =
                    train_step(&model, images, labels, config.adversarial.as_ref());
                if !stats.loss().is_finite() {
                    return Err(TrainError::NonFinite {
                        epoch,
                        step,
                        loss: stats.loss(),
                    });
                }
                // The model moves through the optimizer: no second owner, so no parameter copies.
                let model = optimizer.step(lr, model, grads);
                running.add(&batch.labels, &stats);
                global_step += 1;
                if step % config.log_every.max(1) == 0
                    || last_report.elapsed().as_secs_f64() >= 1.0
                    || step == steps_per_epoch
                {
                    last_report = Instant::now();
                    emit(Event::Step {
                        epoch,
                        step,
                        global_step,
                        images: running.images,
                        metrics: running.metrics(),
                        per_class_accuracy: running.per_class(),
                        images_per_second: running.images as f64 / started.elapsed().as_secs_f64(),
                        lr,
                    });
                }
                Ok(model)
            },
        );
        model = match outcome {
            Ok(model) => model,
            Err(error) => {
                if let TrainError::NonFinite { epoch, step, .. } = &error {
                    emit(Event::Failure {
                        epoch: *epoch,
                        step: *step,
                        message: error.to_string(),
                    });
                }
                info.set_status(RunStatus::Failed);
                let _ = info.write(&run_dir.path);
                return Err(error);
            }
        };

        let train_metrics = running.metrics();
        let eval = match validation {
            Some(val) => Some(evaluate(
                &model.valid(),
                val,
                config.batch_size.max(64),
                config.adversarial.as_ref(),
                &device,
            )?),
            None => None,
        };
        let (per_class, confusion) = match &eval {
            Some(e) => (e.confusion.per_class_accuracy(), Some(e.confusion.clone())),
            None => (running.per_class(), None),
        };
        let record = EpochRecord {
            epoch,
            train: train_metrics,
            validation: eval.as_ref().map(|e| e.metrics),
            lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        state.history.push(record.clone());
        let improved = update_best(
            &mut state.best,
            epoch,
            &record.train,
            record.validation.as_ref(),
        );
        state.lr = next_lr(&config.lr_schedule, lr, &mut state.plateau, &record);
        state.epoch = epoch;

        write_history(&run_dir.history(), &state.history).map_err(io_error(&run_dir.history()))?;
        let optimizer_bytes = optimizer.into_bytes().map_err(|e| TrainError::Io {
            path: run_dir.last_checkpoint(),
            source: std::io::Error::other(format!("{e:?}")),
        })?;
        for (path, best) in [
            (run_dir.last_checkpoint(), false),
            (run_dir.best_checkpoint(), true),
        ] {
            if best && !improved {
                continue;
            }
            checkpoint::save(&path, &state, &model, &optimizer_bytes).map_err(io_error(&path))?;
            emit(Event::Checkpoint {
                epoch,
                path: path.display().to_string(),
                best,
            });
        }
        emit(Event::EpochEnd {
            epoch,
            train: record.train,
            validation: record.validation,
            per_class_accuracy: per_class,
            confusion: confusion.map(|c: ConfusionMatrix| c.counts),
            lr,
            seconds: record.seconds,
            data_wait_seconds: data_wait.as_secs_f64(),
        });
        let patience_over = config.early_stopping_patience.is_some_and(|patience| {
            state
                .best
                .is_some_and(|(best_epoch, _)| epoch - best_epoch >= patience)
        });
        if patience_over && epoch < config.epochs {
            status = RunStatus::StoppedEarly;
            break;
        }
        let spent = call_started.elapsed();
        let mean_epoch = spent / (epoch + 1 - first_epoch) as u32;
        if options
            .max_duration
            .is_some_and(|budget| spent + mean_epoch > budget)
            && epoch < config.epochs
        {
            status = RunStatus::OutOfTime;
            break;
        }
    }

    emit(Event::RunEnd {
        status,
        epochs_done: state.epoch,
        best_epoch: state.best.map(|(e, _)| e),
        best_validation_accuracy: state.best.map(|(_, a)| a),
    });
    log.close().map_err(io_error(&run_dir.events()))?;
    info.set_status(status);
    info.write(&run_dir.path).map_err(io_error(&run_dir.path))?;
    Ok(FitOutcome {
        model: model.valid(),
        run_dir,
        history: state.history,
        best: state.best,
        status,
    })
}

/// Reads the last checkpoint of a run to resume, checking it fits the given settings.
fn resume_state(
    run_dir: &RunDir,
    config: &TrainConfig,
    classes: &[Emotion],
) -> Result<Checkpoint, TrainError> {
    let path = run_dir.last_checkpoint();
    if !path.exists() {
        return Err(TrainError::NothingToResume {
            run: run_dir.path.clone(),
        });
    }
    let ckpt = Checkpoint::read(&path).map_err(io_error(&path))?;
    let saved = TrainConfig {
        epochs: config.epochs,
        ..ckpt.state.config.clone()
    };
    if let Some((field, saved, given)) = first_difference(&saved, config) {
        return Err(TrainError::ResumeMismatch {
            field,
            saved,
            given,
        });
    }
    if ckpt.state.classes != classes {
        let names = |c: &[Emotion]| c.iter().map(|e| e.name()).collect::<Vec<_>>().join(",");
        return Err(TrainError::ResumeMismatch {
            field: "classes of the data".into(),
            saved: names(&ckpt.state.classes),
            given: names(classes),
        });
    }
    Ok(ckpt)
}

/// The first setting (in TOML's dotted names) where two configurations differ, with both
/// values as JSON.
fn first_difference(a: &TrainConfig, b: &TrainConfig) -> Option<(String, String, String)> {
    fn walk(
        path: &str,
        a: &serde_json::Value,
        b: &serde_json::Value,
    ) -> Option<(String, String, String)> {
        use serde_json::Value::Object;
        match (a, b) {
            (Object(x), Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().find_map(|key| {
                    let null = serde_json::Value::Null;
                    let inner = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(
                        &inner,
                        x.get(key).unwrap_or(&null),
                        y.get(key).unwrap_or(&null),
                    )
                })
            }
            _ if a != b => Some((path.to_string(), a.to_string(), b.to_string())),
            _ => None,
        }
    }
    let json = |c: &TrainConfig| serde_json::to_value(c).expect("configurations serialize");
    walk("", &json(a), &json(b))
}

/// The learning rate for the epoch after `record`.
fn next_lr(
    schedule: &LrSchedule,
    lr: f64,
    plateau: &mut Option<(f64, usize)>,
    record: &EpochRecord,
) -> f64 {
    match *schedule {
        LrSchedule::Constant => lr,
        LrSchedule::Exponential { gamma } => lr * gamma,
        LrSchedule::ReduceOnPlateau {
            factor,
            patience,
            min_lr,
        } => {
            let loss = record.validation.unwrap_or(record.train).loss;
            match plateau {
                Some((best, waited)) if loss >= *best => {
                    *waited += 1;
                    if *waited >= patience {
                        *waited = 0;
                        return (lr * factor).max(min_lr);
                    }
                    lr
                }
                _ => {
                    *plateau = Some((loss, 0));
                    lr
                }
            }
        }
    }
}

/// Threads `state` through `step` for every batch of an epoch while the next batches are
/// prepared on another thread, so the loop need not wait on batching or augmentation; adds
/// the time it did wait to `waited`. Steps count from 1.
fn fold_prefetched<S, F>(
    dataset: &Dataset,
    config: &BatchConfig,
    epoch: u64,
    state: S,
    waited: &mut Duration,
    mut step: F,
) -> Result<S, TrainError>
where
    F: FnMut(S, usize, Batch) -> Result<S, TrainError>,
{
    let batches = dataset.batches(config, epoch)?;
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<Batch>(2);
        scope.spawn(move || {
            for batch in batches {
                if sender.send(batch).is_err() {
                    return;
                }
            }
        });
        let mut state = state;
        for index in 1.. {
            let asked = Instant::now();
            let Ok(batch) = receiver.recv() else { break };
            *waited += asked.elapsed();
            state = step(state, index, batch)?;
        }
        Ok(state)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(loss: f64) -> EpochRecord {
        let m = Metrics {
            loss,
            ..Default::default()
        };
        EpochRecord {
            epoch: 1,
            train: m,
            validation: Some(m),
            lr: 0.1,
            seconds: 1.0,
        }
    }

    #[test]
    fn reduce_on_plateau_waits_for_patience() {
        let schedule = LrSchedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 1,
            min_lr: 0.03,
        };
        let mut plateau = None;
        let mut lr = 0.1;
        let mut rates = Vec::new();
        for loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.99, 1.0, 1.1] {
            lr = next_lr(&schedule, lr, &mut plateau, &record(loss));
            rates.push(lr);
        }
        assert_eq!(rates, [0.1, 0.1, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03]);
        let mut none = None;
        assert_eq!(
            next_lr(
                &LrSchedule::Exponential { gamma: 0.5 },
                0.1,
                &mut none,
                &record(1.0)
            ),
            0.05
        );
    }
}
