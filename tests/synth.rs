//! The synthetic face generator: determinism, class and usage balance, learnability, and
//! rejection of bad settings.

use fer::data::synth::{render_face, synthesize, SynthConfig, FER2013_COUNTS};
use fer::data::{DataError, Dataset, Emotion, Split, FACE_PIXELS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn config(n: usize, seed: u64) -> SynthConfig {
    SynthConfig {
        n,
        seed,
        ..SynthConfig::default()
    }
}

#[test]
fn same_config_gives_identical_data_and_faces_do_not_depend_on_n() {
    let cfg = SynthConfig {
        usage: Some([0.8, 0.1, 0.1]),
        ..config(200, 11)
    };
    let a = synthesize(&cfg).unwrap();
    let b = synthesize(&cfg).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 200);
    assert_eq!(a.classes(), &Emotion::ALL[..]);
    assert_eq!(a.usage().map(<[Split]>::len), Some(200));

    let other = synthesize(&config(200, 12)).unwrap();
    assert_ne!(a.pixels(), other.pixels());

    // Face i comes from (seed, i) alone: the same in a smaller data set, with or without usage.
    let small = synthesize(&config(50, 11)).unwrap();
    assert!(small.usage().is_none());
    assert_eq!(small.pixels(), &a.pixels()[..50 * FACE_PIXELS]);
    assert_eq!(small.labels().unwrap(), &a.labels().unwrap()[..50]);

    // render_face is a pure function of its random stream.
    let face = |seed| render_face(Emotion::Surprise, &mut ChaCha8Rng::seed_from_u64(seed));
    assert_eq!(face(5), face(5));
    assert_ne!(face(5), face(6));
}

#[test]
fn classes_follow_fer2013_and_usage_follows_fractions() {
    let n = 20_000;
    let ds = synthesize(&SynthConfig {
        usage: Some([0.8, 0.1, 0.1]),
        ..config(n, 3)
    })
    .unwrap();

    let mut counts = [0usize; 7];
    for &l in ds.labels().unwrap() {
        counts[l as usize] += 1;
    }
    let total: usize = FER2013_COUNTS.iter().sum();
    for (c, (&got, &fer)) in counts.iter().zip(&FER2013_COUNTS).enumerate() {
        let share = got as f64 / n as f64;
        let expected = fer as f64 / total as f64;
        assert!(
            (share - expected).abs() < 0.015,
            "{}: share {share:.4}, FER2013 {expected:.4}",
            Emotion::ALL[c]
        );
    }
    let rarest = (0..7).min_by_key(|&c| counts[c]).unwrap();
    assert_eq!(Emotion::ALL[rarest], Emotion::Disgust, "counts {counts:?}");

    let usage = ds.usage().unwrap();
    for (split, expected) in Split::ALL.into_iter().zip([0.8, 0.1, 0.1]) {
        let share = usage.iter().filter(|&&u| u == split).count() as f64 / n as f64;
        assert!(
            (share - expected).abs() < 0.02,
            "{split}: share {share:.4}, asked {expected}"
        );
    }
}

#[test]
fn zero_weight_classes_never_appear() {
    let mut weights = [0.0; 7];
    weights[Emotion::Happiness.index()] = 1.0;
    weights[Emotion::Sadness.index()] = 3.0;
    let ds = synthesize(&SynthConfig {
        class_weights: weights,
        ..config(400, 9)
    })
    .unwrap();
    let labels = ds.labels().unwrap();
    assert!(labels.iter().all(
        |&l| l as usize == Emotion::Happiness.index() || l as usize == Emotion::Sadness.index()
    ));
    let sad = labels
        .iter()
        .filter(|&&l| l as usize == Emotion::Sadness.index())
        .count();
    assert!(
        (250..350).contains(&sad),
        "{sad} of 400 sad, expected about 300"
    );
}

/// Each face standardised to mean 0 and deviation 1, so the classifier compares shapes
/// rather than exposure.
fn standardised(ds: &Dataset, i: usize) -> Vec<f32> {
    let face = ds.face(i);
    let n = FACE_PIXELS as f32;
    let mean = face.iter().map(|&p| p as f32).sum::<f32>() / n;
    let var = face.iter().map(|&p| (p as f32 - mean).powi(2)).sum::<f32>() / n;
    let sd = var.sqrt().max(1.0);
    face.iter().map(|&p| (p as f32 - mean) / sd).collect()
}

#[test]
fn faces_are_learnable_but_not_trivial() {
    let train = synthesize(&config(3000, 1)).unwrap();
    let test = synthesize(&config(1000, 2)).unwrap();

    // No degenerate faces: visible structure and a sane exposure.
    for ds in [&train, &test] {
        for i in 0..ds.len() {
            let face = ds.face(i);
            let mean = face.iter().map(|&p| p as f64).sum::<f64>() / FACE_PIXELS as f64;
            let var =
                face.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / FACE_PIXELS as f64;
            assert!(var.sqrt() > 10.0, "face {i}: std {:.1}", var.sqrt());
            assert!((40.0..220.0).contains(&mean), "face {i}: mean {mean:.1}");
        }
    }

    // Nearest class mean on standardised pixels.
    let mut means = vec![vec![0f32; FACE_PIXELS]; 7];
    let mut counts = [0usize; 7];
    for (i, &label) in train.labels().unwrap().iter().enumerate() {
        counts[label as usize] += 1;
        for (m, p) in means[label as usize]
            .iter_mut()
            .zip(standardised(&train, i))
        {
            *m += p;
        }
    }
    for (mean, &count) in means.iter_mut().zip(&counts) {
        assert!(count > 0, "a class is missing from 3,000 faces: {counts:?}");
        mean.iter_mut().for_each(|m| *m /= count as f32);
    }
    let labels = test.labels().unwrap();
    let correct = (0..test.len())
        .filter(|&i| {
            let face = standardised(&test, i);
            let distance =
                |m: &Vec<f32>| -> f32 { m.iter().zip(&face).map(|(a, b)| (a - b) * (a - b)).sum() };
            let best = (0..7)
                .min_by(|&a, &b| distance(&means[a]).total_cmp(&distance(&means[b])))
                .unwrap();
            best == labels[i] as usize
        })
        .count();
    let accuracy = correct as f64 / test.len() as f64;

    let mut test_counts = [0usize; 7];
    labels.iter().for_each(|&l| test_counts[l as usize] += 1);
    let majority = *test_counts.iter().max().unwrap() as f64 / test.len() as f64;
    eprintln!("nearest-class-mean accuracy {accuracy:.3} (majority class {majority:.3})");
    assert!(
        accuracy > majority + 0.12,
        "accuracy {accuracy:.3} is not well above the majority rate {majority:.3}"
    );
    assert!(
        accuracy < 0.97,
        "accuracy {accuracy:.3}: the task is trivial"
    );
}

fn invalid_message(cfg: &SynthConfig) -> String {
    match synthesize(cfg) {
        Err(DataError::Invalid(message)) => message,
        Err(other) => panic!("expected DataError::Invalid, got {other:?}"),
        Ok(_) => panic!("expected an error for {cfg:?}"),
    }
}

#[test]
fn bad_settings_are_rejected_with_the_field_named() {
    let message = invalid_message(&config(0, 0));
    assert!(message.contains("n must be at least 1"), "{message}");

    let mut weights = SynthConfig::default().class_weights;
    weights[2] = -1.0;
    let message = invalid_message(&SynthConfig {
        class_weights: weights,
        ..config(10, 0)
    });
    assert!(message.contains("class_weights[2]"), "{message}");

    let message = invalid_message(&SynthConfig {
        class_weights: [0.0; 7],
        ..config(10, 0)
    });
    assert!(message.contains("class_weights"), "{message}");

    weights[2] = f64::NAN;
    let message = invalid_message(&SynthConfig {
        class_weights: weights,
        ..config(10, 0)
    });
    assert!(message.contains("class_weights[2]"), "{message}");

    let message = invalid_message(&SynthConfig {
        usage: Some([0.8, 0.1, 0.2]),
        ..config(10, 0)
    });
    assert!(
        message.contains("usage") && message.contains("sum"),
        "{message}"
    );

    let message = invalid_message(&SynthConfig {
        usage: Some([1.2, -0.1, -0.1]),
        ..config(10, 0)
    });
    assert!(message.contains("usage"), "{message}");

    // Fractions that sum to 1 within rounding are fine.
    let ok = SynthConfig {
        usage: Some([0.7, 0.2, 0.1]),
        ..config(5, 0)
    };
    assert_eq!(synthesize(&ok).unwrap().len(), 5);
}

/// `data/synthetic-sample.csv` is exactly what its README's command writes.
#[test]
fn bundled_sample_is_reproducible() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/synthetic-sample.csv");
    let bundled = fer::data::csv::read_csv(path, &fer::data::LoadOptions::default())
        .unwrap()
        .dataset;
    let config = SynthConfig {
        n: 300,
        seed: 2013,
        usage: Some([0.8, 0.1, 0.1]),
        ..Default::default()
    };
    assert_eq!(synthesize(&config).unwrap(), bundled);
}
