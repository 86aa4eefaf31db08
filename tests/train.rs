//! Real training runs of tiny networks on synthetic faces: learning, resuming, the run log.

use burn::prelude::*;
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{Dataset, Emotion};
use fer::nsl::AdvRegConfig;
use fer::run::events::{Event, EventReader};
use fer::run::{EpochRecord, RunInfo, RunStatus};
use fer::train::checkpoint::Checkpoint;
use fer::train::{ModelChoice, RunOptions, TrainConfig, TrainError, Training};

/// Burn's random generator is one per process (weights, dropout), and `Device::seed` resets
/// it: two runs training at once in one process draw from it in turns, and neither is
/// reproducible. These tests compare runs exactly, so every test that draws holds this lock.
fn one_run_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn faces(n: usize, seed: u64) -> Dataset {
    synthesize(&SynthConfig {
        n,
        seed,
        ..Default::default()
    })
    .unwrap()
}

fn tiny(epochs: usize) -> TrainConfig {
    TrainConfig {
        model: ModelChoice::Preset {
            preset: "tiny".into(),
        },
        epochs,
        batch_size: 32,
        learning_rate: 3e-3,
        seed: 5,
        adversarial: Some(AdvRegConfig::default().multiplier(0.2).adv_step_size(0.05)),
        log_every: 5,
        ..Default::default()
    }
}

fn options(root: &std::path::Path, name: &str, resume: bool) -> RunOptions {
    RunOptions {
        root: root.to_path_buf(),
        name: Some(name.into()),
        resume,
        ..Default::default()
    }
}

#[test]
fn a_run_in_memory_trains_as_a_saved_run_does_and_writes_nothing() {
    let _serial = one_run_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (train, val) = (faces(160, 1), faces(60, 2));
    let config = TrainConfig {
        validation_batch_size: 7,
        ..tiny(2)
    };
    let saved = Training::new(&config)
        .validate_on(&val)
        .save(options(dir.path(), "saved", false))
        .fit(&train)
        .unwrap();
    let mut seen = Vec::new();
    let in_memory = Training::new(&config)
        .validate_on(&val)
        .on_event(|e| seen.push(e.clone()))
        .fit(&train)
        .unwrap();
    assert!(in_memory.run_dir.is_none());
    let scores = |history: &[EpochRecord]| -> Vec<_> {
        history.iter().map(|r| (r.train, r.validation)).collect()
    };
    assert_eq!(scores(&in_memory.history), scores(&saved.history));
    assert_eq!(in_memory.best, saved.best);
    let folders: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(folders, ["saved"], "only the saved run wrote files");
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Checkpoint { .. })),
        "no checkpoints in memory"
    );
    let epoch_ends = seen
        .iter()
        .filter(|e| matches!(e, Event::EpochEnd { .. }))
        .count();
    assert_eq!(epoch_ends, 2);
    assert!(matches!(
        seen.last(),
        Some(Event::RunEnd { epochs_done: 2, .. })
    ));

    // Without validation the best epoch follows training accuracy.
    let unvalidated = Training::new(&tiny(1)).fit(&train).unwrap();
    assert!(unvalidated.history[0].validation.is_none());
    assert_eq!(unvalidated.best.map(|(epoch, _)| epoch), Some(1));
}

#[test]
fn a_tiny_network_learns_synthetic_faces_and_logs_every_event() {
    let _serial = one_run_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (train, val) = (faces(900, 1), faces(300, 2));
    let mut seen = Vec::new();
    let outcome = Training::new(&tiny(4))
        .validate_on(&val)
        .save(options(dir.path(), "learn", false))
        .on_event(|e| seen.push(e.clone()))
        .fit(&train)
        .unwrap();
    let last = outcome.history.last().unwrap();
    let val_acc = last.validation.unwrap().categorical_accuracy;
    // Majority class (happiness) is 25% of the faces.
    assert!(val_acc > 0.4, "validation accuracy {val_acc}");
    assert!(last.train.categorical_accuracy > outcome.history[0].train.categorical_accuracy);
    assert!(last.train.scaled_adversarial_loss > 0.0);
    assert_eq!(outcome.status, RunStatus::Finished);

    let records = EventReader::new(outcome.run_dir.as_ref().unwrap().events())
        .poll()
        .unwrap();
    let events: Vec<Event> = records.into_iter().map(|r| r.event).collect();
    assert_eq!(events, seen, "the log holds exactly what the observer saw");
    let kinds = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    assert!(matches!(
        events[0],
        Event::RunStart {
            epochs: 4,
            steps_per_epoch: 29,
            adversarial: true,
            ..
        }
    ));
    assert_eq!(kinds(|e| matches!(e, Event::EpochEnd { .. })), 4);
    assert!(kinds(|e| matches!(e, Event::Step { .. })) >= 4 * 6);
    assert!(kinds(|e| matches!(e, Event::Checkpoint { best: false, .. })) == 4);
    assert!(matches!(
        events.last(),
        Some(Event::RunEnd {
            status: RunStatus::Finished,
            epochs_done: 4,
            ..
        })
    ));
    for event in &events {
        if let Event::EpochEnd {
            seconds,
            data_wait_seconds,
            ..
        } = event
        {
            // Prefetching keeps batches ahead of the steps: the wait is a sliver of the epoch.
            assert!(
                (0.0..0.5 * seconds).contains(data_wait_seconds),
                "waited {data_wait_seconds} s for data in a {seconds} s epoch"
            );
        }
    }
    if let Some(Event::EpochEnd {
        confusion: Some(c),
        per_class_accuracy,
        ..
    }) = events
        .iter()
        .rev()
        .find(|e| matches!(e, Event::EpochEnd { .. }))
    {
        assert_eq!(c.iter().flatten().sum::<u64>(), 300);
        assert_eq!(per_class_accuracy.len(), 7);
    } else {
        panic!("epoch end without confusion matrix");
    }
    let history = std::fs::read_to_string(outcome.run_dir.as_ref().unwrap().history()).unwrap();
    assert_eq!(history.lines().count(), 5);
    assert_eq!(
        RunInfo::read(&outcome.run_dir.as_ref().unwrap().path)
            .unwrap()
            .status,
        RunStatus::Finished
    );
}

/// Logits of a checkpoint's model on fixed faces, to compare weights exactly.
fn fingerprint(path: &std::path::Path, faces: &Dataset) -> Vec<f32> {
    let device = Device::flex();
    let model = Checkpoint::read(path)
        .unwrap()
        .model(&device)
        .unwrap()
        .valid();
    let batch = faces
        .batches(&Default::default(), 0)
        .unwrap()
        .next()
        .unwrap();
    let images = Tensor::<4>::from_data(
        TensorData::new(batch.images, [batch.indices.len(), 1, 48, 48]),
        &device,
    );
    model.forward(images).into_data().try_to_vec().unwrap()
}

#[test]
fn resuming_gives_the_same_weights_as_an_uninterrupted_run() {
    let _serial = one_run_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (train, val) = (faces(300, 3), faces(100, 4));
    let mut config = tiny(3);
    config.augment.rotation_degrees = 10.0;
    config.augment.zoom = 0.1;
    let whole = Training::new(&config)
        .validate_on(&val)
        .save(options(dir.path(), "whole", false))
        .fit(&train)
        .unwrap();

    let first = Training::new(&tiny_with(&config, 2))
        .validate_on(&val)
        .save(options(dir.path(), "parts", false))
        .fit(&train)
        .unwrap();
    assert_eq!(first.history.len(), 2);
    let again = Training::new(&config)
        .validate_on(&val)
        .save(options(dir.path(), "parts", false))
        .fit(&train);
    assert!(matches!(again, Err(TrainError::RunExists { name, .. }) if name == "parts"));
    let resumed = Training::new(&config)
        .validate_on(&val)
        .save(options(dir.path(), "parts", true))
        .fit(&train)
        .unwrap();

    let timeless = |h: &[EpochRecord]| {
        h.iter()
            .map(|r| EpochRecord {
                seconds: 0.0,
                ..r.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(timeless(&resumed.history), timeless(&whole.history));
    let probe = faces(20, 9);
    assert_eq!(
        fingerprint(&resumed.run_dir.as_ref().unwrap().last_checkpoint(), &probe),
        fingerprint(&whole.run_dir.as_ref().unwrap().last_checkpoint(), &probe)
    );
    let events = EventReader::new(resumed.run_dir.as_ref().unwrap().events())
        .poll()
        .unwrap();
    let starts: Vec<Option<usize>> = events
        .iter()
        .filter_map(|r| match &r.event {
            Event::RunStart {
                resumed_from_epoch, ..
            } => Some(*resumed_from_epoch),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [None, Some(2)]);

    let mut changed = config.clone();
    changed.learning_rate = 0.5;
    let refused = Training::new(&changed)
        .validate_on(&val)
        .save(options(dir.path(), "parts", true))
        .fit(&train);
    let Err(TrainError::ResumeMismatch {
        field,
        saved,
        given,
    }) = refused
    else {
        panic!("{refused:?}")
    };
    assert_eq!(
        (field.as_str(), saved.as_str(), given.as_str()),
        ("learning_rate", "0.003", "0.5")
    );

    let mut other_adv = config.clone();
    other_adv.adversarial.as_mut().unwrap().adv_step_size = 0.2;
    let refused = Training::new(&other_adv)
        .validate_on(&val)
        .save(options(dir.path(), "parts", true))
        .fit(&train);
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("adversarial.adv_step_size differs from the run's (run: 0.05, now: 0.2)"),
        "{message}"
    );

    let nothing = Training::new(&config)
        .validate_on(&val)
        .save(options(dir.path(), "never-ran", true))
        .fit(&train);
    assert!(
        matches!(nothing, Err(TrainError::NothingToResume { run }) if run.ends_with("never-ran"))
    );
}

fn tiny_with(config: &TrainConfig, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        ..config.clone()
    }
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_marks_itself_failed() {
    let _serial = one_run_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let train = faces(200, 6)
        .select_classes(&[Emotion::Happiness, Emotion::Neutral, Emotion::Fear])
        .unwrap();
    let mut config = tiny(2);
    // Weights of about 1e38 overflow f32 in the first convolution.
    config.learning_rate = 1e38;
    let error = Training::new(&config)
        .save(options(dir.path(), "nan", false))
        .fit(&train)
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, TrainError::NonFinite { .. }), "{message}");
    assert!(message.contains("not finite"), "{message}");
    let run = dir.path().join("nan");
    assert_eq!(RunInfo::read(&run).unwrap().status, RunStatus::Failed);
    let events = EventReader::new(run.join(fer::run::EVENTS_FILE))
        .poll()
        .unwrap();
    let last: Vec<&Event> = events.iter().rev().take(2).map(|r| &r.event).collect();
    assert!(
        matches!(
            last[..],
            [
                Event::RunEnd {
                    status: RunStatus::Failed,
                    epochs_done: 0,
                    ..
                },
                Event::Failure { .. }
            ]
        ),
        "{last:?}"
    );
}

/// The TOML example in README.md is a valid configuration.
#[test]
fn readme_configuration_example_parses() {
    let readme = include_str!("../README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let config: TrainConfig = toml::from_str(block).unwrap();
    config.validate().unwrap();
    assert_eq!(config.adversarial.unwrap().adv_step_size, 0.12);
    assert_eq!(config.augment.rotation_degrees, 10.0);
    assert_eq!(config.early_stopping_patience, Some(8));
    assert_eq!(config.classes.map(|c| c.len()), Some(3));
    assert_eq!(config.split, fer::data::SplitPlan::default());
}

#[test]
fn evaluation_scores_a_model_in_training_mode_as_in_inference_mode() {
    let _serial = one_run_at_a_time();
    let faces = faces(64, 3);
    let device = Device::flex();
    let mut network = fer::model::CnnConfig::preset("tiny").unwrap();
    network.dense[0].dropout = 0.5;
    // Fresh from training: autodiff tensors, dropout on, BatchNorm on batch statistics.
    let training = network.init(&device.clone().autodiff());
    let evaluate = |model: &fer::model::Cnn| {
        fer::metrics::evaluate(model, &faces, 16, None, &device)
            .unwrap()
            .probabilities
    };
    let first = evaluate(&training);
    assert_eq!(first, evaluate(&training), "no dropout noise");
    assert_eq!(first, evaluate(&training.valid()), "running statistics");
}

#[test]
fn a_checkpoint_that_cannot_be_written_fails_the_run_before_history_lists_its_epoch() {
    let _serial = one_run_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("full");
    let checkpoints = run.join("checkpoints");
    let train = faces(60, 4);
    let error = Training::new(&tiny(3))
        .save(options(dir.path(), "full", false))
        .on_event(|event| {
            // After epoch 1 the checkpoint folder becomes a file: the next save fails, as on
            // a full or read-only disk.
            if matches!(event, Event::EpochEnd { epoch: 1, .. }) {
                std::fs::remove_dir_all(&checkpoints).unwrap();
                std::fs::write(&checkpoints, "in the way").unwrap();
            }
        })
        .fit(&train)
        .unwrap_err();
    assert!(matches!(error, TrainError::Io { .. }), "{error}");
    let history = std::fs::read_to_string(run.join(fer::run::HISTORY_FILE)).unwrap();
    assert_eq!(
        history.lines().count(),
        2,
        "header and epoch 1 only:\n{history}"
    );
    assert_eq!(RunInfo::read(&run).unwrap().status, RunStatus::Failed);
    let events = EventReader::new(run.join(fer::run::EVENTS_FILE))
        .poll()
        .unwrap();
    assert!(matches!(
        events.last().map(|r| &r.event),
        Some(Event::RunEnd {
            status: RunStatus::Failed,
            epochs_done: 1,
            ..
        })
    ));
}
