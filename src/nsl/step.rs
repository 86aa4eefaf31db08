//! One adversarially regularized training step, and adversarial examples for evaluation.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::config::AdvRegConfig;
use super::graph_config::GraphRegConfig;
use super::graph_loss::{regularized_output, scaled_graph_loss, Neighbors};
use super::perturb::{clip, random_start, step_from};

/// A Burn model that maps images `[N, C, H, W]` to class logits `[N, classes]`.
///
/// NSL wraps any Keras model; this is the Rust counterpart: implement it for any module.
pub trait Classifier: Module + Clone {
    fn logits(&self, images: Tensor<4>) -> Tensor<2>;
}

impl Classifier for crate::model::Cnn {
    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward(images)
    }
}

/// Batch mean of the cross-entropy of `logits` against class indices `labels`.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let log_probs = log_softmax(logits, 1);
    let picked: Tensor<2> = log_probs.gather(1, labels.unsqueeze_dim(1));
    picked.mean().neg()
}

/// Gradient of the mean cross-entropy with respect to the input, in the model's current mode.
fn input_gradient<M: Classifier>(model: &M, x: &Tensor<4>, labels: &Tensor<1, Int>) -> Tensor<4> {
    let leaf = x.clone().autodiff().require_grad();
    let loss = cross_entropy(model.logits(leaf.clone()), labels.clone());
    let mut grads = loss.backward();
    leaf.grad_remove(&mut grads)
        .expect("the input takes part in the loss")
}

/// Adversarial neighbors of `x0` (steps 2-5 of NSL's algorithm).
///
/// `first_gradient` is the gradient at `x0` when the caller already has it from the clean
/// pass (no random start); every further iteration runs a new pass of `model` in its
/// current mode. The result is detached: no gradient flows through the perturbation.
pub fn adversarial_examples<M: Classifier>(
    model: &M,
    x0: &Tensor<4>,
    labels: &Tensor<1, Int>,
    config: &AdvRegConfig,
    first_gradient: Option<Tensor<4>>,
) -> Tensor<4> {
    let x0 = x0.clone().inner();
    let mut xk = x0.clone();
    let mut gradient = first_gradient;
    if config.random_init {
        let epsilon = config.pgd_epsilon.unwrap_or(0.0);
        xk = clip(random_start(&x0, config.adv_grad_norm, epsilon), config);
        gradient = None;
    }
    for _ in 0..config.pgd_iterations {
        let g = match gradient.take() {
            Some(g) => g,
            None => input_gradient(model, &xk, labels),
        };
        xk = step_from(&x0, &xk, g.inner(), config);
    }
    xk
}

/// What one training step measured, read from the device once.
#[derive(Debug, Clone, PartialEq)]
pub struct StepStats {
    /// Mean cross-entropy on the clean batch.
    pub cross_entropy: f64,
    /// `multiplier` times the adversarial cross-entropy (0 without adversarial config).
    pub scaled_adversarial_loss: f64,
    /// `multiplier` times the graph loss (0 without a graph, or a batch without neighbours).
    pub scaled_graph_loss: f64,
    /// Predicted class of each clean face.
    pub predictions: Vec<u8>,
}

impl StepStats {
    /// The total loss NSL reports.
    pub fn loss(&self) -> f64 {
        self.cross_entropy + self.scaled_adversarial_loss + self.scaled_graph_loss
    }
}

/// The graph term of a step: its settings and the batch's neighbours.
#[derive(Debug, Clone)]
pub struct GraphTerm<'a> {
    pub config: &'a GraphRegConfig,
    pub neighbors: Neighbors,
}

/// Gradients of `L_lab + multiplier * L_adv + graph multiplier * L_graph` for one batch, as
/// NSL's `AdversarialRegularization` and `GraphRegularization` compute them, with the batch
/// statistics.
///
/// `images` and `labels` live on the model's autodiff device. The clean pass runs in
/// training mode and its backward gives both the parameter gradients of `L_lab` and the input
/// gradient that starts the attack; the adversarial pass also runs in training mode. With a
/// graph, the neighbours run in training mode too and the graph term joins the clean
/// backward, so the attack follows the gradient of `L_lab + L_graph` (NSL's estimator API
/// with graph regularization inside adversarial regularization).
pub fn train_step<M: Classifier>(
    model: &M,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    adversarial: Option<&AdvRegConfig>,
    graph: Option<GraphTerm<'_>>,
) -> (GradientsParams, StepStats) {
    let leaf = match adversarial {
        Some(config) if !config.random_init => images.clone().require_grad(),
        _ => images.clone(),
    };
    let logits = model.logits(leaf.clone());
    let clean_loss = cross_entropy(logits.clone(), labels.clone());
    let graph_loss = graph
        .filter(|term| term.config.multiplier > 0.0 && !term.neighbors.owners.is_empty())
        .map(|term| {
            let neighbours = model.logits(term.neighbors.images.clone());
            scaled_graph_loss(
                regularized_output(logits.clone(), term.config),
                regularized_output(neighbours, term.config),
                &term.neighbors,
                term.config,
            )
        });
    let mut grads = match &graph_loss {
        Some(graph_loss) => (clean_loss.clone() + graph_loss.clone()).backward(),
        None => clean_loss.backward(),
    };
    let predictions = logits.inner().argmax(1);

    let (grads, adversarial_loss) = match adversarial {
        None => (GradientsParams::from_grads(grads, model), None),
        Some(config) => {
            let first = if config.random_init {
                None
            } else {
                leaf.grad_remove(&mut grads)
            };
            let clean_grads = GradientsParams::from_grads(grads, model);
            let x_adv = adversarial_examples(model, &images, &labels, config, first);
            let scaled = cross_entropy(model.logits(x_adv.autodiff()), labels) * config.multiplier;
            let adv_grads = GradientsParams::from_grads(scaled.backward(), model);
            let mut total = GradientsAccumulator::new();
            total.accumulate(model, clean_grads);
            total.accumulate(model, adv_grads);
            (total.grads(), Some(scaled.inner()))
        }
    };

    // One read of every loss the step has: clean, then adversarial and graph when present.
    let (has_adversarial, has_graph) = (adversarial_loss.is_some(), graph_loss.is_some());
    let mut losses = vec![clean_loss.inner()];
    losses.extend(adversarial_loss);
    losses.extend(graph_loss.map(|loss| loss.inner()));
    let values: Vec<f32> = Tensor::cat(losses, 0)
        .into_data()
        .try_to_vec()
        .expect("f32 losses");
    let mut values = values.into_iter().map(f64::from);
    let cross_entropy = values.next().expect("the clean loss");
    let mut next_if = |present: bool| if present { values.next() } else { None };
    let scaled_adversarial_loss = next_if(has_adversarial).unwrap_or(0.0);
    let scaled_graph_loss = next_if(has_graph).unwrap_or(0.0);
    let predictions = predictions
        .into_data()
        .iter::<i64>()
        .map(|p| p as u8)
        .collect();
    let stats = StepStats {
        cross_entropy,
        scaled_adversarial_loss,
        scaled_graph_loss,
        predictions,
    };
    (grads, stats)
}
