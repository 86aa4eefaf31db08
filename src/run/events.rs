//! The event log every training writes: `events.jsonl`, one JSON object per line.
//!
//! This is the contract `fer-tui` reads, so it builds without Burn. Each line is a
//! [`Record`]: `{"v": 1, "time": <unix seconds>, "kind": "...", ...fields}`. Kinds:
//!
//! | kind | when | fields |
//! |---|---|---|
//! | `run_start` | once per start or resume | `name`, `model`, `classes`, `epochs`, `steps_per_epoch`, `batch_size`, `backend`, `device`, `adversarial`, `resumed_from_epoch` |
//! | `step` | every N steps and at least once a second | `epoch`, `step`, `global_step`, `images`, `metrics`, `per_class_accuracy`, `images_per_second`, `lr` |
//! | `epoch_end` | after each epoch's validation | `epoch`, `train`, `validation`, `per_class_accuracy`, `confusion`, `lr`, `seconds`, `data_wait_seconds` |
//! | `checkpoint` | after each checkpoint is written | `epoch`, `path`, `best` |
//! | `run_end` | the run finished or stopped early | `status`, `epochs_done`, `best_epoch`, `best_validation_accuracy` |
//! | `failure` | the run failed (for example a NaN loss) | `epoch`, `step`, `message` |
//!
//! Epochs and steps count from 1. Readers must skip lines they cannot parse and kinds they
//! do not know: the schema grows by adding kinds and fields, and `v` changes only when a
//! field changes meaning.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::tensorboard::TensorBoardSink;
use super::RunStatus;

/// Version of the line format; written in every line as `v`.
pub const SCHEMA_VERSION: u32 = 1;

/// The four numbers NSL reports, for a batch, an epoch or an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Total loss: cross-entropy plus the scaled adversarial and graph losses.
    pub loss: f64,
    /// Cross-entropy on the clean faces (NSL's `categorical_crossentropy`).
    pub categorical_crossentropy: f64,
    /// Accuracy on the clean faces (NSL's `categorical_accuracy`).
    pub categorical_accuracy: f64,
    /// `multiplier` times the adversarial loss (0 without adversarial regularization).
    pub scaled_adversarial_loss: f64,
    /// `multiplier` times the graph loss (0 without graph regularization, and for
    /// evaluation, whose faces bring no neighbours, as in NSL). Absent in older logs.
    #[serde(default)]
    pub scaled_graph_loss: f64,
}

/// What happened, with its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    RunStart {
        name: String,
        model: String,
        classes: Vec<String>,
        epochs: usize,
        steps_per_epoch: usize,
        batch_size: usize,
        backend: String,
        device: String,
        adversarial: bool,
        /// Graph regularization is on (absent in older logs).
        #[serde(default)]
        graph: bool,
        /// The epoch the run continues after, when resumed.
        resumed_from_epoch: Option<usize>,
    },
    Step {
        epoch: usize,
        step: usize,
        global_step: usize,
        /// Images seen so far in this epoch.
        images: usize,
        /// Running means over this epoch so far.
        metrics: Metrics,
        /// Running accuracy of each class this epoch (`null` before a class is seen).
        per_class_accuracy: Vec<Option<f64>>,
        images_per_second: f64,
        lr: f64,
    },
    EpochEnd {
        epoch: usize,
        train: Metrics,
        validation: Option<Metrics>,
        /// Validation accuracy of each class (training accuracy without validation data).
        per_class_accuracy: Vec<Option<f64>>,
        /// Validation confusion matrix, `confusion[true][predicted]`.
        confusion: Option<Vec<Vec<u64>>>,
        lr: f64,
        seconds: f64,
        /// Time the training steps spent waiting for their next batch (0 when batching and
        /// augmentation keep ahead of the steps). Absent, and read as 0, in older logs.
        #[serde(default)]
        data_wait_seconds: f64,
    },
    Checkpoint {
        epoch: usize,
        path: String,
        best: bool,
    },
    RunEnd {
        /// `finished`, `stopped_early` or `out_of_time`.
        status: RunStatus,
        epochs_done: usize,
        best_epoch: Option<usize>,
        best_validation_accuracy: Option<f64>,
    },
    Failure {
        epoch: usize,
        step: usize,
        message: String,
    },
}

/// One line of the log: the event with its schema version and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub v: u32,
    /// Seconds since the Unix epoch.
    pub time: f64,
    #[serde(flatten)]
    pub event: Event,
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Appends events to `events.jsonl` from a background thread, so training never waits on
/// the disk. Each line goes out in one `write` and is flushed, so readers see whole lines.
pub struct EventLog {
    sender: Option<Sender<Record>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl EventLog {
    /// Opens (creating or appending to) the log at `path`.
    pub fn open(path: &Path) -> io::Result<EventLog> {
        EventLog::open_with(path, None)
    }

    /// Opens the log at `path`, also writing each event's summaries to `tensorboard` on the
    /// same background thread. A TensorBoard write error stops only the TensorBoard file;
    /// `close` reports it.
    pub fn open_with(path: &Path, tensorboard: Option<TensorBoardSink>) -> io::Result<EventLog> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        let (sender, receiver) = channel::<Record>();
        let writer = std::thread::Builder::new()
            .name("fer-events".into())
            .spawn(move || {
                let mut tensorboard = tensorboard;
                let mut tensorboard_error = None;
                for record in receiver {
                    let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
                    line.push(b'\n');
                    file.write_all(&line)?;
                    file.flush()?;
                    if let Some(sink) = &mut tensorboard {
                        if let Err(e) = sink.write(&record) {
                            let path = sink.path().display().to_string();
                            tensorboard_error =
                                Some(io::Error::new(e.kind(), format!("{path}: {e}")));
                            tensorboard = None;
                        }
                    }
                }
                file.sync_data()?;
                tensorboard_error.map_or(Ok(()), Err)
            })?;
        Ok(EventLog {
            sender: Some(sender),
            writer: Some(writer),
        })
    }

    /// Queues `event`, stamped with the current time.
    pub fn emit(&self, event: Event) {
        if let Some(sender) = &self.sender {
            // A send only fails once the writer died of an I/O error, reported by `close`.
            let _ = sender.send(Record {
                v: SCHEMA_VERSION,
                time: unix_now(),
                event,
            });
        }
    }

    /// Writes out everything queued and reports the first write error, if any.
    pub fn close(mut self) -> io::Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> io::Result<()> {
        drop(self.sender.take());
        match self.writer.take() {
            Some(writer) => writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("event writer panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Reads a growing `events.jsonl` incrementally, from where it stopped last time.
///
/// A last line without its newline is left for the next poll (the writer is mid-line);
/// lines that are not JSON, or are of a kind this version does not know, are counted and
/// skipped.
///
/// ```
/// use fer::run::events::{Event, EventLog, EventReader};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join(fer::run::EVENTS_FILE);
/// let log = EventLog::open(&path)?;
/// log.emit(Event::Failure { epoch: 1, step: 3, message: "loss is NaN".into() });
/// log.close()?;
/// let mut reader = EventReader::new(&path);
/// let records = reader.poll()?;
/// assert_eq!(records.len(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct EventReader {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Lines that were not valid JSON objects.
    pub garbage_lines: usize,
    /// Valid JSON lines of an unknown kind or shape.
    pub unknown_lines: usize,
}

impl EventReader {
    /// A reader positioned at the start of `path` (which may not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> EventReader {
        EventReader {
            path: path.into(),
            offset: 0,
            partial: Vec::new(),
            garbage_lines: 0,
            unknown_lines: 0,
        }
    }

    /// Bytes consumed so far (whole lines plus any held partial line).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The records completed since the last poll. A missing file yields none.
    pub fn poll(&mut self) -> io::Result<Vec<Record>> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        if len < self.offset {
            // The file was replaced by a shorter one: start over.
            self.offset = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut bytes = Vec::new();
        file.take(len - self.offset).read_to_end(&mut bytes)?;
        self.offset += bytes.len() as u64;
        Ok(self.feed(&bytes))
    }

    /// Parses `bytes` appended to the log (also used for streams from a remote host).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Record> {
        self.partial.extend_from_slice(bytes);
        let Some(last_newline) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let rest = self.partial.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        complete
            .split(|&b| b == b'\n')
            .filter_map(|line| self.parse_line(line))
            .collect()
    }

    /// Like [`poll`](EventReader::poll), but a long backlog keeps only about `max_steps`
    /// `step` events, evenly spread, and every event of other kinds; the last MiB is read
    /// whole so recent steps are exact. The file is read line by line, so memory stays
    /// bounded however long the log is: a million-line log opens in well under a second.
    pub fn poll_backlog(&mut self, max_steps: usize) -> io::Result<Vec<Record>> {
        const WHOLE_TAIL: u64 = 1 << 20;
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        if len.saturating_sub(self.offset) <= 4 * WHOLE_TAIL || !self.partial.is_empty() {
            return self.poll();
        }
        let mut reader = io::BufReader::with_capacity(1 << 20, file);
        reader.seek(SeekFrom::Start(self.offset))?;
        let tail_start = len - WHOLE_TAIL;
        let stride = (tail_start - self.offset) / max_steps.max(1) as u64;
        let mut next_sample = self.offset;
        let mut records = Vec::new();
        let mut line = Vec::with_capacity(1024);
        let mut position = self.offset;
        loop {
            line.clear();
            let n = io::BufRead::read_until(&mut reader, b'\n', &mut line)?;
            if n == 0 || position + n as u64 > len {
                break;
            }
            if line.last() != Some(&b'\n') {
                // The writer is mid-line: hold it for the next poll.
                self.partial.extend_from_slice(&line);
                position += n as u64;
                break;
            }
            let head = &line[..line.len().min(64)];
            let is_step = head.windows(13).any(|w| w == b"\"kind\":\"step\"");
            let skip = is_step && position < tail_start && position < next_sample;
            if is_step && !skip {
                next_sample = position + stride;
            }
            position += n as u64;
            if !skip {
                records.extend(self.parse_line(&line[..line.len() - 1]));
            }
        }
        self.offset = position;
        Ok(records)
    }

    /// One line: a record, or counted as garbage or unknown.
    fn parse_line(&mut self, line: &[u8]) -> Option<Record> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => Some(record),
            Err(_) => {
                match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(value) if value.is_object() => self.unknown_lines += 1,
                    _ => self.garbage_lines += 1,
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(global_step: usize) -> Event {
        Event::Step {
            epoch: 1,
            step: global_step,
            global_step,
            images: 50 * global_step,
            metrics: Metrics {
                loss: 1.5,
                categorical_crossentropy: 1.2,
                categorical_accuracy: 0.4,
                scaled_adversarial_loss: 0.3,
                scaled_graph_loss: 0.0,
            },
            per_class_accuracy: vec![Some(0.5), None],
            images_per_second: 20.0,
            lr: 1e-3,
        }
    }

    #[test]
    fn lines_have_kind_and_version() {
        let record = Record {
            v: SCHEMA_VERSION,
            time: 1.5,
            event: step(2),
        };
        let line = serde_json::to_string(&record).unwrap();
        assert!(
            line.starts_with(r#"{"v":1,"time":1.5,"kind":"step","epoch":1"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
    }

    #[test]
    fn epoch_ends_written_before_data_wait_was_logged_read_as_no_wait() {
        let line = r#"{"v":1,"time":2,"kind":"epoch_end","epoch":3,"train":{"loss":1,"categorical_crossentropy":1,"categorical_accuracy":0.5,"scaled_adversarial_loss":0},"validation":null,"per_class_accuracy":[],"confusion":null,"lr":0.001,"seconds":9.5}"#;
        let record: Record = serde_json::from_str(line).unwrap();
        assert!(matches!(
            record.event,
            Event::EpochEnd { epoch: 3, seconds, data_wait_seconds, .. }
                if seconds == 9.5 && data_wait_seconds == 0.0
        ));
    }

    #[test]
    fn reader_waits_for_torn_lines_and_skips_garbage() {
        let mut reader = EventReader::new("/nonexistent");
        let good = serde_json::to_string(&Record {
            v: 1,
            time: 0.0,
            event: step(1),
        })
        .unwrap();
        let (head, tail) = good.split_at(20);
        assert!(reader.feed(head.as_bytes()).is_empty());
        let mut rest = tail.as_bytes().to_vec();
        rest.extend_from_slice(
            b"\nnot json\n{\"v\":1,\"time\":0,\"kind\":\"from_the_future\"}\n[1,2]\n\n",
        );
        let records = reader.feed(&rest);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].event, step(1));
        assert_eq!((reader.garbage_lines, reader.unknown_lines), (2, 1));
    }

    #[test]
    fn a_long_backlog_is_sampled_but_keeps_other_events_and_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::run::EVENTS_FILE);
        let mut text = String::new();
        for i in 1..=40_000 {
            let record = Record {
                v: 1,
                time: i as f64,
                event: step(i),
            };
            text += &serde_json::to_string(&record).unwrap();
            text.push('\n');
            if i % 10_000 == 0 {
                let end = Event::Checkpoint {
                    epoch: i / 10_000,
                    path: "x".into(),
                    best: false,
                };
                text += &serde_json::to_string(&Record {
                    v: 1,
                    time: 0.0,
                    event: end,
                })
                .unwrap();
                text.push('\n');
            }
        }
        text += "garbage\n{\"v\":1,\"time\":1,\"kind\":\"check";
        std::fs::write(&path, &text).unwrap();
        let mut reader = EventReader::new(&path);
        let records = reader.poll_backlog(500).unwrap();
        let steps = records
            .iter()
            .filter(|r| matches!(r.event, Event::Step { .. }))
            .count();
        let checkpoints = records.len() - steps;
        assert_eq!(checkpoints, 4);
        assert!((500..5_000).contains(&steps), "{steps} steps kept");
        let last_step = records
            .iter()
            .rev()
            .find(|r| matches!(r.event, Event::Step { .. }))
            .unwrap();
        assert!(matches!(
            last_step.event,
            Event::Step {
                global_step: 40_000,
                ..
            }
        ));
        assert_eq!(reader.garbage_lines, 1);
        // The torn tail is held, and completed by the next poll.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"point\",\"epoch\":9,\"path\":\"y\",\"best\":true}\n")
            .unwrap();
        let next = reader.poll().unwrap();
        assert!(
            matches!(
                next[..],
                [Record {
                    event: Event::Checkpoint { epoch: 9, .. },
                    ..
                }]
            ),
            "{next:?}"
        );
    }

    #[test]
    fn log_and_reader_follow_a_growing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::run::EVENTS_FILE);
        let mut reader = EventReader::new(&path);
        assert!(
            reader.poll().unwrap().is_empty(),
            "missing file reads as empty"
        );
        let log = EventLog::open(&path).unwrap();
        for i in 1..=3 {
            log.emit(step(i));
        }
        log.close().unwrap();
        assert_eq!(reader.poll().unwrap().len(), 3);
        // A torn tail written by hand is held back until it is complete.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"v":1,"time":2,"kind":"run_end","status":"fin"#)
            .unwrap();
        assert!(reader.poll().unwrap().is_empty());
        file.write_all(
            b"ished\",\"epochs_done\":1,\"best_epoch\":null,\"best_validation_accuracy\":null}\n",
        )
        .unwrap();
        let end = reader.poll().unwrap();
        assert!(matches!(
            &end[0].event,
            Event::RunEnd {
                status: RunStatus::Finished,
                ..
            }
        ));
        assert_eq!(reader.offset(), std::fs::metadata(&path).unwrap().len());
    }
}
