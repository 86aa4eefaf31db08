//! Dataset operations: class selection, stratified and usage splits, batches.

use std::collections::BTreeSet;

use fer::data::{Augment, BatchConfig, Dataset, Emotion, Split, FACE_PIXELS};

/// `counts[c]` faces of class c; face bytes 0-1 hold the row number so rows can be traced.
fn dataset(counts: &[usize]) -> Dataset {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut usage = Vec::new();
    for (class, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let row = labels.len();
            let mut face = vec![(row * 3 % 256) as u8; FACE_PIXELS];
            face[0] = (row % 256) as u8;
            face[1] = (row / 256) as u8;
            pixels.extend(face);
            labels.push(class as u8);
            usage.push(Split::ALL[row % 10 / 8 + row % 10 / 9]);
        }
    }
    Dataset::new(pixels, Some(labels), Some(usage), Emotion::ALL.to_vec()).unwrap()
}

fn row_ids(ds: &Dataset) -> Vec<usize> {
    (0..ds.len())
        .map(|i| ds.face(i)[0] as usize + 256 * ds.face(i)[1] as usize)
        .collect()
}

fn class_counts(ds: &Dataset) -> Vec<usize> {
    let mut counts = vec![0; ds.classes().len()];
    for &l in ds.labels().unwrap() {
        counts[l as usize] += 1;
    }
    counts
}

#[test]
fn stratified_split_keeps_class_ratios_and_is_seeded() {
    let ds = dataset(&[100, 50, 0, 11, 7, 3, 1]);
    let (train, val) = ds.split_stratified(0.9, 7).unwrap();
    assert_eq!(class_counts(&train), [90, 45, 0, 10, 6, 3, 1]);
    assert_eq!(class_counts(&val), [10, 5, 0, 1, 1, 0, 0]);
    let (a, b) = (row_ids(&train), row_ids(&val));
    let all: BTreeSet<usize> = a.iter().chain(&b).copied().collect();
    assert_eq!(all.len(), ds.len(), "every row in exactly one part");
    assert!(a.windows(2).all(|w| w[0] < w[1]), "original order kept");

    let (train_again, _) = ds.split_stratified(0.9, 7).unwrap();
    assert_eq!(train_again, train);
    let (other, _) = ds.split_stratified(0.9, 8).unwrap();
    assert_ne!(row_ids(&other), a);

    for bad in [0.0, 1.0, -0.5, f64::NAN] {
        let error = ds.split_stratified(bad, 1).unwrap_err().to_string();
        assert!(error.contains("strictly between 0 and 1"), "{error}");
    }
}

#[test]
fn usage_split_follows_the_usage_column() {
    let ds = dataset(&[40, 10, 0, 30, 20, 0, 0]);
    let parts = ds.split_by_usage().unwrap();
    assert_eq!(
        (parts.train.len(), parts.validation.len(), parts.test.len()),
        (80, 10, 10)
    );
    assert!(parts
        .validation
        .usage()
        .unwrap()
        .iter()
        .all(|&u| u == Split::Validation));
    let no_usage = Dataset::new(
        vec![0; FACE_PIXELS],
        Some(vec![0]),
        None,
        Emotion::ALL.to_vec(),
    )
    .unwrap();
    assert!(no_usage
        .split_by_usage()
        .unwrap_err()
        .to_string()
        .contains("no Usage column"));
}

#[test]
fn select_classes_relabels_in_the_given_order() {
    let ds = dataset(&[2, 2, 2, 3, 4, 2, 5]);
    let three = ds
        .select_classes(&[Emotion::Happiness, Emotion::Sadness, Emotion::Neutral])
        .unwrap();
    assert_eq!(class_counts(&three), [3, 4, 5]);
    assert_eq!(three.class_of(0), Some(Emotion::Happiness));
    let nested = three.select_classes(&[Emotion::Neutral]).unwrap();
    assert_eq!(nested.labels().unwrap(), [0, 0, 0, 0, 0]);
    assert_eq!(nested.classes(), [Emotion::Neutral]);

    let twice = ds
        .select_classes(&[Emotion::Fear, Emotion::Fear])
        .unwrap_err();
    assert!(twice.to_string().contains("selected twice"));
    let absent = three.select_classes(&[Emotion::Anger]).unwrap_err();
    assert!(absent
        .to_string()
        .contains("'anger' is not in this data set"));
    let unlabeled = Dataset::new(vec![0; FACE_PIXELS], None, None, Emotion::ALL.to_vec()).unwrap();
    assert!(unlabeled.select_classes(&[Emotion::Fear]).is_err());
}

#[test]
fn batches_cover_every_row_once_per_epoch_in_seeded_order() {
    let ds = dataset(&[10, 5, 5, 3, 0, 0, 0]);
    let config = BatchConfig {
        batch_size: 5,
        seed: 11,
        ..Default::default()
    };
    let epoch = |e| -> Vec<usize> {
        ds.batches(&config, e)
            .unwrap()
            .flat_map(|b| {
                assert_eq!(b.images.len(), b.len() * FACE_PIXELS);
                assert_eq!(b.shape(), [b.len(), 1, 48, 48]);
                for (k, &row) in b.indices.iter().enumerate() {
                    assert_eq!(b.labels[k], ds.labels().unwrap()[row]);
                    let image = &b.images[k * FACE_PIXELS..(k + 1) * FACE_PIXELS];
                    assert_eq!(image[5], ds.face(row)[5] as f32 / 255.0);
                }
                b.indices
            })
            .collect()
    };
    let first = epoch(0);
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..23).collect::<Vec<_>>());
    assert_ne!(first, sorted, "shuffled");
    assert_eq!(epoch(0), first, "same seed and epoch, same order");
    assert_ne!(epoch(1), first, "a new order each epoch");

    let sizes: Vec<usize> = ds.batches(&config, 0).unwrap().map(|b| b.len()).collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    let drop = BatchConfig {
        drop_last: true,
        shuffle: false,
        ..config
    };
    let batches: Vec<_> = ds.batches(&drop, 0).unwrap().collect();
    assert_eq!(batches.len(), 4);
    assert_eq!(batches[0].indices, [0, 1, 2, 3, 4]);
    assert!(ds
        .batches(
            &BatchConfig {
                batch_size: 0,
                ..config
            },
            0
        )
        .is_err());
}

#[test]
fn augmentation_depends_on_seed_epoch_and_row_not_on_batching() {
    let ds = dataset(&[6, 6, 0, 0, 0, 0, 0]);
    let augment = Augment {
        rotation_degrees: 15.0,
        zoom: 0.15,
        shift: 0.1,
        horizontal_flip: true,
    };
    let images_by_row = |batch_size, epoch| {
        let config = BatchConfig {
            batch_size,
            seed: 3,
            augment,
            ..Default::default()
        };
        let mut rows = vec![Vec::new(); ds.len()];
        for b in ds.batches(&config, epoch).unwrap() {
            for (k, &row) in b.indices.iter().enumerate() {
                rows[row] = b.images[k * FACE_PIXELS..(k + 1) * FACE_PIXELS].to_vec();
            }
        }
        rows
    };
    let a = images_by_row(4, 0);
    assert_eq!(a, images_by_row(5, 0));
    assert_ne!(a, images_by_row(4, 1));
    assert!(a.iter().flatten().all(|&v| (0.0..=1.0).contains(&v)));
}
