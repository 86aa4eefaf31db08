//! Continuing a saved run: its last checkpoint, if the settings still fit it.

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::error::{io_error, TrainError};
use crate::data::Emotion;
use crate::run::RunDir;

/// Reads the last checkpoint of a run to resume, checking it fits the given settings.
pub(super) fn resume_state(
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
    // What may change on resume: how long to train, and how validation is batched.
    let saved = TrainConfig {
        epochs: config.epochs,
        validation_batch_size: config.validation_batch_size,
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
