//! Continuing a saved run: from its last checkpoint, or from the start when it stopped
//! before the first one; either way only if the settings and data still fit it.

use super::checkpoint::{Checkpoint, DataFingerprints};
use super::config::TrainConfig;
use super::error::{io_error, TrainError};
use crate::data::{Emotion, Fingerprint};
use crate::run::{RunDir, RunInfo};

/// What a run to resume holds: its last checkpoint (checked against the settings and the
/// data), or `None` when no epoch finished and it starts over in the same folder.
pub(super) fn resume_state(
    run_dir: &RunDir,
    config: &TrainConfig,
    classes: &[Emotion],
    data: &DataFingerprints,
) -> Result<Option<Checkpoint>, TrainError> {
    let path = run_dir.last_checkpoint();
    if !path.exists() {
        // Stopped before its first checkpoint: start over, if it is the same experiment.
        let info = RunInfo::read(&run_dir.path).map_err(|_| TrainError::NothingToResume {
            run: run_dir.path.clone(),
        })?;
        check_config(&info.config, config)?;
        return Ok(None);
    }
    let ckpt = Checkpoint::read(&path).map_err(io_error(&path))?;
    let saved = serde_json::to_value(&ckpt.state.config).expect("configurations serialize");
    check_config(&saved, config)?;
    if ckpt.state.classes != classes {
        let names = |c: &[Emotion]| c.iter().map(|e| e.name()).collect::<Vec<_>>().join(",");
        return Err(TrainError::ResumeMismatch {
            field: "classes of the data".into(),
            saved: names(&ckpt.state.classes),
            given: names(classes),
        });
    }
    // Checkpoints from before fingerprints were recorded have none to compare.
    if let Some(saved) = &ckpt.state.data {
        let parts = [
            ("training data", Some(saved.train), Some(data.train)),
            ("validation data", saved.validation, data.validation),
        ];
        for (field, saved, given) in parts {
            if saved != given {
                let show = |f: Option<Fingerprint>| f.map_or("none".into(), |f| f.to_string());
                return Err(TrainError::ResumeMismatch {
                    field: field.into(),
                    saved: show(saved),
                    given: show(given),
                });
            }
        }
        if saved.graph != data.graph {
            let show =
                |crc: Option<u32>| crc.map_or("none".into(), |c| format!("edges crc {c:08x}"));
            return Err(TrainError::ResumeMismatch {
                field: "graph".into(),
                saved: show(saved.graph),
                given: show(data.graph),
            });
        }
    }
    Ok(Some(ckpt))
}

/// Refuses a configuration that differs from the run's `saved` one (as JSON) in anything
/// but what may change on resume: how long to train, how validation is batched, and
/// whether TensorBoard files are written.
fn check_config(saved: &serde_json::Value, config: &TrainConfig) -> Result<(), TrainError> {
    let mut given = serde_json::to_value(config).expect("configurations serialize");
    let mut saved = saved.clone();
    for field in ["epochs", "validation_batch_size", "tensorboard"] {
        if let (Some(saved), Some(given)) = (saved.as_object_mut(), given.as_object_mut()) {
            saved.remove(field);
            given.remove(field);
        }
    }
    match first_difference("", &saved, &given) {
        Some((field, saved, given)) => Err(TrainError::ResumeMismatch {
            field,
            saved,
            given,
        }),
        None => Ok(()),
    }
}

/// The first setting (in TOML's dotted names) where two configurations differ, with both
/// values as JSON.
fn first_difference(
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
                first_difference(
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
