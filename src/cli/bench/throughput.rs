//! Images per second of fer's training step, adversarial step and prediction.

use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::prelude::*;
use fer::data::{self, BatchConfig, Dataset};
use fer::model::CnnConfig;
use fer::nsl::{train_step, AdvRegConfig, Classifier};
use fer::train::{images_tensor, labels_tensor};

/// Training steps (Adam, as `fer train` runs them) over the first `images` faces after one
/// warm-up step; adversarial with `adversarial`.
pub fn train_rate(
    network: &CnnConfig,
    faces: &Dataset,
    images: usize,
    batch_size: usize,
    adversarial: Option<&AdvRegConfig>,
    device: &Device,
) -> anyhow::Result<f64> {
    let device = device.clone().autodiff();
    let mut model = network.init(&device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let config = BatchConfig {
        batch_size,
        ..Default::default()
    };
    let batches: Vec<_> = faces
        .subset(&(0..images).collect::<Vec<_>>())
        .batches(&config, 0)?
        .collect();
    let mut step = |model: fer::model::Cnn, batch: data::Batch| {
        let labels = labels_tensor(&batch.labels, &device);
        let (grads, _) = train_step(
            &model,
            images_tensor(batch.images, &device),
            labels,
            adversarial,
        );
        optimizer.step(1e-3, model, grads)
    };
    let mut batches = batches.into_iter();
    let warm_up = batches
        .next()
        .ok_or_else(|| anyhow::anyhow!("no images to time"))?;
    model = step(model, warm_up);
    let start = Instant::now();
    let timed = batches.len() * batch_size;
    if timed == 0 {
        anyhow::bail!("--images {images} leaves nothing to time after the warm-up batch");
    }
    for batch in batches {
        model = step(model, batch);
    }
    drop(model);
    Ok(timed as f64 / start.elapsed().as_secs_f64())
}

/// Inference-mode class predictions of `images` faces in batches of 256, after one
/// untimed pass.
pub fn predict_rate(
    network: &CnnConfig,
    faces: &Dataset,
    images: usize,
    device: &Device,
) -> anyhow::Result<f64> {
    let model = network.init(device).valid();
    let config = BatchConfig {
        batch_size: 256,
        shuffle: false,
        ..Default::default()
    };
    let faces = faces.subset(&(0..images).collect::<Vec<_>>());
    let run = || -> anyhow::Result<()> {
        for batch in faces.batches(&config, 0)? {
            let _ = model
                .logits(images_tensor(batch.images, device))
                .argmax(1)
                .into_data();
        }
        Ok(())
    };
    run()?;
    let start = Instant::now();
    run()?;
    Ok(images as f64 / start.elapsed().as_secs_f64())
}
