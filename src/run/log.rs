//! A run's history as its event log tells it: what `fer plot` and `fer report` draw.

use std::io;
use std::path::Path;

use super::events::{Event, EventReader};
use super::EpochRecord;

/// The epochs a run finished (a resumed run's interrupted epochs dropped), its latest
/// validation confusion matrix and how it failed, if it did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLog {
    pub history: Vec<EpochRecord>,
    /// Counts (true class by row) of the latest epoch that logged one.
    pub confusion: Option<Vec<Vec<u64>>>,
    /// The message of a `failure` event.
    pub failure: Option<String>,
}

impl RunLog {
    /// Reads `events.jsonl` of the run at `dir`.
    ///
    /// ```
    /// use fer::run::{events::{Event, EventLog, Metrics}, RunLog};
    /// let dir = tempfile::tempdir()?;
    /// let log = EventLog::open(&dir.path().join(fer::run::EVENTS_FILE))?;
    /// log.emit(Event::Failure { epoch: 1, step: 3, message: "loss is NaN".into() });
    /// log.close()?;
    /// let read = RunLog::read(dir.path())?;
    /// assert!(read.history.is_empty());
    /// assert_eq!(read.failure.as_deref(), Some("loss is NaN"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read(dir: &Path) -> io::Result<RunLog> {
        let mut log = RunLog::default();
        for record in EventReader::new(dir.join(super::EVENTS_FILE)).poll()? {
            match record.event {
                Event::RunStart {
                    resumed_from_epoch: Some(epoch),
                    ..
                } => log.history.retain(|r| r.epoch <= epoch),
                Event::EpochEnd {
                    epoch,
                    train,
                    validation,
                    confusion,
                    lr,
                    seconds,
                    ..
                } => {
                    log.history.retain(|r| r.epoch < epoch);
                    log.history.push(EpochRecord {
                        epoch,
                        train,
                        validation,
                        lr,
                        seconds,
                    });
                    log.confusion = confusion.or(log.confusion.take());
                }
                Event::Failure { message, .. } => log.failure = Some(message),
                _ => {}
            }
        }
        Ok(log)
    }
}
