//! TensorBoard event files: the TFRecord framing against bytes TensorBoard's own writer
//! produced, reading back with CRC checks, and a trained run's files against its history.

mod common;

use common::{fer, stdout};
use fer::run::tensorboard::{frame, masked_crc32c, proto, read_events, records, TfRecordError};
use prost::Message;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn framing_matches_tensorboards_record_writer() {
    // tensorboard 2.20's RecordWriter (Python) on the same inputs.
    assert_eq!(
        hex(&frame(b"hello tensorboard")),
        "11000000000000009d6db52e68656c6c6f2074656e736f72626f617264a46f74d8"
    );
    let event = proto::Event {
        wall_time: 1.5,
        step: 3,
        what: Some(proto::What::Summary(proto::Summary {
            value: vec![proto::Value {
                tag: "train/loss".into(),
                content: Some(proto::Content::SimpleValue(0.25)),
            }],
        })),
    };
    assert_eq!(
        hex(&frame(&event.encode_to_vec())),
        "200000000000000029eda95009000000000000f83f10032a130a110a0a747261696e2f6c6f7373150000803e43301b92"
    );
    let version = proto::Event {
        wall_time: 1.5,
        step: 0,
        what: Some(proto::What::FileVersion("brain.Event:2".into())),
    };
    assert_eq!(
        hex(&version.encode_to_vec()),
        "09000000000000f83f1a0d627261696e2e4576656e743a32"
    );
    // CRC-32C's check value, then TFRecord's mask of it.
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(
        masked_crc32c(b"123456789"),
        0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8)
    );
}

#[test]
fn reading_back_checks_every_length_and_crc() {
    let mut bytes = frame(b"first");
    bytes.extend(frame(b""));
    bytes.extend(frame(b"third record"));
    assert_eq!(
        records(&bytes).unwrap(),
        [&b"first"[..], b"", b"third record"]
    );

    let second = frame(b"first").len();
    for cut in 1..bytes.len() {
        let result = records(&bytes[..cut]);
        if cut == second || cut == second + 16 {
            assert!(result.is_ok(), "a cut between records at {cut}");
        } else {
            assert!(
                matches!(result, Err(TfRecordError::Truncated { .. })),
                "cut at {cut}: {result:?}"
            );
        }
    }
    for (flip, what) in [(0, "length"), (9, "length"), (13, "data"), (18, "data")] {
        let mut damaged = bytes.clone();
        damaged[flip] ^= 0x04;
        let error = records(&damaged).unwrap_err();
        match (flip, &error) {
            // A flipped length bit fails the length CRC before the length is believed.
            (_, TfRecordError::Crc { offset: 0, what: w }) => assert_eq!(*w, what),
            _ => panic!("flip at {flip}: {error:?}"),
        }
    }
}

/// The scalar values of `tag` by step.
fn scalars(events: &[proto::Event], tag: &str) -> Vec<(i64, f32)> {
    let mut out = Vec::new();
    for event in events {
        if let Some(proto::What::Summary(summary)) = &event.what {
            for value in &summary.value {
                if let (true, Some(proto::Content::SimpleValue(v))) =
                    (value.tag == tag, &value.content)
                {
                    out.push((event.step, *v));
                }
            }
        }
    }
    out
}

fn history_column(csv: &str, column: &str) -> Vec<f32> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let index = header.iter().position(|c| *c == column).unwrap();
    lines
        .map(|l| l.split(',').nth(index).unwrap().parse::<f64>().unwrap() as f32)
        .collect()
}

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// `fer train` of `tiny` on synthetic faces into `d/runs/NAME`.
fn train(d: &std::path::Path, name: &str, epochs: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        "synthetic:240",
        "--preset",
        "tiny",
        "--epochs",
        epochs,
        "--name",
        name,
    ];
    args.extend(extra);
    stdout(&fer(&args, d));
}

#[test]
fn a_run_writes_every_epochs_scalars_and_confusion_and_export_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    train(d, "tb", "3", &["--adversarial"]);
    let run = d.join("runs/tb");
    let file = only_file(&run.join("tb"));
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    let events = read_events(&file).unwrap();
    assert_eq!(
        events[0].what,
        Some(proto::What::FileVersion("brain.Event:2".into()))
    );

    let history = std::fs::read_to_string(run.join("history.csv")).unwrap();
    for (tag, column) in [
        ("train/loss", "loss"),
        ("train/categorical_accuracy", "categorical_accuracy"),
        ("train/scaled_adversarial_loss", "scaled_adversarial_loss"),
        ("validation/loss", "val_loss"),
        (
            "validation/categorical_accuracy",
            "val_categorical_accuracy",
        ),
        (
            "validation/categorical_crossentropy",
            "val_categorical_crossentropy",
        ),
        ("train/learning_rate", "lr"),
    ] {
        let want: Vec<(i64, f32)> = history_column(&history, column)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as i64 + 1, v))
            .collect();
        assert_eq!(scalars(&events, tag), want, "{tag}");
    }
    assert!(scalars(&events, "train/scaled_adversarial_loss")
        .iter()
        .all(|(_, v)| *v > 0.0));
    assert_eq!(scalars(&events, "per_class/happiness").len(), 3);
    let steps = scalars(&events, "step/loss");
    assert!(
        steps.len() >= 3 && steps.windows(2).all(|w| w[0].0 < w[1].0),
        "{steps:?}"
    );
    let images: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.what {
            Some(proto::What::Summary(s)) => s.value.iter().find_map(|v| match &v.content {
                Some(proto::Content::Image(image)) => Some((e.step, v.tag.clone(), image.clone())),
                _ => None,
            }),
            _ => None,
        })
        .collect();
    assert_eq!(images.len(), 3);
    for (step, (epoch, tag, image)) in (1..).zip(images) {
        assert_eq!((epoch, tag.as_str()), (step, "validation/confusion_matrix"));
        assert!(image.encoded_image_string.starts_with(b"\x89PNG\r\n\x1a\n"));
        let size = image::load_from_memory(&image.encoded_image_string).unwrap();
        assert_eq!(
            (size.width() as i32, size.height() as i32),
            (image.width, image.height)
        );
    }

    // The conversion of the same run's log gives the same summaries.
    let out = stdout(&fer(
        &["export", "runs/tb", "--tensorboard", "converted"],
        d,
    ));
    assert!(out.contains("fer events"), "{out}");
    let converted = read_events(&only_file(&d.join("converted"))).unwrap();
    assert_eq!(converted.len(), events.len());
    for (a, b) in converted.iter().zip(&events) {
        assert_eq!((a.step, &a.what), (b.step, &b.what));
    }

    // --no-tensorboard writes none.
    train(d, "quiet", "1", &["--no-tensorboard"]);
    // And its TOML twin.
    std::fs::write(d.join("quiet.toml"), "tensorboard = false\n").unwrap();
    train(d, "quiet-toml", "1", &["--config", "quiet.toml"]);
    assert!(d.join("runs/quiet-toml/history.csv").is_file());
    assert!(!d.join("runs/quiet-toml/tb").exists());
    assert!(d.join("runs/quiet/history.csv").is_file());
    assert!(!d.join("runs/quiet/tb").exists());
}

#[test]
fn an_older_run_log_converts() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("old");
    std::fs::create_dir_all(&run).unwrap();
    // A log from before graph regularization: no scaled_graph_loss, no data_wait_seconds.
    std::fs::write(
        run.join("events.jsonl"),
        concat!(
            r#"{"v":1,"time":10.0,"kind":"run_start","name":"old","model":"tiny","classes":["happiness","sadness"],"epochs":2,"steps_per_epoch":1,"batch_size":50,"backend":"flex","device":"cpu","adversarial":false,"resumed_from_epoch":null}"#, "\n",
            r#"{"v":1,"time":11.0,"kind":"epoch_end","epoch":1,"train":{"loss":1.25,"categorical_crossentropy":1.25,"categorical_accuracy":0.5,"scaled_adversarial_loss":0},"validation":{"loss":1.5,"categorical_crossentropy":1.5,"categorical_accuracy":0.75,"scaled_adversarial_loss":0},"per_class_accuracy":[1.0,0.5],"confusion":[[2,0],[1,1]],"lr":0.001,"seconds":2.0}"#, "\n",
            "not json\n",
        ),
    )
    .unwrap();
    let out = stdout(&fer(&["export", "old", "--tensorboard", "tb"], dir.path()));
    assert!(out.contains("(2 fer events)"), "{out}");
    let events = read_events(&only_file(&dir.path().join("tb"))).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].wall_time, 11.0);
    assert_eq!(
        scalars(&events, "validation/categorical_accuracy"),
        [(1, 0.75)]
    );
    assert_eq!(scalars(&events, "per_class/sadness"), [(1, 0.5)]);
    assert_eq!(scalars(&events, "train/scaled_graph_loss"), [(1, 0.0)]);

    let not_a_run = fer(&["export", "tb", "--tensorboard", "again"], dir.path());
    assert!(!not_a_run.status.success());
    let error = String::from_utf8_lossy(&not_a_run.stderr);
    assert!(
        error.contains("events.jsonl: no such file: not a fer run directory"),
        "{error}"
    );
}
