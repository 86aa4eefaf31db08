//! Pictures and tables: real renders, checked by decoding them.

use base64::Engine;
use fer::data::synth::{synthesize, SynthConfig};
use fer::data::{ClassCounts, Emotion};
use fer::metrics::ConfusionMatrix;
use fer::model::CnnConfig;
use fer::run::events::Metrics;
use fer::run::EpochRecord;
use fer::viz::{self, Figure};

fn decoded(figure: &Figure) -> image::RgbImage {
    assert!(figure.png().starts_with(b"\x89PNG"));
    let img = image::load_from_memory(figure.png()).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (figure.width, figure.height));
    assert!(figure.svg().starts_with("<svg"));
    img
}

#[test]
fn class_counts_and_tables() {
    let ds = synthesize(&SynthConfig {
        n: 200,
        seed: 3,
        usage: Some([0.8, 0.1, 0.1]),
        ..Default::default()
    })
    .unwrap();
    let counts = ClassCounts::of(&ds).unwrap();
    let figure = viz::class_counts(&counts).unwrap();
    let img = decoded(&figure);
    assert!(
        img.pixels().any(|p| p.0 == [70, 110, 180]),
        "bars are drawn"
    );
    for needle in ["faces per class", "happiness", &counts.total[3].to_string()] {
        assert!(figure.svg().contains(needle), "{needle}");
    }
    let html = counts.to_html();
    assert!(
        html.contains("<td>happiness</td>") && html.contains("<th>PrivateTest</th>"),
        "{html}"
    );

    let summary = CnnConfig::preset("report-4.2").unwrap().summary().to_html();
    assert!(summary.contains("<td>2395591</td>") && summary.contains("conv2d_5 (Conv2D)"));
    let report = ConfusionMatrix::from_predictions(
        vec![Emotion::Fear, Emotion::Sadness],
        &[0, 1, 1],
        &[0, 1, 0],
    )
    .report();
    assert!(report.to_html().contains("<td>weighted avg</td>"));
}

#[test]
fn face_grids_show_the_faces() {
    let ds = synthesize(&SynthConfig {
        n: 80,
        seed: 1,
        ..Default::default()
    })
    .unwrap();
    let grid = viz::face_grid(&ds, 5, 0).unwrap();
    let img = decoded(&grid);
    assert_eq!(grid.height, 7 * (96 + 6) + 6);
    // Every class row shows faces: gray levels, not white, in its first cell.
    for c in 0..7u32 {
        let (x, y) = (120 + 48, 6 + c * 102 + 48);
        let p = img.get_pixel(x, y).0;
        assert!(p[0] == p[1] && p[1] == p[2], "gray");
    }
    assert!(grid.svg().contains("data:image/png;base64,"));

    let wrong = [(0, 3u8, 6u8), (5, 1, 2), (9, 0, 4)];
    let mis = viz::misclassified_grid(&ds, &wrong, 2, 10).unwrap();
    let img = decoded(&mis);
    assert_eq!(img.dimensions().1, 2 * (96 + 36 + 6) + 6);
    // The first face is pasted 2x at (26, 6): its top-left pixel is the face's first pixel.
    assert_eq!(img.get_pixel(26, 6).0[0], ds.face(0)[0]);
}

#[test]
fn curves_heatmap_and_evcxr_display() {
    let m = |loss: f64, acc: f64| Metrics {
        loss,
        categorical_crossentropy: loss * 0.8,
        categorical_accuracy: acc,
        scaled_adversarial_loss: loss * 0.2,
        scaled_graph_loss: loss * 0.1,
    };
    let history: Vec<EpochRecord> = (1..=4)
        .map(|e| EpochRecord {
            epoch: e,
            train: m(2.0 / e as f64, 0.2 * e as f64),
            validation: Some(m(2.5 / e as f64, 0.18 * e as f64)),
            lr: 1e-3,
            seconds: 1.0,
        })
        .collect();
    let curves = viz::training_curves(&history).unwrap();
    decoded(&curves);
    for needle in [
        "scaled adversarial loss",
        "categorical cross-entropy",
        "validation",
        "epoch",
    ] {
        assert!(curves.svg().contains(needle), "{needle}");
    }

    let cm = ConfusionMatrix::from_predictions(
        Emotion::ALL.to_vec(),
        &[0, 0, 0, 3, 3, 6],
        &[0, 0, 6, 3, 3, 6],
    );
    let heat = viz::confusion_heatmap(&cm).unwrap();
    decoded(&heat);
    assert!(heat.svg().contains("67%") && heat.svg().contains("neutral"));

    let content = heat.evcxr_content();
    let body = content
        .strip_prefix("EVCXR_BEGIN_CONTENT image/png\n")
        .unwrap();
    let body = body.strip_suffix("\nEVCXR_END_CONTENT").unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
        heat.png()
    );

    let dir = tempfile::tempdir().unwrap();
    heat.save_png(dir.path().join("cm.png")).unwrap();
    heat.save_svg(dir.path().join("cm.svg")).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("cm.png")).unwrap(),
        heat.png()
    );
}
