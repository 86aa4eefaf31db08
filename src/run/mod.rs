//! Run directories: what every training leaves behind for people and tools to read.
//!
//! `runs/<name>/` holds `run.json` ([`RunInfo`]), `events.jsonl` ([`events`]),
//! `history.csv` (one row per epoch, Keras CSVLogger columns), `tb/` (TensorBoard's event
//! files, [`tensorboard`]) and `checkpoints/`.

mod dir;
pub mod events;
mod log;
pub mod tensorboard;

pub use dir::{
    hostname, timestamp_name, update_best, write_history, EpochRecord, RunDir, RunInfo, RunStatus,
    DEFAULT_ROOT, EVENTS_FILE, HISTORY_FILE, RUN_INFO_FILE, TENSORBOARD_DIR,
};
pub use log::RunLog;
