//! The run directory: `run.json` (what and where), `events.jsonl`, `history.csv`, checkpoints.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::events::{unix_now, Metrics};
use crate::atomic::write_atomically;

/// The folder `fer train` puts runs in and `fer-tui` looks in, unless told otherwise.
pub const DEFAULT_ROOT: &str = "runs";
/// The run's identity and status ([`RunInfo`]).
pub const RUN_INFO_FILE: &str = "run.json";
/// The event log ([`events`](super::events)).
pub const EVENTS_FILE: &str = "events.jsonl";
/// The folder of TensorBoard's event files in a run directory.
pub const TENSORBOARD_DIR: &str = "tb";
/// One row per epoch, Keras CSVLogger columns.
pub const HISTORY_FILE: &str = "history.csv";
const CHECKPOINTS_DIR: &str = "checkpoints";
const LAST_CHECKPOINT_FILE: &str = "last.ckpt";
const BEST_CHECKPOINT_FILE: &str = "best.ckpt";

/// Where a run is, as `run.json` states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Finished,
    StoppedEarly,
    /// Stopped at an epoch end because the time budget (`--max-minutes`) was spent.
    OutOfTime,
    /// Stopped by a signal (Ctrl-C, SIGTERM) mid-way: the epoch in progress is dropped and
    /// the last checkpoint kept; resumable.
    Interrupted,
    Failed,
}

/// `run.json`: the run's identity, settings and status, rewritten atomically on change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub name: String,
    /// The full training configuration.
    pub config: serde_json::Value,
    pub classes: Vec<String>,
    pub backend: String,
    pub device: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds when the run first started.
    pub start_time: f64,
    /// Unix seconds of the last status change.
    pub updated_time: f64,
    pub status: RunStatus,
    /// The data the run trained on, as `--data` named it (absent in older runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl RunInfo {
    /// Reads `run.json` of the run at `dir`.
    pub fn read(dir: &Path) -> io::Result<RunInfo> {
        let text = std::fs::read_to_string(dir.join(RUN_INFO_FILE))?;
        serde_json::from_str(&text).map_err(io::Error::other)
    }

    /// Writes `run.json` into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomically(&dir.join(RUN_INFO_FILE), |f| f.write_all(&json))
    }

    /// Sets the status and the time it changed.
    pub fn set_status(&mut self, status: RunStatus) {
        self.status = status;
        self.updated_time = unix_now();
    }
}

/// This machine's name, for `run.json`.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// One epoch's line of `history.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train: Metrics,
    pub validation: Option<Metrics>,
    pub lr: f64,
    pub seconds: f64,
}

const HISTORY_HEADER: &str = "epoch,loss,categorical_crossentropy,categorical_accuracy,scaled_adversarial_loss,scaled_graph_loss,val_loss,val_categorical_crossentropy,val_categorical_accuracy,val_scaled_adversarial_loss,val_scaled_graph_loss,lr,seconds";

/// Rewrites `history.csv` (Keras CSVLogger columns, `val_` ones empty without validation).
pub fn write_history(path: &Path, records: &[EpochRecord]) -> io::Result<()> {
    let mut text = String::from(HISTORY_HEADER);
    text.push('\n');
    for r in records {
        let m = |m: &Metrics| {
            format!(
                "{},{},{},{},{}",
                m.loss,
                m.categorical_crossentropy,
                m.categorical_accuracy,
                m.scaled_adversarial_loss,
                m.scaled_graph_loss
            )
        };
        let val = r.validation.as_ref().map_or(",,,,".to_string(), m);
        let _ = writeln!(
            text,
            "{},{},{},{},{}",
            r.epoch,
            m(&r.train),
            val,
            r.lr,
            r.seconds
        );
    }
    write_atomically(path, |f| f.write_all(text.as_bytes()))
}

/// The files of the run named `name` under `root`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(root: &Path, name: &str) -> RunDir {
        RunDir {
            path: root.join(name),
        }
    }

    pub fn info(&self) -> PathBuf {
        self.path.join(RUN_INFO_FILE)
    }

    pub fn events(&self) -> PathBuf {
        self.path.join(EVENTS_FILE)
    }

    pub fn history(&self) -> PathBuf {
        self.path.join(HISTORY_FILE)
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.path.join(CHECKPOINTS_DIR)
    }

    /// TensorBoard's event files ([`super::tensorboard`]).
    pub fn tensorboard(&self) -> PathBuf {
        self.path.join(TENSORBOARD_DIR)
    }

    /// The checkpoint written after every epoch.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.checkpoints().join(LAST_CHECKPOINT_FILE)
    }

    /// The checkpoint of the best epoch ([`update_best`]).
    pub fn best_checkpoint(&self) -> PathBuf {
        self.checkpoints().join(BEST_CHECKPOINT_FILE)
    }
}

/// Takes epoch `epoch` into `best` if it is better, and says whether it was.
///
/// The rule behind `best.ckpt` and every "best epoch" shown: the highest validation
/// accuracy, or training accuracy for a run without validation; the earliest of equals.
///
/// ```
/// use fer::run::{events::Metrics, update_best};
/// let acc = |a| Metrics { categorical_accuracy: a, ..Default::default() };
/// let mut best = None;
/// assert!(update_best(&mut best, 1, &acc(0.9), Some(&acc(0.5))));
/// assert!(!update_best(&mut best, 2, &acc(0.1), Some(&acc(0.5))));
/// assert_eq!(best, Some((1, 0.5)));
/// ```
pub fn update_best(
    best: &mut Option<(usize, f64)>,
    epoch: usize,
    train: &Metrics,
    validation: Option<&Metrics>,
) -> bool {
    let score = validation.unwrap_or(train).categorical_accuracy;
    let improved = best.is_none_or(|(_, b)| score > b);
    if improved {
        *best = Some((epoch, score));
    }
    improved
}

/// A run name from the current time: `run-YYYYMMDD-HHMMSS` (UTC).
pub fn timestamp_name() -> String {
    let secs = unix_now() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "run-{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_has_keras_columns_and_blank_validation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        let train = Metrics {
            loss: 1.5,
            categorical_crossentropy: 1.25,
            categorical_accuracy: 0.5,
            scaled_adversarial_loss: 0.25,
            scaled_graph_loss: 0.125,
        };
        let records = [
            EpochRecord {
                epoch: 1,
                train,
                validation: None,
                lr: 0.001,
                seconds: 2.0,
            },
            EpochRecord {
                epoch: 2,
                train,
                validation: Some(train),
                lr: 0.0005,
                seconds: 2.5,
            },
        ];
        write_history(&path, &records).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HISTORY_HEADER);
        assert_eq!(lines[1], "1,1.5,1.25,0.5,0.25,0.125,,,,,,0.001,2");
        assert_eq!(
            lines[2],
            "2,1.5,1.25,0.5,0.25,0.125,1.5,1.25,0.5,0.25,0.125,0.0005,2.5"
        );
    }

    #[test]
    fn run_info_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut info = RunInfo {
            name: "a".into(),
            config: serde_json::json!({"epochs": 3}),
            classes: vec!["anger".into()],
            backend: "flex".into(),
            device: "cpu".into(),
            host: hostname(),
            pid: std::process::id(),
            start_time: 1.0,
            updated_time: 1.0,
            status: RunStatus::Running,
            data: Some("synthetic:10".into()),
        };
        info.write(dir.path()).unwrap();
        info.set_status(RunStatus::Finished);
        info.write(dir.path()).unwrap();
        assert_eq!(RunInfo::read(dir.path()).unwrap(), info);
        let text = std::fs::read_to_string(dir.path().join(RUN_INFO_FILE)).unwrap();
        assert!(text.contains("\"status\": \"finished\""), "{text}");
    }

    #[test]
    fn timestamp_names_are_dates() {
        let name = timestamp_name();
        assert!(
            name.starts_with("run-20") && name.len() == "run-20261128-074500".len(),
            "{name}"
        );
    }
}
