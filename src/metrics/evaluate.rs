//! Scoring a model on a data set: NSL's four metrics, the confusion matrix, wrong predictions,
//! and accuracy under attack.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::predictions::{argmax, FaceId, Prediction};
use super::ConfusionMatrix;
use crate::data::{BatchConfig, DataError, Dataset};
use crate::model::{images_tensor, labels_tensor};
use crate::nsl::{adversarial_examples, cross_entropy, AdvNorm, AdvRegConfig, Classifier};
use crate::run::events::Metrics;

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Loss, cross-entropy, accuracy and scaled adversarial loss (the study's Fig. 5.4).
    pub metrics: Metrics,
    pub confusion: ConfusionMatrix,
    /// Predicted class of every face, in data set order.
    pub predictions: Vec<u8>,
    /// Class probabilities of every face, in data set order.
    pub probabilities: Vec<Vec<f32>>,
}

impl Evaluation {
    /// Every face's prediction, traced to its row of the data file (for
    /// [`write_predictions`](super::write_predictions)).
    pub fn table(&self, dataset: &Dataset) -> Vec<Prediction> {
        (0..dataset.len())
            .map(|i| Prediction {
                face: FaceId::Row(dataset.source_row(i)),
                usage: dataset.usage().map(|u| u[i]),
                truth: dataset.labels().map(|l| l[i]),
                predicted: self.predictions[i],
                probabilities: self.probabilities[i].clone(),
            })
            .collect()
    }

    /// The faces the model got wrong: (row, true class, predicted class).
    pub fn misclassified(&self, dataset: &Dataset) -> Vec<(usize, u8, u8)> {
        let labels = dataset.labels().unwrap_or_default();
        labels
            .iter()
            .zip(&self.predictions)
            .enumerate()
            .filter(|(_, (t, p))| t != p)
            .map(|(row, (&t, &p))| (row, t, p))
            .collect()
    }
}

fn in_order(batch_size: usize) -> BatchConfig {
    BatchConfig {
        batch_size,
        shuffle: false,
        ..Default::default()
    }
}

/// Evaluates `model` on `dataset` in inference mode (whatever mode `model` is in: a model
/// fresh from training scores without dropout).
///
/// With `adversarial`, the scaled adversarial loss is computed as NSL's `evaluate` does:
/// neighbors from the input gradient of the model in inference mode.
pub fn evaluate<M: Classifier>(
    model: &M,
    dataset: &Dataset,
    batch_size: usize,
    adversarial: Option<&AdvRegConfig>,
    device: &Device,
) -> Result<Evaluation, DataError> {
    let labels = dataset.require_labels("evaluation")?;
    let model = &model.valid();
    let mut confusion = ConfusionMatrix::new(dataset.classes().to_vec());
    let mut predictions = Vec::with_capacity(dataset.len());
    let mut probabilities = Vec::with_capacity(dataset.len());
    let (mut ce_sum, mut adv_sum) = (0.0, 0.0);
    for batch in dataset.batches(&in_order(batch_size), 0)? {
        let n = batch.len() as f64;
        let targets = labels_tensor(&batch.labels, device);
        let images = images_tensor(batch.images, device);
        let batch_labels = batch.labels;
        let logits = model.logits(images.clone());
        let mut losses = vec![cross_entropy(logits.clone(), targets.clone())];
        if let Some(config) = adversarial {
            let x_adv = adversarial_examples(model, &images, &targets, config, None);
            losses.push(cross_entropy(model.logits(x_adv), targets) * config.multiplier);
        }
        let values: Vec<f32> = Tensor::cat(losses, 0)
            .into_data()
            .try_to_vec()
            .expect("f32 losses");
        ce_sum += values[0] as f64 * n;
        adv_sum += values.get(1).copied().unwrap_or(0.0) as f64 * n;
        let probs: Vec<f32> = softmax(logits, 1)
            .into_data()
            .try_to_vec()
            .expect("f32 probabilities");
        for (k, row) in probs.chunks(dataset.classes().len()).enumerate() {
            let p = argmax(row);
            confusion.add(batch_labels[k] as usize, p as usize);
            predictions.push(p);
            probabilities.push(row.to_vec());
        }
    }
    let n = labels.len().max(1) as f64;
    let (ce, adv) = (ce_sum / n, adv_sum / n);
    Ok(Evaluation {
        metrics: Metrics {
            loss: ce + adv,
            categorical_crossentropy: ce,
            categorical_accuracy: confusion.accuracy(),
            scaled_adversarial_loss: adv,
            scaled_graph_loss: 0.0,
        },
        confusion,
        predictions,
        probabilities,
    })
}

/// An attack for robustness evaluation, bounded in the infinity norm on [0, 1] images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attack {
    /// One signed-gradient step of size `epsilon` (Goodfellow et al.).
    Fgsm { epsilon: f64 },
    /// `iterations` signed steps of `epsilon * 2.5 / iterations`, projected onto the ball.
    Pgd { epsilon: f64, iterations: usize },
}

impl Attack {
    fn config(self) -> AdvRegConfig {
        let (epsilon, iterations, step) = match self {
            Attack::Fgsm { epsilon } => (epsilon, 1, epsilon),
            Attack::Pgd {
                epsilon,
                iterations,
            } => (
                epsilon,
                iterations.max(1),
                epsilon * 2.5 / iterations.max(1) as f64,
            ),
        };
        AdvRegConfig::default()
            .adv_grad_norm(AdvNorm::Infinity)
            .adv_step_size(step)
            .pgd(iterations, Some(epsilon))
            .clip_values(Some(0.0), Some(1.0))
    }
}

/// Accuracy of `target` on adversarial faces made against `reference`, both in inference
/// mode. NSL's tutorials attack the base model and score both models on its examples.
pub fn accuracy_under_attack<T: Classifier, R: Classifier>(
    target: &T,
    reference: &R,
    dataset: &Dataset,
    attack: Attack,
    batch_size: usize,
    device: &Device,
) -> Result<f64, DataError> {
    let labels = dataset.require_labels("robustness evaluation")?;
    let (target, reference) = (&target.valid(), &reference.valid());
    let config = attack.config();
    let mut correct = 0usize;
    for batch in dataset.batches(&in_order(batch_size), 0)? {
        let targets = labels_tensor(&batch.labels, device);
        let images = images_tensor(batch.images, device);
        let batch_labels = batch.labels;
        let x_adv = adversarial_examples(reference, &images, &targets, &config, None);
        let hits: i64 = target
            .logits(x_adv)
            .argmax(1)
            .reshape([batch_labels.len()])
            .equal(targets)
            .int()
            .sum()
            .into_scalar();
        correct += hits as usize;
    }
    Ok(correct as f64 / labels.len().max(1) as f64)
}

/// Class probabilities of each face (rows of 48x48 bytes), with the model in inference mode.
pub fn predict_probabilities<M: Classifier>(
    model: &M,
    faces: &Dataset,
    device: &Device,
) -> Vec<Vec<f32>> {
    let model = &model.valid();
    let mut out = Vec::with_capacity(faces.len());
    let config = in_order(256);
    for batch in faces.batches(&config, 0).expect("batch size is positive") {
        let n = batch.len();
        let images = images_tensor(batch.images, device);
        let probs: Vec<f32> = softmax(model.logits(images), 1)
            .into_data()
            .try_to_vec()
            .expect("f32");
        let k = probs.len() / n.max(1);
        out.extend(probs.chunks(k).map(<[f32]>::to_vec));
    }
    out
}
