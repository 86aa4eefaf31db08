//! What the dashboard knows about one run, rebuilt from its `run.json` and events.

use fer::run::events::{Event, Metrics, Record};
use fer::run::{update_best, RunInfo, RunStatus};

use crate::series::Series;

/// Points kept per chart series.
const SERIES_CAPACITY: usize = 2000;

/// Where a run stands, as the dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing read yet.
    Waiting,
    Running,
    Finished,
    StoppedEarly,
    /// Stopped at an epoch end when its time budget was spent; resumable.
    OutOfTime,
    /// Stopped by a signal; resumable.
    Interrupted,
    Failed,
    /// `run.json` says running but the process is gone and no end was logged.
    Stale,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::Finished => "finished",
            Status::StoppedEarly => "stopped early",
            Status::OutOfTime => "out of time",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
            Status::Stale => "stale",
        }
    }

    /// Still expected to produce events.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Waiting)
    }
}

/// Train and validation curves of one metric, per epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochCurves {
    pub train: Series,
    pub validation: Series,
}

impl EpochCurves {
    fn new() -> EpochCurves {
        EpochCurves {
            train: Series::new(SERIES_CAPACITY),
            validation: Series::new(SERIES_CAPACITY),
        }
    }

    fn push(&mut self, epoch: usize, train: f64, validation: Option<f64>) {
        self.train.push(epoch as f64, train);
        if let Some(v) = validation {
            self.validation.push(epoch as f64, v);
        }
    }

    fn truncate_after(&mut self, epoch: usize) {
        self.train.truncate_after(epoch as f64);
        self.validation.truncate_after(epoch as f64);
    }
}

/// The dashboard's model of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub name: String,
    pub model: String,
    pub classes: Vec<String>,
    pub backend: String,
    pub device: String,
    pub adversarial: bool,
    /// The run has graph regularization (NSL's graph half).
    pub graph: bool,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub batch_size: usize,
    pub status: Status,
    pub epoch: usize,
    pub step: usize,
    pub global_step: usize,
    pub images_per_second: f64,
    pub lr: f64,
    /// Unix time of the first start, and of the latest event.
    pub started: Option<f64>,
    pub last_event: Option<f64>,
    /// Running means of the current epoch, by global step.
    pub loss: Series,
    pub cross_entropy: Series,
    pub adversarial_loss: Series,
    pub graph_loss: Series,
    pub accuracy: Series,
    /// Learning rate and images per second, by global step.
    pub learning_rate: Series,
    pub throughput: Series,
    pub epoch_loss: EpochCurves,
    pub epoch_adversarial: EpochCurves,
    pub epoch_accuracy: EpochCurves,
    pub epoch_seconds: Vec<f64>,
    /// Running accuracy per class in the current epoch.
    pub train_per_class: Vec<Option<f64>>,
    /// Per-class accuracy of the latest validation.
    pub validation_per_class: Vec<Option<f64>>,
    pub confusion: Option<Vec<Vec<u64>>>,
    pub last_validation: Option<Metrics>,
    pub best: Option<(usize, f64)>,
    pub failure: Option<String>,
    pub resumes: usize,
    pub events: usize,
    /// The run's settings as `run.json` has them (configuration, data, host).
    pub settings: Vec<(String, String)>,
}

impl RunView {
    pub fn new(name: &str) -> RunView {
        let series = || Series::new(SERIES_CAPACITY);
        RunView {
            name: name.to_string(),
            model: String::new(),
            classes: Vec::new(),
            backend: String::new(),
            device: String::new(),
            adversarial: false,
            graph: false,
            epochs: 0,
            steps_per_epoch: 0,
            batch_size: 0,
            status: Status::Waiting,
            epoch: 0,
            step: 0,
            global_step: 0,
            images_per_second: 0.0,
            lr: 0.0,
            started: None,
            last_event: None,
            loss: series(),
            cross_entropy: series(),
            adversarial_loss: series(),
            graph_loss: series(),
            learning_rate: series(),
            throughput: series(),
            accuracy: series(),
            epoch_loss: EpochCurves::new(),
            epoch_adversarial: EpochCurves::new(),
            epoch_accuracy: EpochCurves::new(),
            epoch_seconds: Vec::new(),
            train_per_class: Vec::new(),
            validation_per_class: Vec::new(),
            confusion: None,
            last_validation: None,
            best: None,
            failure: None,
            resumes: 0,
            events: 0,
            settings: Vec::new(),
        }
    }

    /// Takes in what `run.json` says; `process_alive` tells whether its pid still runs
    /// (`None` when that cannot be known, for example on another host).
    pub fn apply_info(&mut self, info: &RunInfo, process_alive: Option<bool>) {
        self.name.clone_from(&info.name);
        self.settings = settings(info);
        if self.classes.is_empty() {
            self.classes.clone_from(&info.classes);
        }
        if self.backend.is_empty() {
            self.backend.clone_from(&info.backend);
            self.device.clone_from(&info.device);
        }
        self.started.get_or_insert(info.start_time);
        self.status = match info.status {
            RunStatus::Running => match self.status {
                Status::Finished
                | Status::StoppedEarly
                | Status::OutOfTime
                | Status::Interrupted
                | Status::Failed => self.status,
                _ if process_alive == Some(false) => Status::Stale,
                _ => Status::Running,
            },
            RunStatus::Finished => Status::Finished,
            RunStatus::StoppedEarly => Status::StoppedEarly,
            RunStatus::OutOfTime => Status::OutOfTime,
            RunStatus::Interrupted => Status::Interrupted,
            RunStatus::Failed => Status::Failed,
        };
    }

    /// Updates the view with one logged event.
    pub fn apply(&mut self, record: &Record) {
        self.events += 1;
        self.last_event = Some(record.time);
        match &record.event {
            Event::RunStart {
                model,
                classes,
                epochs,
                steps_per_epoch,
                batch_size,
                backend,
                device,
                adversarial,
                graph,
                resumed_from_epoch,
                ..
            } => {
                self.model.clone_from(model);
                self.classes.clone_from(classes);
                self.epochs = *epochs;
                self.steps_per_epoch = *steps_per_epoch;
                self.batch_size = *batch_size;
                self.backend.clone_from(backend);
                self.device.clone_from(device);
                self.adversarial = *adversarial;
                self.graph = *graph;
                self.started.get_or_insert(record.time);
                self.status = Status::Running;
                self.failure = None;
                if let Some(epoch) = resumed_from_epoch {
                    self.resumes += 1;
                    self.forget_after(*epoch);
                }
            }
            Event::Step {
                epoch,
                step,
                global_step,
                metrics,
                per_class_accuracy,
                images_per_second,
                lr,
                ..
            } => {
                self.epoch = *epoch;
                self.step = *step;
                self.global_step = *global_step;
                self.images_per_second = *images_per_second;
                self.lr = *lr;
                let x = *global_step as f64;
                self.loss.push(x, metrics.loss);
                self.cross_entropy.push(x, metrics.categorical_crossentropy);
                self.adversarial_loss
                    .push(x, metrics.scaled_adversarial_loss);
                self.graph_loss.push(x, metrics.scaled_graph_loss);
                self.accuracy.push(x, metrics.categorical_accuracy);
                self.learning_rate.push(x, *lr);
                self.throughput.push(x, *images_per_second);
                self.train_per_class.clone_from(per_class_accuracy);
            }
            Event::EpochEnd {
                epoch,
                train,
                validation,
                per_class_accuracy,
                confusion,
                seconds,
                ..
            } => {
                self.epoch = *epoch;
                self.step = self.steps_per_epoch;
                let val = |f: fn(&Metrics) -> f64| validation.as_ref().map(f);
                self.epoch_loss.push(*epoch, train.loss, val(|m| m.loss));
                self.epoch_adversarial.push(
                    *epoch,
                    train.scaled_adversarial_loss,
                    val(|m| m.scaled_adversarial_loss),
                );
                self.epoch_accuracy.push(
                    *epoch,
                    train.categorical_accuracy,
                    val(|m| m.categorical_accuracy),
                );
                self.epoch_seconds.truncate(epoch - 1);
                self.epoch_seconds.push(*seconds);
                self.validation_per_class.clone_from(per_class_accuracy);
                self.confusion.clone_from(confusion);
                self.last_validation = *validation;
                update_best(&mut self.best, *epoch, train, validation.as_ref());
            }
            Event::Checkpoint { .. } => {}
            Event::RunEnd {
                status,
                best_epoch,
                best_validation_accuracy,
                ..
            } => {
                self.status = match status {
                    RunStatus::StoppedEarly => Status::StoppedEarly,
                    RunStatus::OutOfTime => Status::OutOfTime,
                    RunStatus::Interrupted => Status::Interrupted,
                    RunStatus::Failed => Status::Failed,
                    RunStatus::Finished | RunStatus::Running => Status::Finished,
                };
                if let (Some(e), Some(a)) = (best_epoch, best_validation_accuracy) {
                    self.best = Some((*e, *a));
                }
            }
            Event::Failure { message, .. } => {
                self.status = Status::Failed;
                self.failure = Some(message.clone());
            }
        }
    }

    /// A resumed run continues after `epoch`: drop what the interrupted attempt logged later.
    fn forget_after(&mut self, epoch: usize) {
        let last_step = (epoch * self.steps_per_epoch) as f64;
        for series in [
            &mut self.loss,
            &mut self.cross_entropy,
            &mut self.adversarial_loss,
            &mut self.graph_loss,
            &mut self.accuracy,
            &mut self.learning_rate,
            &mut self.throughput,
        ] {
            series.truncate_after(last_step);
        }
        for curves in [
            &mut self.epoch_loss,
            &mut self.epoch_adversarial,
            &mut self.epoch_accuracy,
        ] {
            curves.truncate_after(epoch);
        }
        self.epoch_seconds.truncate(epoch);
        self.epoch = epoch;
        self.step = 0;
        self.global_step = epoch * self.steps_per_epoch;
    }

    /// Seconds since the run started, up to `now` while live or its last event otherwise.
    pub fn elapsed(&self, now: f64) -> Option<f64> {
        let end = if self.status.is_live() {
            now
        } else {
            self.last_event?
        };
        Some((end - self.started?).max(0.0))
    }

    /// Seconds left, from the mean epoch time (or the step rate in the first epoch).
    pub fn eta(&self) -> Option<f64> {
        if !self.status.is_live() || self.epochs == 0 {
            return None;
        }
        let done_epochs = self.epoch.saturating_sub(1) as f64
            + self.step as f64 / self.steps_per_epoch.max(1) as f64;
        let remaining = (self.epochs as f64 - done_epochs).max(0.0);
        if !self.epoch_seconds.is_empty() {
            let mean = self.epoch_seconds.iter().sum::<f64>() / self.epoch_seconds.len() as f64;
            return Some(remaining * mean);
        }
        (self.images_per_second > 0.0).then(|| {
            remaining * (self.steps_per_epoch * self.batch_size) as f64 / self.images_per_second
        })
    }
}

/// `run.json` as `key = value` lines: where and how the run trains, then its whole
/// configuration with TOML's dotted names.
fn settings(info: &RunInfo) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "host".to_string(),
            format!("{} (pid {})", info.host, info.pid),
        ),
        (
            "backend".to_string(),
            format!("{} on {}", info.backend, info.device),
        ),
        (
            "data".to_string(),
            info.data.clone().unwrap_or_else(|| "(not recorded)".into()),
        ),
        ("classes".to_string(), info.classes.join(", ")),
    ];
    flatten("", &info.config, &mut out);
    out
}

fn flatten(path: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(fields) if !fields.is_empty() => {
            for (key, inner) in fields {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&path, inner, out);
            }
        }
        serde_json::Value::Null => out.push((path.to_string(), "none".into())),
        other => out.push((path.to_string(), other.to_string())),
    }
}
