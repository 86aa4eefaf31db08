//! TensorBoard event files: a run's scalars and confusion matrices where `tensorboard
//! --logdir runs` finds them, beside anything else the user trains.
//!
//! A file `events.out.tfevents.<seconds>.<host>.<pid>.<n>` is a sequence of TFRecords
//! (length, masked CRC-32C of the length, an `Event` protobuf, masked CRC-32C of the event),
//! the first event naming the format (`brain.Event:2`). [`TensorBoardSink`] turns fer's
//! [`Record`]s into summaries:
//!
//! | fer event | TensorBoard tags | step |
//! |---|---|---|
//! | `epoch_end` | `train/<metric>` and `validation/<metric>` for the columns of `history.csv` (`loss`, `categorical_crossentropy`, `categorical_accuracy`, `scaled_adversarial_loss`, `scaled_graph_loss`), `train/learning_rate`, `train/epoch_seconds`, `per_class/<class>` (validation accuracy), `validation/confusion_matrix` (image) | epoch |
//! | `step` | `step/<metric>` (running means over the epoch so far), `step/images_per_second` | global step |

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use prost::Message;

use super::events::{Event, Metrics, Record};

/// The first event's `file_version`: the event format TensorBoard reads.
pub const FILE_VERSION: &str = "brain.Event:2";

/// TensorFlow's `Event`, `Summary`, `Summary.Value` and `Summary.Image` (event.proto,
/// summary.proto), the fields fer writes.
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        #[prost(double, tag = "1")]
        pub wall_time: f64,
        #[prost(int64, tag = "2")]
        pub step: i64,
        #[prost(oneof = "What", tags = "3, 5")]
        pub what: Option<What>,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        #[prost(string, tag = "3")]
        FileVersion(String),
        #[prost(message, tag = "5")]
        Summary(Summary),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Summary {
        #[prost(message, repeated, tag = "1")]
        pub value: Vec<Value>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        #[prost(string, tag = "1")]
        pub tag: String,
        #[prost(oneof = "Content", tags = "2, 4")]
        pub content: Option<Content>,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Content {
        #[prost(float, tag = "2")]
        SimpleValue(f32),
        #[prost(message, tag = "4")]
        Image(Image),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Image {
        #[prost(int32, tag = "1")]
        pub height: i32,
        #[prost(int32, tag = "2")]
        pub width: i32,
        /// 1 gray, 3 RGB, 4 RGBA.
        #[prost(int32, tag = "3")]
        pub colorspace: i32,
        #[prost(bytes = "vec", tag = "4")]
        pub encoded_image_string: Vec<u8>,
    }
}

/// CRC-32C as TFRecord stores it: rotated and offset, so CRCs of data holding CRCs stay
/// well distributed.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: `u64` length, masked CRC of the length, the data, masked CRC of the data
/// (little-endian).
///
/// ```
/// let record = fer::run::tensorboard::frame(b"fer");
/// assert_eq!(record.len(), 8 + 4 + 3 + 4);
/// assert_eq!(fer::run::tensorboard::records(&record)?, [b"fer"]);
/// # Ok::<(), fer::run::tensorboard::TfRecordError>(())
/// ```
pub fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    record
}

/// Why TFRecord bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TfRecordError {
    #[error("record at byte {offset}: cut short ({left} bytes left)")]
    Truncated { offset: usize, left: usize },
    #[error("record at byte {offset}: the {what} CRC does not match")]
    Crc { offset: usize, what: &'static str },
}

/// The records of a TFRecord file, each CRC checked.
pub fn records(bytes: &[u8]) -> Result<Vec<&[u8]>, TfRecordError> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let truncated = TfRecordError::Truncated {
            offset,
            left: rest.len(),
        };
        let (length, rest) = rest.split_first_chunk::<8>().ok_or(truncated.clone())?;
        let (length_crc, rest) = rest.split_first_chunk::<4>().ok_or(truncated.clone())?;
        if masked_crc32c(length) != u32::from_le_bytes(*length_crc) {
            return Err(TfRecordError::Crc {
                offset,
                what: "length",
            });
        }
        let length = usize::try_from(u64::from_le_bytes(*length))
            .ok()
            .filter(|&l| l.checked_add(4).is_some_and(|end| end <= rest.len()))
            .ok_or(truncated)?;
        let (data, rest) = rest.split_at(length);
        let data_crc = u32::from_le_bytes(rest[..4].try_into().expect("checked above"));
        if masked_crc32c(data) != data_crc {
            return Err(TfRecordError::Crc {
                offset,
                what: "data",
            });
        }
        out.push(data);
        offset += 8 + 4 + length + 4;
    }
    Ok(out)
}

/// The events of an events file, in order.
pub fn read_events(path: &Path) -> io::Result<Vec<proto::Event>> {
    let bytes = std::fs::read(path)?;
    let bad = |e: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    };
    records(&bytes)
        .map_err(|e| bad(e.to_string()))?
        .into_iter()
        .map(|record| proto::Event::decode(record).map_err(|e| bad(e.to_string())))
        .collect()
}

/// A PNG with its size, as `Summary.Image` wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Draws a confusion matrix (`counts[true][predicted]`, class names) as an image; `None`
/// when it cannot. Training passes the `viz` feature's heatmap.
pub type ConfusionRenderer = Box<dyn Fn(&[Vec<u64>], &[String]) -> Option<Image> + Send>;

/// The confusion-matrix heatmap of `fer::viz`, where this build has it.
pub fn default_renderer() -> Option<ConfusionRenderer> {
    #[cfg(feature = "viz")]
    return Some(Box::new(crate::viz::confusion_image));
    #[cfg(not(feature = "viz"))]
    return None;
}

/// One events file, written as events arrive.
pub struct EventFileWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl EventFileWriter {
    /// Creates `dir/events.out.tfevents.<seconds>.<host>.<pid>.<n>`, `n` the first free
    /// number (a resumed run adds a file; TensorBoard reads them all in name order), with its
    /// `file_version` event.
    pub fn create(dir: &Path, wall_time: f64) -> io::Result<EventFileWriter> {
        crate::atomic::create_folder(dir)?;
        let host = super::hostname();
        let stem = format!(
            "events.out.tfevents.{:010}.{host}.{}",
            wall_time as u64,
            std::process::id()
        );
        let (file, path) = (0..)
            .map(|n| dir.join(format!("{stem}.{n}")))
            .find_map(
                |path| match File::options().write(true).create_new(true).open(&path) {
                    Ok(file) => Some(Ok((file, path))),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
                    Err(e) => Some(Err(e)),
                },
            )
            .expect("an unbounded range finds a free name or an error")?;
        let mut writer = EventFileWriter {
            out: BufWriter::new(file),
            path,
        };
        writer.event(proto::Event {
            wall_time,
            step: 0,
            what: Some(proto::What::FileVersion(FILE_VERSION.into())),
        })?;
        Ok(writer)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event.
    pub fn event(&mut self, event: proto::Event) -> io::Result<()> {
        self.out.write_all(&frame(&event.encode_to_vec()))
    }

    /// Pushes buffered events to the file, for readers of a live run.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Turns fer's events into TensorBoard summaries (the table in the module's documentation).
pub struct TensorBoardSink {
    file: EventFileWriter,
    classes: Vec<String>,
    render: Option<ConfusionRenderer>,
}

impl TensorBoardSink {
    /// Writes into a new events file in `dir`; `render` draws confusion matrices.
    pub fn create(
        dir: &Path,
        wall_time: f64,
        render: Option<ConfusionRenderer>,
    ) -> io::Result<Self> {
        Ok(TensorBoardSink {
            file: EventFileWriter::create(dir, wall_time)?,
            classes: Vec::new(),
            render,
        })
    }

    /// The events file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Writes the summaries of one record (none for kinds without numbers) and flushes.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        let (step, values) = match &record.event {
            Event::RunStart { classes, .. } => {
                self.classes.clone_from(classes);
                return Ok(());
            }
            Event::Step {
                global_step,
                metrics,
                images_per_second,
                ..
            } => {
                let mut values = scalars("step", metrics);
                values.push(scalar("step/images_per_second", *images_per_second));
                (*global_step, values)
            }
            Event::EpochEnd {
                epoch,
                train,
                validation,
                per_class_accuracy,
                confusion,
                lr,
                seconds,
                ..
            } => {
                let mut values = scalars("train", train);
                values.push(scalar("train/learning_rate", *lr));
                values.push(scalar("train/epoch_seconds", *seconds));
                if let Some(validation) = validation {
                    values.extend(scalars("validation", validation));
                }
                for (class, accuracy) in self.classes.iter().zip(per_class_accuracy) {
                    if let Some(accuracy) = accuracy {
                        values.push(scalar(&format!("per_class/{class}"), *accuracy));
                    }
                }
                let image = confusion
                    .as_ref()
                    .zip(self.render.as_ref())
                    .and_then(|(counts, render)| render(counts, &self.classes));
                if let Some(image) = image {
                    values.push(proto::Value {
                        tag: "validation/confusion_matrix".into(),
                        content: Some(proto::Content::Image(proto::Image {
                            height: image.height as i32,
                            width: image.width as i32,
                            colorspace: 3,
                            encoded_image_string: image.png,
                        })),
                    });
                }
                (*epoch, values)
            }
            _ => return Ok(()),
        };
        self.file.event(proto::Event {
            wall_time: record.time,
            step: step as i64,
            what: Some(proto::What::Summary(proto::Summary { value: values })),
        })?;
        self.file.flush()
    }
}

fn scalar(tag: &str, value: f64) -> proto::Value {
    proto::Value {
        tag: tag.into(),
        content: Some(proto::Content::SimpleValue(value as f32)),
    }
}

/// The columns of `history.csv` under `prefix/`.
fn scalars(prefix: &str, m: &Metrics) -> Vec<proto::Value> {
    [
        ("loss", m.loss),
        ("categorical_crossentropy", m.categorical_crossentropy),
        ("categorical_accuracy", m.categorical_accuracy),
        ("scaled_adversarial_loss", m.scaled_adversarial_loss),
        ("scaled_graph_loss", m.scaled_graph_loss),
    ]
    .into_iter()
    .map(|(name, value)| scalar(&format!("{prefix}/{name}"), value))
    .collect()
}

/// Writes the TensorBoard summaries of the run in `run` (its `events.jsonl`, however old)
/// into a new events file in `out`; returns the file and how many fer events it read.
///
/// ```
/// use fer::run::events::{Event, EventLog, Metrics};
/// let run = tempfile::tempdir()?;
/// let log = EventLog::open(&run.path().join(fer::run::EVENTS_FILE))?;
/// let metrics = Metrics { loss: 1.5, ..Metrics::default() };
/// log.emit(Event::EpochEnd {
///     epoch: 1, train: metrics, validation: None, per_class_accuracy: vec![],
///     confusion: None, lr: 0.001, seconds: 9.0, data_wait_seconds: 0.0,
/// });
/// log.close()?;
/// let (file, read) = fer::run::tensorboard::convert_run(run.path(), &run.path().join("tb"), None)?;
/// assert_eq!(read, 1);
/// let events = fer::run::tensorboard::read_events(&file)?;
/// assert_eq!(events.len(), 2); // the file version, then epoch 1's summaries
/// assert_eq!(events[1].step, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn convert_run(
    run: &Path,
    out: &Path,
    render: Option<ConfusionRenderer>,
) -> io::Result<(PathBuf, usize)> {
    let events = run.join(super::EVENTS_FILE);
    if !events.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{}: no such file: not a fer run directory",
                events.display()
            ),
        ));
    }
    let records = super::events::EventReader::new(&events).poll()?;
    let start = records
        .first()
        .map_or_else(super::events::unix_now, |r| r.time);
    let mut sink = TensorBoardSink::create(out, start, render)?;
    for record in &records {
        sink.write(record)?;
    }
    Ok((sink.path().to_path_buf(), records.len()))
}
