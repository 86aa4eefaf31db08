//! One run of the training loop in three steps: start (or resume), one epoch, finish.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::prelude::*;

use super::checkpoint::{self, Checkpoint, CheckpointState, DataFingerprints};
use super::config::{GraphTraining, TrainConfig};
use super::error::{io_error, TrainError};
use super::fit::{FitOutcome, RunOptions, Training};
use super::resume::resume_state;
use crate::data::{Batch, BatchConfig, Dataset, Emotion};
use crate::graph::{Graph, GraphError, NeighborTable};
use crate::metrics::{evaluate, ConfusionMatrix};
use crate::model::{images_tensor, labels_tensor, Cnn};
use crate::nsl::{train_step, GraphTerm, Neighbors};
use crate::run::events::{unix_now, Event, EventLog, Metrics};
use crate::run::tensorboard::{default_renderer, TensorBoardSink};
use crate::run::{
    hostname, timestamp_name, update_best, write_history, EpochRecord, RunDir, RunInfo, RunStatus,
};

/// A saved run's files: its folder, `run.json` as last written, and the event log.
struct SavedRun {
    dir: RunDir,
    info: RunInfo,
    log: EventLog,
}

/// Where a run's events go: the caller's observer and, for a saved run, its event log.
struct Outputs<'o> {
    observer: Box<dyn FnMut(&Event) + 'o>,
    saved: Option<SavedRun>,
}

impl Outputs<'_> {
    fn emit(&mut self, event: Event) {
        (self.observer)(&event);
        if let Some(saved) = &self.saved {
            saved.log.emit(event);
        }
    }
}

/// A run between its start and its finish: what the next epoch needs.
pub(super) struct Session<'a, 'o> {
    config: &'a TrainConfig,
    train: &'a Dataset,
    validation: Option<&'a Dataset>,
    classes: usize,
    /// Inference device (validation); `train_device` is its autodiff twin.
    device: Device,
    train_device: Device,
    optimizer: ModuleOptimizer,
    /// Everything a checkpoint keeps besides tensors.
    state: CheckpointState,
    batching: BatchConfig,
    steps_per_epoch: usize,
    global_step: usize,
    /// Each training face's graph neighbours, with graph regularization.
    neighbors: Option<NeighborTable>,
    outputs: Outputs<'o>,
    /// Set by the caller (a signal handler) to stop at the next step.
    stop: Option<Arc<AtomicBool>>,
}

impl<'a, 'o> Session<'a, 'o> {
    /// Checks the inputs, builds (or, resuming, reloads) the model and optimizer, creates
    /// the run directory of a saved run and emits `run_start`.
    pub(super) fn start(
        training: Training<'a, 'o>,
        train: &'a Dataset,
    ) -> Result<(Session<'a, 'o>, Cnn), TrainError> {
        let Training {
            config,
            validation,
            compute,
            saved,
            observer,
            stop,
            max_duration: _,
        } = training;
        config.validate()?;
        train.require_labels("training")?;
        if train.is_empty() {
            return Err(TrainError::EmptyTrainingSet);
        }
        let classes = train.classes().to_vec();
        if let Some(val) = validation {
            val.require_labels("validation")?;
            if val.is_empty() {
                return Err(TrainError::EmptyValidationSet);
            }
            if val.classes() != classes {
                let names = |classes: &[Emotion]| {
                    classes
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(TrainError::ClassMismatch {
                    train: names(&classes),
                    validation: names(val.classes()),
                });
            }
        }
        let network = config
            .model
            .resolve(classes.len())
            .map_err(|e| e.within("model"))?;
        let packed = config
            .graph
            .as_ref()
            .map(|graph| pack_neighbors(graph, train))
            .transpose()?;
        let (neighbors, graph_fingerprint) = packed.unzip();
        let device = compute.device()?;
        let train_device = device.clone().autodiff();

        let data = DataFingerprints {
            train: train.fingerprint(),
            validation: validation.map(Dataset::fingerprint),
            graph: graph_fingerprint,
        };
        let adam = AdamConfig::new().with_epsilon(config.adam_epsilon as f32);
        let (opened, resumed) = match &saved {
            Some(options) => {
                let OpenedRun { name, dir, resumed } =
                    open_run_dir(options, config, &classes, &data)?;
                (Some((name, dir)), resumed)
            }
            None => (None, None),
        };
        let resumed_from_epoch = resumed.as_ref().map(|ckpt| ckpt.state.epoch);
        let (model, optimizer, state) = match (resumed, &opened) {
            (Some(ckpt), Some((_, dir))) => {
                let path = dir.last_checkpoint();
                let model = ckpt.model(&train_device).map_err(io_error(&path))?;
                let optimizer = ckpt.optimizer(adam.init()).map_err(io_error(&path))?;
                let mut state = ckpt.state;
                state.config = config.clone();
                state.data = Some(data);
                (model, optimizer, state)
            }
            _ => {
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
                    data: Some(data),
                };
                (network.init(&train_device), adam.init(), state)
            }
        };
        // A resumed run keeps its run.json (name, start, backend) and updates the rest.
        let earlier = opened
            .as_ref()
            .filter(|_| resumed_from_epoch.is_some())
            .and_then(|(_, dir)| RunInfo::read(&dir.path).ok());
        let mut info = earlier.unwrap_or_else(|| RunInfo {
            name: opened
                .as_ref()
                .map_or("in-memory".into(), |(name, _)| name.clone()),
            config: serde_json::Value::Null,
            classes: classes.iter().map(|c| c.name().to_string()).collect(),
            backend: compute.backend.to_string(),
            device: compute.device.clone(),
            host: hostname(),
            pid: std::process::id(),
            start_time: unix_now(),
            updated_time: unix_now(),
            status: RunStatus::Running,
            data: None,
        });
        info.config = serde_json::to_value(config).expect("config serializes");
        info.pid = std::process::id();
        info.host = hostname();
        info.set_status(RunStatus::Running);
        let steps_per_epoch = train.len().div_ceil(config.batch_size);
        let start = Event::RunStart {
            name: info.name.clone(),
            model: network.name.clone(),
            classes: info.classes.clone(),
            epochs: config.epochs,
            steps_per_epoch,
            batch_size: config.batch_size,
            backend: info.backend.clone(),
            device: info.device.clone(),
            adversarial: config.adversarial.is_some(),
            graph: config.graph.is_some(),
            resumed_from_epoch,
        };
        let saved = match (opened, saved) {
            (Some((_, dir)), Some(options)) => {
                info.data = options.data_source.clone().or(info.data.take());
                info.write(&dir.path).map_err(io_error(&dir.path))?;
                write_history(&dir.history(), &state.history).map_err(io_error(&dir.history()))?;
                let tensorboard = match config.tensorboard {
                    true => Some(
                        TensorBoardSink::create(&dir.tensorboard(), unix_now(), default_renderer())
                            .map_err(io_error(&dir.tensorboard()))?,
                    ),
                    false => None,
                };
                let log = EventLog::open_with(&dir.events(), tensorboard)
                    .map_err(io_error(&dir.events()))?;
                Some(SavedRun { dir, info, log })
            }
            _ => None,
        };
        let mut outputs = Outputs { observer, saved };
        outputs.emit(start);

        let session = Session {
            config,
            train,
            validation,
            classes: classes.len(),
            device,
            train_device,
            optimizer,
            global_step: state.epoch * steps_per_epoch,
            state,
            batching: BatchConfig {
                batch_size: config.batch_size,
                shuffle: true,
                drop_last: false,
                seed: config.seed,
                augment: config.augment,
            },
            steps_per_epoch,
            neighbors,
            outputs,
            stop,
        };
        Ok((session, model))
    }

    /// Epochs completed (from the checkpoint, when resuming).
    pub(super) fn epochs_done(&self) -> usize {
        self.state.epoch
    }

    /// The configured number of epochs.
    pub(super) fn planned_epochs(&self) -> usize {
        self.config.epochs
    }

    /// Whether the caller asked the run to stop (a signal).
    fn stop_requested(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
    }

    /// The epoch after the last one completed: every step, validation, the learning-rate
    /// schedule, checkpoints of a saved run, and `epoch_end`; `Break` when a stop request
    /// abandoned it mid-way (nothing of it is kept). A failure ends the run as failed.
    pub(super) fn epoch(&mut self, model: Cnn) -> Result<ControlFlow<Cnn, Cnn>, TrainError> {
        let outcome = self.run_epoch(model);
        if let Err(error) = &outcome {
            if let TrainError::NonFinite { epoch, step, .. } = error {
                self.outputs.emit(Event::Failure {
                    epoch: *epoch,
                    step: *step,
                    message: error.to_string(),
                });
            }
            self.outputs.emit(self.run_end(RunStatus::Failed));
            if let Some(saved) = &mut self.outputs.saved {
                saved.info.set_status(RunStatus::Failed);
                let _ = saved.info.write(&saved.dir.path);
            }
        }
        outcome
    }

    /// The `run_end` event for the run as it stands.
    fn run_end(&self, status: RunStatus) -> Event {
        Event::RunEnd {
            status,
            epochs_done: self.state.epoch,
            best_epoch: self.state.best.map(|(e, _)| e),
            best_validation_accuracy: self.state.best.map(|(_, a)| a),
        }
    }

    fn run_epoch(&mut self, model: Cnn) -> Result<ControlFlow<Cnn, Cnn>, TrainError> {
        let epoch = self.state.epoch + 1;
        let config = self.config;
        let started = Instant::now();
        self.train_device.seed(epoch_seed(config.seed, epoch));
        let mut running = Running::new(self.classes);
        let mut last_report = Instant::now();
        let lr = self.state.lr;
        let mut data_wait = Duration::ZERO;
        let steps_per_epoch = self.steps_per_epoch;
        let (train_device, optimizer) = (&self.train_device, &mut self.optimizer);
        let (outputs, global_step) = (&mut self.outputs, &mut self.global_step);
        let stop = self.stop.as_deref();
        let (train, neighbors) = (self.train, self.neighbors.as_ref());
        let folded = fold_prefetched(
            self.train,
            &self.batching,
            epoch as u64,
            model,
            &mut data_wait,
            stop,
            |model, step, batch| {
                let labels = labels_tensor(&batch.labels, train_device);
                let graph = neighbors.zip(config.graph.as_ref()).map(|(table, graph)| {
                    let found = table.gather(train, &batch.indices);
                    GraphTerm {
                        config: &graph.regularization,
                        neighbors: Neighbors {
                            images: images_tensor(found.images, train_device),
                            owners: found.owners,
                            weights: found.weights,
                            slots: found.slots,
                        },
                    }
                });
                let images = images_tensor(batch.images, train_device);
                let (grads, stats) =
                    train_step(&model, images, labels, config.adversarial.as_ref(), graph);
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
                *global_step += 1;
                if step % config.log_every.max(1) == 0
                    || last_report.elapsed().as_secs_f64() >= 1.0
                    || step == steps_per_epoch
                {
                    last_report = Instant::now();
                    outputs.emit(Event::Step {
                        epoch,
                        step,
                        global_step: *global_step,
                        images: running.images,
                        metrics: running.metrics(),
                        per_class_accuracy: running.per_class(),
                        images_per_second: running.images as f64 / started.elapsed().as_secs_f64(),
                        lr,
                    });
                }
                Ok(model)
            },
        )?;
        let model = match folded {
            ControlFlow::Continue(model) => model,
            interrupted => return Ok(interrupted),
        };

        let eval = match self.validation {
            Some(val) => Some(evaluate(
                &model,
                val,
                config.validation_batch_size,
                config.adversarial.as_ref(),
                &self.device,
            )?),
            None => None,
        };
        let (per_class, confusion) = match &eval {
            Some(e) => (e.confusion.per_class_accuracy(), Some(e.confusion.clone())),
            None => (running.per_class(), None),
        };
        let record = EpochRecord {
            epoch,
            train: running.metrics(),
            validation: eval.as_ref().map(|e| e.metrics),
            lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        // The epoch counts once its checkpoint is written; until then the state can go back.
        let before = self.state.clone();
        let state = &mut self.state;
        state.history.push(record.clone());
        let improved = update_best(
            &mut state.best,
            epoch,
            &record.train,
            record.validation.as_ref(),
        );
        state.lr = config.lr_schedule.next_lr(lr, &mut state.plateau, &record);
        state.epoch = epoch;
        if let Err(error) = self.save_checkpoints(&model, improved) {
            self.state = before;
            return Err(error);
        }
        self.outputs.emit(Event::EpochEnd {
            epoch,
            train: record.train,
            validation: record.validation,
            per_class_accuracy: per_class,
            confusion: confusion.map(|c: ConfusionMatrix| c.counts),
            lr,
            seconds: record.seconds,
            data_wait_seconds: data_wait.as_secs_f64(),
        });
        Ok(ControlFlow::Continue(model))
    }

    /// A saved run's history, last checkpoint, and best checkpoint when `improved`.
    fn save_checkpoints(&mut self, model: &Cnn, improved: bool) -> Result<(), TrainError> {
        let Some(saved) = &self.outputs.saved else {
            return Ok(());
        };
        let dir = &saved.dir;
        let optimizer_bytes = self.optimizer.into_bytes().map_err(|e| TrainError::Io {
            path: dir.last_checkpoint(),
            error: std::io::Error::other(format!("{e:?}")),
        })?;
        let mut written = Vec::new();
        for (path, best) in [
            (dir.last_checkpoint(), false),
            (dir.best_checkpoint(), true),
        ] {
            if best && !improved {
                continue;
            }
            checkpoint::save(&path, &self.state, model, &optimizer_bytes)
                .map_err(io_error(&path))?;
            written.push((path, best));
        }
        // After the checkpoint: history.csv never lists an epoch that cannot be resumed from.
        write_history(&dir.history(), &self.state.history).map_err(io_error(&dir.history()))?;
        for (path, best) in written {
            self.outputs.emit(Event::Checkpoint {
                epoch: self.state.epoch,
                path: path.display().to_string(),
                best,
            });
        }
        Ok(())
    }

    /// Why the run stops after the epoch just completed, if it does: early stopping's
    /// patience is over, or another epoch (at the mean epoch time of this call, `spent`
    /// over `epochs_this_call`) would not fit in `budget`.
    pub(super) fn stop_reason(
        &self,
        spent: Duration,
        epochs_this_call: usize,
        budget: Option<Duration>,
    ) -> Option<RunStatus> {
        let epoch = self.state.epoch;
        if epoch >= self.config.epochs {
            return None;
        }
        if self.stop_requested() {
            return Some(RunStatus::Interrupted);
        }
        let patience_over = self.config.early_stopping_patience.is_some_and(|patience| {
            self.state
                .best
                .is_some_and(|(best_epoch, _)| epoch - best_epoch >= patience)
        });
        if patience_over {
            return Some(RunStatus::StoppedEarly);
        }
        let mean_epoch = spent / epochs_this_call.max(1) as u32;
        budget
            .is_some_and(|budget| spent + mean_epoch > budget)
            .then_some(RunStatus::OutOfTime)
    }

    /// Emits `run_end`, closes a saved run's log and records its final status.
    pub(super) fn finish(self, model: Cnn, status: RunStatus) -> Result<FitOutcome, TrainError> {
        let end = self.run_end(status);
        let Session {
            state, mut outputs, ..
        } = self;
        outputs.emit(end);
        let run_dir = match outputs.saved {
            Some(SavedRun { dir, mut info, log }) => {
                log.close().map_err(io_error(&dir.events()))?;
                info.set_status(status);
                info.write(&dir.path).map_err(io_error(&dir.path))?;
                Some(dir)
            }
            None => None,
        };
        Ok(FitOutcome {
            model: model.valid(),
            run_dir,
            history: state.history,
            best: state.best,
            status,
        })
    }
}

/// A saved run's folder, ready to write, and the checkpoint it resumes from.
struct OpenedRun {
    name: String,
    dir: RunDir,
    resumed: Option<Checkpoint>,
}

/// Creates the run directory of a saved run or, resuming, reads its last checkpoint and
/// checks it against the settings and the data.
fn open_run_dir(
    options: &RunOptions,
    config: &TrainConfig,
    classes: &[Emotion],
    data: &DataFingerprints,
) -> Result<OpenedRun, TrainError> {
    let root = &options.root;
    std::fs::create_dir_all(root).map_err(io_error(root))?;
    let Some(name) = &options.name else {
        if options.resume {
            return Err(TrainError::BadRunName {
                name: String::new(),
                reason: "must be given to resume a run",
            });
        }
        let (name, dir) = claim_fresh_name(root)?;
        std::fs::create_dir_all(dir.checkpoints()).map_err(io_error(&dir.path))?;
        return Ok(OpenedRun {
            name,
            dir,
            resumed: None,
        });
    };
    check_run_name(name)?;
    let dir = RunDir::new(root, name);
    let resumed = if options.resume {
        resume_state(&dir, config, classes, data)?
    } else if dir.info().exists() {
        return Err(TrainError::RunExists {
            name: name.clone(),
            root: root.clone(),
        });
    } else {
        let foreign = std::fs::read_dir(&dir.path).is_ok_and(|mut files| files.next().is_some());
        if foreign {
            return Err(TrainError::ForeignFolder { path: dir.path });
        }
        None
    };
    std::fs::create_dir_all(dir.checkpoints()).map_err(io_error(&dir.path))?;
    Ok(OpenedRun {
        name: name.clone(),
        dir,
        resumed,
    })
}

/// A timestamp name no other run holds, claimed by creating its folder (atomically, so two
/// runs started in the same second get two names: `run-...` and `run-...-2`).
fn claim_fresh_name(root: &Path) -> Result<(String, RunDir), TrainError> {
    let base = timestamp_name();
    let mut name = base.clone();
    for n in 2.. {
        let dir = RunDir::new(root, &name);
        match std::fs::create_dir(&dir.path) {
            Ok(()) => return Ok((name, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => name = format!("{base}-{n}"),
            Err(e) => return Err(io_error(&dir.path)(e)),
        }
    }
    Err(io_error(root)(std::io::Error::other("no free run name")))
}

/// A run name is one folder name: not empty, no separators, not `.` or `..`.
fn check_run_name(name: &str) -> Result<(), TrainError> {
    let reason = if name.is_empty() {
        "is empty"
    } else if name.contains(['/', '\\']) {
        "must be one folder name, without / or \\"
    } else if name == "." || name == ".." {
        "must not be . or .."
    } else if name.contains('\0') {
        "contains a NUL byte"
    } else if name.len() > 255 {
        "is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(TrainError::BadRunName {
        name: name.to_string(),
        reason,
    })
}

/// Running means and per-class counts over the steps of an epoch.
#[derive(Default)]
struct Running {
    images: usize,
    ce: f64,
    adv: f64,
    graph: f64,
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
        self.graph += stats.scaled_graph_loss * n as f64;
        for (&t, &p) in labels.iter().zip(&stats.predictions) {
            self.seen[t as usize] += 1;
            self.correct[t as usize] += usize::from(t == p);
        }
    }

    fn metrics(&self) -> Metrics {
        let n = self.images.max(1) as f64;
        let correct: usize = self.correct.iter().sum();
        Metrics {
            loss: (self.ce + self.adv + self.graph) / n,
            categorical_crossentropy: self.ce / n,
            categorical_accuracy: correct as f64 / n,
            scaled_adversarial_loss: self.adv / n,
            scaled_graph_loss: self.graph / n,
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

/// Reads the run's graph and chooses each training face's neighbours (NSL's `pack_nbrs`);
/// with the graph's fingerprint, which a resumed run must match.
fn pack_neighbors(
    graph: &GraphTraining,
    train: &Dataset,
) -> Result<(NeighborTable, u32), TrainError> {
    let edges = Graph::read_tsv(&graph.file)?;
    let fingerprint = edges.fingerprint();
    let edges = if graph.add_undirected_edges {
        edges.undirected()
    } else {
        edges
    };
    let table = NeighborTable::pack(&edges, train, graph.regularization.max_neighbors);
    if table.degree_counts()[0] == table.len() {
        return Err(GraphError::Invalid(format!(
            "{}: no training face has a neighbour among the training faces ({} edges; ids \
             must be 0-based data rows of the data file the run trains on)",
            graph.file.display(),
            edges.len()
        ))
        .into());
    }
    Ok((table, fingerprint))
}

/// Mixes the run seed with an epoch, for per-epoch dropout streams.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    crate::data::splitmix64(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Threads `state` through `step` for every batch of an epoch (until `stop` is set) while the next batches are
/// prepared on another thread, so the loop need not wait on batching or augmentation; adds
/// the time it did wait to `waited`. Steps count from 1.
fn fold_prefetched<S, F>(
    dataset: &Dataset,
    config: &BatchConfig,
    epoch: u64,
    state: S,
    waited: &mut Duration,
    stop: Option<&AtomicBool>,
    mut step: F,
) -> Result<ControlFlow<S, S>, TrainError>
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
            if stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                return Ok(ControlFlow::Break(state));
            }
            let asked = Instant::now();
            let Ok(batch) = receiver.recv() else { break };
            *waited += asked.elapsed();
            state = step(state, index, batch)?;
        }
        Ok(ControlFlow::Continue(state))
    })
}
