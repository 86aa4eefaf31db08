//! Recorded event logs for the dashboard tests.
#![allow(dead_code)]

use fer::run::events::{Event, Metrics, Record, SCHEMA_VERSION};

pub const CLASSES: [&str; 7] = [
    "anger",
    "disgust",
    "fear",
    "happiness",
    "sadness",
    "surprise",
    "neutral",
];

pub fn record(time: f64, event: Event) -> Record {
    Record {
        v: SCHEMA_VERSION,
        time,
        event,
    }
}

pub fn start(resumed_from_epoch: Option<usize>) -> Event {
    Event::RunStart {
        name: "nsl-run".into(),
        model: "report-4.2".into(),
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        epochs: 5,
        steps_per_epoch: 10,
        batch_size: 50,
        backend: "flex".into(),
        device: "cpu".into(),
        adversarial: true,
        graph: false,
        resumed_from_epoch,
    }
}

pub fn metrics(loss: f64, accuracy: f64) -> Metrics {
    Metrics {
        loss,
        categorical_crossentropy: loss * 0.8,
        categorical_accuracy: accuracy,
        scaled_adversarial_loss: loss * 0.2,
        scaled_graph_loss: 0.0,
    }
}

/// Steps and epoch ends for epochs `first..=last` (10 steps each).
pub fn epochs(first: usize, last: usize, t0: f64) -> Vec<Record> {
    let mut out = Vec::new();
    for epoch in first..=last {
        for step in 1..=10 {
            let g = (epoch - 1) * 10 + step;
            out.push(record(
                t0 + g as f64,
                Event::Step {
                    epoch,
                    step,
                    global_step: g,
                    images: step * 50,
                    metrics: metrics(2.0 / g as f64 + 0.5, 0.3 + 0.05 * epoch as f64),
                    per_class_accuracy: vec![
                        Some(0.6),
                        Some(0.1),
                        Some(0.5),
                        Some(0.9),
                        Some(0.7),
                        Some(0.8),
                        None,
                    ],
                    images_per_second: 25.0,
                    lr: 1e-3,
                },
            ));
        }
        let mut confusion = vec![vec![0u64; 7]; 7];
        for (c, row) in confusion.iter_mut().enumerate() {
            row[c] = 40 + c as u64;
            row[(c + 1) % 7] = 7;
        }
        out.push(record(
            t0 + (epoch * 10) as f64 + 0.5,
            Event::EpochEnd {
                epoch,
                train: metrics(1.0 / epoch as f64 + 0.4, 0.4 + 0.05 * epoch as f64),
                validation: Some(metrics(
                    1.2 / epoch as f64 + 0.5,
                    0.35 + 0.05 * epoch as f64,
                )),
                per_class_accuracy: vec![
                    Some(0.62),
                    Some(0.12),
                    Some(0.55),
                    Some(0.91),
                    Some(0.73),
                    Some(0.84),
                    Some(0.66),
                ],
                confusion: Some(confusion),
                lr: 1e-3,
                seconds: 10.0,
                data_wait_seconds: 0.004,
            },
        ));
    }
    out
}
